"""--dbc-database-url: the models against a live database (#9). The drifted schemas are
built by running DDL that differs from the models: a column made nullable by a
migration, a missing column, a missing table."""
import os
import sqlite3
import uuid

import pytest

from tests.project_builder import run_flake8, write_project

MODELS = '''\
import datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = {"schema": SCHEMA}
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime.datetime]
    ended_on: Mapped[datetime.date]
    checked_in_at: Mapped[datetime.datetime]


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = {"schema": SCHEMA}
    id: Mapped[int] = mapped_column(primary_key=True)
'''

SERVICE = '''\
from app.models import Visit


def describe(visit: Visit):
    if visit.started_at is None:
        return "drifted: live again"
    if visit.ended_on is None:
        return "dead in the database too"
'''

DRIFTED_DDL = """
CREATE TABLE {prefix}visits (
    id INTEGER PRIMARY KEY,
    started_at TIMESTAMP,
    ended_on DATE NOT NULL
);
"""


def project(tmp_path, schema=None):
    return write_project(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": MODELS.replace("SCHEMA", repr(schema)),
        "app/services.py": SERVICE,
    })


def findings(result):
    return [line.split(" ", 2)[0] + " " + line.split(" ", 2)[1] for line in result.stdout.splitlines()]


EXPECTED = [
    "app/models.py:14:5: DBC301",
    "app/models.py:16:5: DBC302",
    "app/models.py:19:1: DBC302",
    "app/services.py:7:8: DBC101",
]


def test_sqlite_drifted_schema(tmp_path):
    root = project(tmp_path)
    connection = sqlite3.connect(os.path.join(root, "live.db"))
    connection.executescript(DRIFTED_DDL.format(prefix=""))
    connection.close()
    result = run_flake8(root, "--select=DBC", "--dbc-database-url=sqlite:///live.db", "app")
    assert sorted(findings(result)) == sorted(EXPECTED)  # flake8 5 orders files otherwise
    assert "DBC301 Visit.started_at is declared NOT NULL but the column visits.started_at in the database allows NULL" \
        in result.stdout
    assert "DBC302 Visit.checked_in_at maps the column visits.checked_in_at, which the database does not have" \
        in result.stdout
    assert "DBC302 Invoice maps the table invoices, which the database does not have" in result.stdout
    assert result.stderr == ""


def test_without_a_database_the_models_are_trusted(tmp_path):
    root = project(tmp_path)
    result = run_flake8(root, "--select=DBC", "app")
    assert findings(result) == ["app/services.py:5:8: DBC101", "app/services.py:7:8: DBC101"]


@pytest.mark.parametrize("where", ["environment", "config"])
def test_url_from_the_environment_and_the_configuration(tmp_path, where):
    root = project(tmp_path)
    connection = sqlite3.connect(os.path.join(root, "live.db"))
    connection.executescript(DRIFTED_DDL.format(prefix=""))
    connection.close()
    if where == "config":
        write_project(root, {"setup.cfg": "[flake8]\ndbc-database-url = sqlite:///live.db\n"})
        result = run_flake8(root, "--select=DBC", "app")
    else:
        result = run_flake8(root, "--select=DBC", "app", env={"DBC_DATABASE_URL": "sqlite:///live.db"})
    assert sorted(findings(result)) == sorted(EXPECTED)  # flake8 5 orders files otherwise


@pytest.mark.parametrize(
    "url, reason",
    [
        ("postgresql+psycopg2://dbc:s3cret-pw@127.0.0.1:1/nothing", "OperationalError"),
        ("nosuchdialect://dbc:s3cret-pw@localhost/x", "NoSuchModuleError"),
        ("sqlite:///does/not/exist.db", "OperationalError"),
    ],
)
def test_unreadable_database_gives_one_line_and_the_static_result(tmp_path, url, reason):
    root = project(tmp_path)
    result = run_flake8(root, "--select=DBC", "--jobs=2", f"--dbc-database-url={url}", "app")
    assert findings(result) == ["app/services.py:5:8: DBC101", "app/services.py:7:8: DBC101"]
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("flake8-dbconstraints: could not read the database at ")
    assert reason in lines[0] and "reporting from the models alone" in lines[0]
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not os.path.exists(os.path.join(root, "does"))


def test_not_a_url_is_a_configuration_error(tmp_path):
    root = project(tmp_path)
    result = run_flake8(root, "--select=DBC", "--dbc-database-url=just-a-name", "app")
    assert result.returncode == 2
    assert "--dbc-database-url: expected a SQLAlchemy URL" in result.stderr


def test_postgresql_drifted_schema(tmp_path, postgres_url):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    schema = f"dbc_drift_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        ddl = DRIFTED_DDL.format(prefix=f"{schema}.").replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY")
        connection.exec_driver_sql(ddl)
    try:
        root = project(tmp_path, schema)
        result = run_flake8(root, "--select=DBC", f"--dbc-database-url={postgres_url}", "app")
        assert sorted(findings(result)) == sorted(EXPECTED)  # flake8 5 orders files otherwise
        assert f"the column {schema}.visits.started_at in the database allows NULL" in result.stdout
        assert f"DBC302 Invoice maps the table {schema}.invoices" in result.stdout
        assert "dbc:dbc@" not in result.stdout + result.stderr
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def test_postgresql_wrong_password_is_one_line(tmp_path, postgres_url):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = sqlalchemy.engine.make_url(postgres_url).set(password="wrong-secret-pw")
    root = project(tmp_path)
    result = run_flake8(root, "--select=DBC", f"--dbc-database-url={url.render_as_string(hide_password=False)}", "app")
    assert len(result.stderr.splitlines()) == 1
    assert "wrong-secret-pw" not in result.stderr + result.stdout
    assert findings(result) == ["app/services.py:5:8: DBC101", "app/services.py:7:8: DBC101"]


def test_catalogue_schemas_are_not_application_schemas():
    from flake8_dbconstraints.database import user_schemas

    assert user_schemas(["public", "information_schema", "pg_catalog", "pg_toast", "billing"]) == ["public", "billing"]


def test_unparseable_url_is_masked_entirely(capsys):
    from flake8_dbconstraints import database

    url = "postgresql://user:hunter2@host:notaport/db"
    assert database.safe_url(url) == "<an unreadable database URL>"
    assert database._password(url) is None
    database.reflect.cache_clear()
    assert database.reflect(url) is None
    err = capsys.readouterr().err
    assert "hunter2" not in err and "<an unreadable database URL>" in err


def test_in_memory_sqlite_is_read_as_an_empty_database():
    from flake8_dbconstraints import database

    database.reflect.cache_clear()
    schema = database.reflect("sqlite://")
    assert schema.tables == {} and schema.default_schema == "main"
    assert schema.qualified("visits", None) == "visits"


def test_primary_keys_of_loaded_rows_stay_reported_with_a_database(tmp_path):
    root = project(tmp_path)
    write_project(root, {"app/loaded.py": (
        "from app.models import Visit\n\n\ndef f(session):\n    visit = session.get(Visit, 1)\n"
        "    return visit.id is None\n"
    )})
    connection = sqlite3.connect(os.path.join(root, "live.db"))
    connection.executescript(DRIFTED_DDL.format(prefix=""))
    connection.close()
    result = run_flake8(root, "--select=DBC101", "--dbc-database-url=sqlite:///live.db", "app/loaded.py")
    assert findings(result) == ["app/loaded.py:6:12: DBC101"]
