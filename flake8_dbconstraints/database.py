"""The live database, when ``--dbc-database-url`` names one: the model is a claim, the
database the truth.

The schema is reflected with SQLAlchemy's own ``inspect(engine)`` once per run, in
flake8's main process while options are parsed, so forked workers share it (tables
and column nullability, across schemas), with a short connect timeout. A database
that cannot be reached, a wrong URL or missing credentials give one line on stderr
and the run goes on with the static result; the password never appears in any
output.
"""
from __future__ import annotations

import dataclasses
import functools
import sys
from typing import Mapping, Optional

from flake8_dbconstraints.safety import LOG

CONNECT_TIMEOUT_SECONDS = 5
SYSTEM_SCHEMAS = frozenset({"information_schema"})


@dataclasses.dataclass(frozen=True)
class Schema:
    default_schema: Optional[str]
    # (schema, table) -> {column name: nullable}
    tables: Mapping[tuple, Mapping[str, bool]]

    def table(self, name: str, schema: Optional[str]) -> Optional[Mapping[str, bool]]:
        return self.tables.get((schema or self.default_schema, name))

    def qualified(self, name: str, schema: Optional[str]) -> str:
        return f"{schema}.{name}" if schema else name


def safe_url(url: str) -> str:
    """The URL as it may be shown: the password masked."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<an unreadable database URL>"


@functools.lru_cache(maxsize=4)
def reflect(url: str) -> Optional[Schema]:
    """The database's tables and columns, or None (said once on stderr) when it fails."""
    try:
        return _reflect(url)
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else ""
        password = _password(url)
        if password:
            message = message.replace(password, "***")
        line = (
            f"flake8-dbconstraints: could not read the database at {safe_url(url)} "
            f"({type(exc).__name__}: {message[:200]}); reporting from the models alone"
        )
        # flake8's logger prints only under -v; this must reach the user once.
        print(line, file=sys.stderr)
        LOG.info(line)
        return None


def _password(url: str) -> Optional[str]:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password
    except Exception:
        return None


def user_schemas(names: list) -> list:
    """Schemas that hold the application's tables, not the database's catalogue."""
    return [name for name in names if name not in SYSTEM_SCHEMAS and not name.startswith("pg_")]


def _reflect(url: str) -> Schema:
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    parsed = sqlalchemy.engine.make_url(url)
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    elif parsed.get_backend_name() == "sqlite":
        connect_args["timeout"] = CONNECT_TIMEOUT_SECONDS
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            # Read only: never create a database file that does not exist.
            parsed = parsed.set(database=f"file:{parsed.database}", query={**parsed.query, "mode": "ro", "uri": "true"})
    engine = sqlalchemy.create_engine(parsed, connect_args=connect_args, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            inspector = sqlalchemy.inspect(connection)
            tables = {}
            for schema in user_schemas(inspector.get_schema_names()):
                for table in inspector.get_table_names(schema=schema):
                    columns = inspector.get_columns(table, schema=schema)
                    tables[(schema, table)] = {column["name"]: bool(column["nullable"]) for column in columns}
            return Schema(inspector.default_schema_name, tables)
    finally:
        engine.dispose()
