"""Helpers for the database tests: what SQLAlchemy computes about the fixture models, sample
rows for them, and proofs run against a real database.

The checker reads models statically; these helpers ask SQLAlchemy itself
(``sqlalchemy.inspect``) and the database, so the fixture models' claims and the rules
of SEMANTICS.md are checked independently of the plugin. They work on SQLAlchemy 1.4
and 2.x.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import importlib
import types
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy import exc, orm
from sqlalchemy.dialects import postgresql, sqlite

SQLALCHEMY_2 = int(sa.__version__.split(".")[0]) >= 2

FIXTURE_PACKAGE = "tests.fixtures.models"
# Every fixture module whose tables SQLite can create, in a stable order.
SQLITE_MODULES = (
    "classic",
    "mapped",
    "registry_style",
    "flask_models",
    "sqlmodel_models",
    "mixins",
    "partial_column",
    "json_models",
    "decorated_types",
    "augmented_base",
    "active_record",
    "constructors",
)
# Modules built on 2.0-only APIs (DeclarativeBase, Mapped, SQLModel).
MODULES_NEEDING_SQLALCHEMY_2 = frozenset({"mapped", "sqlmodel_models", "mixins"})

ALWAYS_TRUTHY = "always truthy"
CAN_BE_FALSY = "can be falsy"
JSON_LIKE = "json"
UNKNOWN = "unknown"

_UUID_TYPE = getattr(sa, "Uuid", None)  # added in SQLAlchemy 2.0


@dataclasses.dataclass(frozen=True)
class ColumnFacts:
    """What SQLAlchemy says about one mapped column."""

    nullable: bool
    type_name: str
    name: str  # the database column name; the attribute key may differ


# ---------------------------------------------------------------------------
# Fixture modules and models


def skip_reason(module_name: str) -> Optional[str]:
    """Why ``module_name`` cannot be imported here, or None when it can."""
    if module_name in MODULES_NEEDING_SQLALCHEMY_2 and not SQLALCHEMY_2:
        return f"{module_name}.py needs SQLAlchemy 2 (running {sa.__version__})"
    return None


def import_fixture(module_name: str) -> types.ModuleType:
    return importlib.import_module(f"{FIXTURE_PACKAGE}.{module_name}")


def find_models(module: types.ModuleType) -> List[type]:
    """The mapped classes a fixture module defines, in definition order."""
    models = []
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == module.__name__:
            if isinstance(sa.inspect(value, raiseerr=False), orm.Mapper):
                models.append(value)
    return models


def find_metadata(module: types.ModuleType) -> sa.MetaData:
    """The one ``MetaData`` holding a fixture module's tables."""
    tables = [sa.inspect(model).local_table for model in find_models(module)]
    found = {id(table.metadata): table.metadata for table in tables}
    assert len(found) == 1, f"{module.__name__} spreads its tables over {len(found)} MetaData"
    return next(iter(found.values()))


def find_mapped_columns(model: type) -> Dict[str, sa.Column]:
    """Attribute key -> ``Column`` for every column attribute of ``model``.

    ``column_property`` expressions and ``query_expression()`` are skipped: they are
    not columns (SEMANTICS.md section 1). A joined-inheritance primary key maps two
    columns to one key; the first one, the subclass table's, is returned.
    """
    columns = {}
    for prop in sa.inspect(model).column_attrs:
        if isinstance(prop.columns[0], sa.Column):
            columns[prop.key] = prop.columns[0]
    return columns


def column_facts(model: type) -> Dict[str, ColumnFacts]:
    """Attribute key -> ``ColumnFacts`` computed by ``sqlalchemy.inspect(model).columns``."""
    return {
        key: ColumnFacts(
            nullable=bool(column.nullable),
            type_name=type(column.type).__name__,
            name=column.name,
        )
        for key, column in find_mapped_columns(model).items()
    }


def _iter_attribute_columns(model: type) -> Iterator[Tuple[str, sa.Column]]:
    """(key, column) for every column behind every column attribute, joined keys included."""
    for prop in sa.inspect(model).column_attrs:
        for column in prop.columns:
            if isinstance(column, sa.Column):
                yield prop.key, column


def is_insertable(model: type) -> bool:
    """Whether the ORM can insert ``model``: it maps every NOT NULL column of its tables.

    Not so for a single-table-inheritance sibling when another subclass declared a
    NOT NULL column in the shared table (SEMANTICS.md section 1).
    """
    mapped = {id(column) for _, column in _iter_attribute_columns(model)}
    return all(
        id(column) in mapped
        for table in sa.inspect(model).tables
        for column in table.columns
        if not column.nullable
    )


def iter_not_null_columns(
    module: types.ModuleType, insertable_only: bool = False
) -> Iterator[Tuple[type, str, sa.Column]]:
    """(model, key, column) for each distinct NOT NULL column; the first model mapping it
    wins."""
    seen = set()
    for model in find_models(module):
        if insertable_only and not is_insertable(model):
            continue
        for key, column in _iter_attribute_columns(model):
            if not column.nullable and id(column) not in seen:
                seen.add(id(column))
                yield model, key, column


# ---------------------------------------------------------------------------
# Types


def _is_decorator(column_type: sa.types.TypeEngine) -> bool:
    # PickleType is built on TypeDecorator but reads its own values, not its impl's.
    return isinstance(column_type, sa.types.TypeDecorator) and not isinstance(
        column_type, sa.PickleType
    )


def impl_type(column_type: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """The innermost ``impl`` of a TypeDecorator other than PickleType (else the type itself)."""
    while _is_decorator(column_type):
        column_type = column_type.impl
    return column_type


def _effective_type(column_type: sa.types.TypeEngine) -> Optional[sa.types.TypeEngine]:
    """The type whose values a column reads, or None when a TypeDecorator may change them."""
    while _is_decorator(column_type):
        overrides_result = (
            type(column_type).process_result_value
            is not sa.types.TypeDecorator.process_result_value
        )
        if overrides_result:
            return None
        column_type = column_type.impl
    return column_type


def _needs_aware_datetime(column: sa.Column) -> bool:
    """A TypeDecorator over ``DateTime(timezone=True)``, like SQLModel's ``UTCDateTime``,
    may refuse naive datetimes."""
    impl = impl_type(column.type)
    return impl is not column.type and isinstance(impl, sa.DateTime) and impl.timezone


def _datetime(column: sa.Column, *args: int) -> datetime.datetime:
    tzinfo = datetime.timezone.utc if _needs_aware_datetime(column) else None
    return datetime.datetime(*args, tzinfo=tzinfo)


def is_plain_enum_class(enum_class: Any) -> bool:
    """A plain ``Enum``: no mixed-in type, no ``__bool__``/``__len__``; every member is truthy."""
    if not (isinstance(enum_class, type) and issubclass(enum_class, enum.Enum)):
        return False
    mixins = [c for c in enum_class.__mro__ if not issubclass(c, enum.Enum) and c is not object]
    defines_truth = any(
        "__bool__" in vars(c) or "__len__" in vars(c)
        for c in enum_class.__mro__
        if issubclass(c, enum.Enum) and c not in (enum.Enum, getattr(enum, "ReprEnum", enum.Enum))
    )
    return not mixins and not defines_truth


def classify_truthiness(column: sa.Column) -> str:
    """Which truthiness a stored value of ``column`` can have (SEMANTICS.md section 2).

    An independent oracle for the tests, not the plugin's code: ``ALWAYS_TRUTHY``,
    ``CAN_BE_FALSY``, ``JSON_LIKE`` (can read None and falsy values) or ``UNKNOWN``.
    """
    column_type = _effective_type(column.type)
    if column_type is None:
        return UNKNOWN
    if isinstance(column_type, sa.JSON):
        return JSON_LIKE
    if isinstance(column_type, (sa.DateTime, sa.Date, sa.Time)):
        return ALWAYS_TRUTHY
    if _UUID_TYPE is not None and isinstance(column_type, _UUID_TYPE):
        return ALWAYS_TRUTHY if column_type.as_uuid else UNKNOWN
    if isinstance(column_type, sa.Enum):
        if column_type.enum_class is None:
            return CAN_BE_FALSY if "" in column_type.enums else UNKNOWN
        return ALWAYS_TRUTHY if is_plain_enum_class(column_type.enum_class) else CAN_BE_FALSY
    if isinstance(
        column_type,
        (sa.Integer, sa.Numeric, sa.Boolean, sa.String, sa.LargeBinary, sa.Interval,
         sa.PickleType, sa.ARRAY, postgresql.HSTORE),
    ):
        return CAN_BE_FALSY
    return UNKNOWN


def _python_default(column: sa.Column) -> Any:
    """The value a Python-side ``default=`` gives, or None."""
    default = column.default
    if not (getattr(default, "is_scalar", False) or getattr(default, "is_callable", False)):
        return None  # no default, a Sequence, or an SQL expression
    # ColumnDefault wraps a callable so that it takes the execution context.
    return default.arg(None) if default.is_callable else default.arg


def sample_value(column: sa.Column) -> Any:
    """An ordinary, truthy value ``column`` accepts (``info["sample_value"]`` if it says)."""
    if "sample_value" in column.info:
        return column.info["sample_value"]
    column_type = impl_type(column.type)
    if isinstance(column_type, sa.Enum):
        if column_type.enum_class is not None:
            return list(column_type.enum_class)[-1]
        return column_type.enums[-1]
    if _UUID_TYPE is not None and isinstance(column_type, _UUID_TYPE):
        value = uuid.UUID("12345678-1234-5678-1234-567812345678")
        return value if column_type.as_uuid else str(value)
    if isinstance(column_type, postgresql.HSTORE):
        return {"unit": "mmHg"}
    if isinstance(column_type, (sa.JSON, sa.PickleType)):
        # A MutableList column refuses a dict: follow the container its default makes.
        return [1] if isinstance(_python_default(column), list) else {"k": 1}
    if isinstance(column_type, sa.ARRAY):
        return [1]
    if isinstance(column_type, sa.Boolean):
        return True
    if isinstance(column_type, sa.Integer):
        return 1
    if isinstance(column_type, sa.Numeric):
        return decimal.Decimal("12.50")
    if isinstance(column_type, sa.DateTime):
        return _datetime(column, 2024, 5, 17, 9, 30)
    if isinstance(column_type, sa.Date):
        return datetime.date(2024, 5, 17)
    if isinstance(column_type, sa.Time):
        return datetime.time(9, 30)
    if isinstance(column_type, sa.String):
        return "x"
    raise NotImplementedError(f"no sample value for {column!r} of type {column.type!r}")


def extreme_values(column: sa.Column) -> List[Any]:
    """Edge values of an always-truthy column: the smallest, midnight, nil UUID, every member."""
    column_type = impl_type(column.type)
    if isinstance(column_type, sa.DateTime):
        return [_datetime(column, 1, 1, 1), _datetime(column, 9999, 12, 31, 23, 59, 59)]
    if isinstance(column_type, sa.Date):
        return [datetime.date(1, 1, 1)]
    if isinstance(column_type, sa.Time):
        return [datetime.time(0, 0)]
    if _UUID_TYPE is not None and isinstance(column_type, _UUID_TYPE):
        return [uuid.UUID(int=0)]
    if isinstance(column_type, sa.Enum):
        return list(column_type.enum_class)
    raise NotImplementedError(f"no extreme values for {column!r}")


def falsy_value(column: sa.Column) -> Any:
    """A falsy value a can-be-falsy column stores (0, "", False, Decimal 0, a falsy member)."""
    column_type = impl_type(column.type)
    if isinstance(column_type, sa.Enum):
        if column_type.enum_class is None:
            return ""
        return next(member for member in column_type.enum_class if not member)
    if isinstance(column_type, sa.Boolean):
        return False
    if isinstance(column_type, sa.Integer):
        return 0
    if isinstance(column_type, sa.Numeric):
        return decimal.Decimal("0")
    if isinstance(column_type, sa.String):
        return ""
    if isinstance(column_type, (sa.PickleType, postgresql.HSTORE)):
        return {}
    if isinstance(column_type, sa.ARRAY):
        return []
    raise NotImplementedError(f"no falsy value for {column!r}")


def is_json_like(column: sa.Column) -> bool:
    """JSON, JSONB, or a TypeDecorator over them: a Python None is stored as JSON ``null``."""
    return isinstance(impl_type(column.type), sa.JSON)


def _is_sole_primary_key(column: sa.Column) -> bool:
    primary_key = list(column.table.primary_key.columns)
    return len(primary_key) == 1 and primary_key[0] is column


def is_sqlite_rowid_alias(column: sa.Column) -> bool:
    """``INTEGER PRIMARY KEY`` on SQLite: a NULL there is replaced by a new rowid."""
    if not _is_sole_primary_key(column):
        return False
    return column.type.compile(dialect=sqlite.dialect()) == "INTEGER"


# ---------------------------------------------------------------------------
# Rows


def create_sqlite_engine(module: types.ModuleType) -> sa.engine.Engine:
    """A fresh in-memory SQLite database holding ``module``'s tables."""
    engine = sa.create_engine("sqlite://")
    find_metadata(module).create_all(engine)
    return engine


def _needs_sample(column: sa.Column, discriminator: Optional[sa.Column] = None) -> bool:
    if column is discriminator:
        return False  # the mapper sets the polymorphic identity itself
    # An integer primary key alone in its table is generated (or copied from the parent
    # row in joined inheritance); composite keys need values.
    return not (_is_sole_primary_key(column) and isinstance(column.type, sa.Integer))


def build(model: type, **overrides: Any) -> Any:
    """A new ``model`` instance with a sample value for every column, then ``overrides``."""
    discriminator = sa.inspect(model).polymorphic_on
    values = {
        key: sample_value(column)
        for key, column in find_mapped_columns(model).items()
        if _needs_sample(column, discriminator)
    }
    values.update(overrides)
    return model(**values)


def insert_core_row(engine: sa.engine.Engine, column: sa.Column, value: Any) -> None:
    """Insert one row into ``column.table`` with a Core INSERT naming every column.

    ``column`` gets ``value`` as given, so an explicit None reaches the database instead
    of being left out for a default to fire, as the ORM would (SEMANTICS.md section 3).
    """
    table = column.table
    # The private name works on 1.4 too (2.0 adds Table.autoincrement_column).
    generated = table._autoincrement_column
    values = {c: sample_value(c) for c in table.columns if c is not generated}
    values[column] = value
    with engine.begin() as connection:
        connection.execute(table.insert().values(values))


def sql_null_for(column: sa.Column) -> Any:
    """What makes a Core INSERT send SQL NULL: None, except on JSON where None means ``null``."""
    return sa.null() if is_json_like(column) else None


def assert_null_rejected(engine: sa.engine.Engine, column: sa.Column) -> None:
    """Inserting SQL NULL into ``column`` raises ``IntegrityError``."""
    try:
        insert_core_row(engine, column, sql_null_for(column))
    except exc.IntegrityError:
        return
    raise AssertionError(f"{column.table.name}.{column.name}: the database accepted NULL")


def store(engine: sa.engine.Engine, obj: Any) -> Any:
    """INSERT ``obj`` through the ORM and return its identity."""
    with orm.Session(engine) as session:
        session.add(obj)
        session.commit()
        return sa.inspect(obj).identity


def load(engine: sa.engine.Engine, model: type, identity: Any, attr: str) -> Any:
    """``attr`` of the stored row, read in a new Session (nothing cached)."""
    with orm.Session(engine) as session:
        obj = session.get(model, identity)
        assert obj is not None, f"{model.__name__} {identity} was not stored"
        return getattr(obj, attr)


def stored_value(engine: sa.engine.Engine, model: type, attr: str, value: Any) -> Any:
    """Store a ``model`` row whose ``attr`` is ``value``; read ``attr`` back in a new Session."""
    identity = store(engine, build(model, **{attr: value}))
    return load(engine, model, identity, attr)


# ---------------------------------------------------------------------------
# Changes to JSON-like values (SEMANTICS.md section 6)


ChangeFunction = Callable[[orm.Session, Any], None]


@dataclasses.dataclass(frozen=True)
class ChangeCase:
    """One way of changing ``model.attr``: ``change(session, obj)`` makes ``before`` ``after``."""

    change: ChangeFunction
    model: type
    attr: str
    before: Any
    after: Any

    @property
    def name(self) -> str:
        return self.change.__name__


class ChangeCases:
    """Collects change functions, each registered with a decorator as lost or saved."""

    def __init__(self) -> None:
        self.lost: List[ChangeCase] = []
        self.saved: List[ChangeCase] = []

    def _register(self, into: List[ChangeCase], model: type, attr: str, before: Any, after: Any):
        def register(change: ChangeFunction) -> ChangeFunction:
            into.append(ChangeCase(change, model, attr, before, after))
            return change

        return register

    def lost_change(self, model: type, attr: str, before: Any, after: Any):
        return self._register(self.lost, model, attr, before, after)

    def saved_change(self, model: type, attr: str, before: Any, after: Any):
        return self._register(self.saved, model, attr, before, after)


LOADED = "loaded"  # persistent, read from the database in this Session
PENDING = "pending"  # added to the Session, INSERT not flushed yet
FLUSHED = "flushed"  # pending, then flushed: its INSERT already went out


def apply_change(engine: sa.engine.Engine, case: ChangeCase, state: str = LOADED) -> Any:
    """Apply ``case`` to an object in ``state``, commit, and return what a new Session reads.

    Re-reading in a new Session matters: the Session that made a lost change may
    still show it (SEMANTICS.md section 6).
    """
    obj = build(case.model, **{case.attr: copy.deepcopy(case.before)})
    if state == LOADED:
        identity = store(engine, obj)
    with orm.Session(engine) as session:
        if state == LOADED:
            obj = session.get(case.model, identity)
        else:
            session.add(obj)
            if state == FLUSHED:
                session.flush()
        case.change(session, obj)
        assert getattr(obj, case.attr) == case.after, f"{case.name} changed nothing in Python"
        session.commit()
        identity = sa.inspect(obj).identity
    return load(engine, case.model, identity, case.attr)


class SubmittedForm(dict):
    """Form data as a web framework hands it to WTForms (``getlist`` per field), for
    the tests that run WTForms' ``populate_obj`` on a stored row."""

    def getlist(self, key: str) -> list:
        return [self[key]] if key in self else []
