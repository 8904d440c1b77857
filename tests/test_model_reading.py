"""How model declarations are read: every declaration style, the nullability rules of
SEMANTICS.md section 1 and the type rules of section 2.

Most cases write a small project in a temporary directory: ``app/models.py`` holds the
declarations under test and ``app/probe.py`` loads a ``Doc`` with ``session.get`` and
uses one column three ways: a truthiness test (DBC100), a None comparison (DBC101) and
an in-place item assignment (DBC200). What the plugin reports there is what it read:

* ``TRUTHY``: NOT NULL, and every value of the type is truthy (DBC100 and DBC101);
* ``NEVER_NONE``: NOT NULL, but the type has falsy values (DBC101 only);
* ``UNTRACKED``: a plain JSON-like type, which may still read None (DBC200 only);
* ``NEVER_NONE_UNTRACKED``: ``ARRAY``, ``PickleType``, ``HSTORE`` (DBC101 and DBC200);
* ``SILENT``: nullable, not a column, or unknown.

Facts the probe cannot show (which keys are columns at all, the order in which
inherited declarations win) are read from the model registry directly.
"""
import ast
import os
import re
import textwrap

import pytest

from flake8_dbconstraints.names import ClassRef
from flake8_dbconstraints.plugin import DBConstraintsChecker
from flake8_dbconstraints.project import clear_caches, registry_for
from flake8_dbconstraints.settings import Settings, build_settings
from tests.project_builder import write_project

TRUTHY = ["DBC100", "DBC101"]
NEVER_NONE = ["DBC101"]
UNTRACKED = ["DBC200"]
NEVER_NONE_UNTRACKED = ["DBC101", "DBC200"]
SILENT = []

HEADER = '''\
import datetime
import decimal
import enum
import ipaddress
import uuid
from functools import partial
from typing import Any, ClassVar, Dict, List, NewType, Optional, Union

import sqlalchemy as sa
from sqlalchemy import (
    ARRAY, JSON, CheckConstraint, Column, Date, DateTime, Enum, ForeignKey, Index, Integer,
    Interval, LargeBinary, Numeric, PickleType, PrimaryKeyConstraint, String, Table, Time,
    TypeDecorator, UniqueConstraint, Uuid,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import (
    DeclarativeBase, Mapped, column_property, declared_attr, deferred, mapped_column,
    query_expression, relationship,
)
from sqlalchemy.types import NullType, UserDefinedType
from typing_extensions import Annotated

FLAG = False
'''

PROBE = '''\
from sqlalchemy.orm import Session

from app.models import {model}


def truthiness(session: Session):
    row = session.get({model}, 1)
    if row.{column}:
        pass


def none_comparison(session: Session):
    row = session.get({model}, 1)
    return row.{column} is None


def in_place(session: Session):
    row = session.get({model}, 1)
    row.{column}["k"] = 1
'''


@pytest.fixture(scope="module", autouse=True)
def fresh_caches():
    """Forget what other test modules taught this process, and what this one taught it.

    Not cleared per test: ``clear_caches()`` costs about a second (astroid's manager),
    and every cache it empties is keyed by absolute path and file stamp (or by roots
    and settings), while every test writes its own fresh directory below.
    """
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return str(tmp_path)


def doc(body: str, prelude: str = "", id_column: bool = True) -> str:
    """A models module: the shared imports, a ``DeclarativeBase``, ``prelude`` and a
    ``Doc`` model whose class body is ``body``."""
    lines = ["class Doc(Base):", '    __tablename__ = "doc"']
    if id_column:
        lines.append("    id: Mapped[int] = mapped_column(primary_key=True)")
    lines.append(textwrap.indent(textwrap.dedent(body).strip("\n"), "    "))
    return (
        HEADER + "\n\nclass Base(DeclarativeBase):\n    pass\n\n\n"
        + textwrap.dedent(prelude) + "\n\n" + "\n".join(lines) + "\n"
    )


def not_null_column(type_expr: str, prelude: str = "") -> str:
    """A models module whose ``Doc.col`` is ``Column(<type_expr>, nullable=False)``."""
    return doc(f"col = Column({type_expr}, nullable=False)", prelude=prelude)


def module(source: str) -> str:
    """A models module: the shared imports followed by ``source``."""
    return HEADER + "\n\n" + textwrap.dedent(source)


def run_check(root: str, relative: str, **settings) -> list:
    """(line, message) of every finding on one file of the project."""
    with open(os.path.join(root, relative), encoding="utf-8") as handle:
        source = handle.read()
    checker = DBConstraintsChecker(ast.parse(source), relative, source.splitlines(keepends=True))
    checker.settings = build_settings(no_cache=True, **settings)
    return [(line, message) for line, _col, message, _type in checker.run()]


def probe(root: str, models: str, model: str = "Doc", column: str = "col", extra_files=None,
          **settings) -> list:
    """The codes the plugin reports when ``model.column`` of a loaded row is tested."""
    ast.parse(models)  # a broken models module would make every case silent
    files = {
        "app/__init__.py": "",
        "app/models.py": models,
        "app/probe.py": PROBE.format(model=model, column=column),
    }
    files.update(extra_files or {})
    write_project(root, files)
    return sorted({message.split(" ")[0] for _line, message in run_check(root, "app/probe.py", **settings)})


def read_model(root: str, models: str, name: str = "Doc"):
    """The registry's ``ModelInfo`` for class ``name`` of ``models`` (None: not a model)."""
    write_project(root, {"app/__init__.py": "", "app/models.py": models})
    registry = registry_for((root,), Settings())
    loaded = registry.loader.load("app.models")
    node = next(n for n in loaded.tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    return registry.model_for_class(ClassRef(loaded, node))


# -- SEMANTICS 1: Column / db.Column ---------------------------------------------------


@pytest.mark.parametrize("models, expected", [
    pytest.param(doc("col = Column(DateTime)"), SILENT, id="column-is-nullable-by-default"),
    pytest.param(doc("col = Column(DateTime, nullable=False)"), TRUTHY, id="column-nullable-false"),
    pytest.param(doc("col = sa.Column(sa.DateTime, nullable=False)"), TRUTHY, id="column-through-module-alias"),
    pytest.param(doc("col = Column(DateTime, nullable=True)"), SILENT, id="column-nullable-true"),
    pytest.param(doc("col = Column(DateTime, unique=True, index=True, default=datetime.datetime.now)"),
                 SILENT, id="unique-index-default-change-nothing"),
    pytest.param(doc("col = Column(DateTime, server_default=sa.func.now())"), SILENT,
                 id="server-default-changes-nothing"),
    pytest.param(doc("col = Column(DateTime, nullable=FLAG)"), SILENT, id="non-literal-nullable-is-unknown"),
    pytest.param(doc("col: Mapped[datetime.datetime] = Column(DateTime)"), SILENT,
                 id="mapped-annotation-ignored-for-column"),
    pytest.param(doc("col = Column('started_at', DateTime, nullable=False)"), TRUTHY,
                 id="renamed-column-found-by-key"),
    pytest.param(doc("col = Column(type_=DateTime, nullable=False)"), TRUTHY, id="type-as-keyword"),
    pytest.param(doc("col = deferred(Column(DateTime, nullable=False))"), TRUTHY, id="deferred-column"),
    pytest.param(doc("col = sa.orm.deferred(Column(DateTime))"), SILENT, id="deferred-nullable-column"),
    pytest.param(doc('''
        __table_args__ = (CheckConstraint("col IS NOT NULL"),)
        col = Column(DateTime)
    '''), SILENT, id="table-check-constraint-leaves-nullable"),
])
def test_classic_column_nullability(project, models, expected):
    assert probe(project, models) == expected


def test_flask_sqlalchemy_db_column_follows_column_rules(project):
    models = module('''
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()


        class Doc(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            col = db.Column(db.DateTime, nullable=False)
            note = db.Column(db.DateTime)
    ''')
    assert probe(project, models) == TRUTHY
    assert probe(project, models, column="note") == SILENT


# -- SEMANTICS 1: primary keys ---------------------------------------------------------


@pytest.mark.parametrize("models, expected", [
    pytest.param(doc("col = Column(DateTime, primary_key=True)"), TRUTHY, id="column-primary-key"),
    pytest.param(doc("col = Column(DateTime, primary_key=True, nullable=True)"), SILENT,
                 id="explicit-nullable-wins-over-primary-key"),
    pytest.param(doc("col = Column(DateTime, primary_key=FLAG)"), SILENT, id="non-literal-primary-key-is-unknown"),
    pytest.param(doc('''
        __table_args__ = (PrimaryKeyConstraint("id", "col"),)
        id = Column(Integer)
        col = Column(DateTime)
    ''', id_column=False), TRUTHY, id="named-in-primary-key-constraint"),
    pytest.param(doc('''
        __table_args__ = (PrimaryKeyConstraint("id", "started_at"), {"comment": "composite"})
        id = Column(Integer)
        col = Column("started_at", DateTime)
    ''', id_column=False), TRUTHY, id="primary-key-constraint-names-the-db-name"),
    pytest.param(doc("col: Mapped[datetime.datetime] = mapped_column(primary_key=True)"), TRUTHY,
                 id="mapped-primary-key"),
    pytest.param(doc("col: Mapped[Optional[datetime.datetime]] = mapped_column(primary_key=True)"), SILENT,
                 id="optional-primary-key-is-nullable"),
    pytest.param(doc("col = mapped_column(DateTime, primary_key=True)"), TRUTHY,
                 id="unannotated-mapped-primary-key"),
    pytest.param(doc("col: Mapped[pk_stamp]", prelude='''
        pk_stamp = Annotated[datetime.datetime, mapped_column(primary_key=True)]
    '''), TRUTHY, id="primary-key-from-annotated-alias"),
    pytest.param(doc("col: Mapped[pk_stamp]", prelude='''
        pk_stamp = Annotated[datetime.datetime, "surrogate key", mapped_column(primary_key=True)]
    '''), TRUTHY, id="primary-key-after-other-annotated-metadata"),
    pytest.param(doc("col: Mapped[stamp] = mapped_column(primary_key=True)", prelude='''
        stamp = Annotated[datetime.datetime, mapped_column(DateTime(timezone=True))]
    '''), TRUTHY, id="call-primary-key-with-annotated-alias"),
])
def test_primary_key_nullability(project, models, expected):
    assert probe(project, models) == expected


def test_primary_key_none_check_needs_a_loaded_row(project):
    """``obj.id is None`` is the "is it new?" idiom (SEMANTICS 3): only a row known to
    come from a query is reported, not an annotated parameter."""
    models = doc("col: Mapped[datetime.datetime] = mapped_column(primary_key=True)")
    write_project(project, {"app/__init__.py": "", "app/models.py": models, "app/use.py": '''\
from app.models import Doc


def is_new(doc: Doc) -> bool:
    return doc.col is None
'''})
    assert run_check(project, "app/use.py") == []


# -- SEMANTICS 1: Mapped / mapped_column ----------------------------------------------


@pytest.mark.parametrize("models, expected", [
    pytest.param(doc("col: Mapped[datetime.datetime]"), TRUTHY, id="annotation-only"),
    pytest.param(doc("col: Mapped[datetime.datetime] = mapped_column()"), TRUTHY, id="with-mapped-column"),
    pytest.param(doc("col: sa.orm.Mapped[datetime.datetime]"), TRUTHY, id="dotted-mapped"),
    pytest.param(doc("col: Mapped[Optional[datetime.datetime]]"), SILENT, id="optional"),
    pytest.param(doc("col: Mapped[datetime.datetime | None]"), SILENT, id="pipe-none"),
    pytest.param(doc("col: Mapped[None | datetime.datetime]"), SILENT, id="none-pipe"),
    pytest.param(doc("col: Mapped[Union[datetime.datetime, None]]"), SILENT, id="union-with-none"),
    pytest.param(doc('col: Mapped["Optional[datetime.datetime]"]'), SILENT, id="optional-in-string"),
    pytest.param(doc('col: Mapped[Optional["datetime.datetime"]]'), SILENT, id="string-in-optional"),
    pytest.param(doc('col: Mapped["datetime.datetime | None"]'), SILENT, id="pipe-none-in-string"),
    pytest.param(doc('col: Mapped["datetime.datetime"]'), TRUTHY, id="string-annotation"),
    pytest.param(doc('col: "Mapped[datetime.datetime]"'), TRUTHY, id="whole-annotation-quoted"),
    pytest.param(doc("col: Mapped[datetime.datetime] = mapped_column(nullable=True)"), SILENT,
                 id="explicit-nullable-true-wins"),
    pytest.param(doc("col: Mapped[Optional[datetime.datetime]] = mapped_column(nullable=False)"), TRUTHY,
                 id="explicit-nullable-false-wins"),
    pytest.param(doc("col: Mapped[datetime.datetime] = mapped_column(nullable=FLAG)"), SILENT,
                 id="non-literal-nullable-is-unknown"),
    pytest.param(doc("col: Mapped[datetime.datetime] = mapped_column(deferred=True, default=None)"), TRUTHY,
                 id="deferred-and-default-none-change-nothing"),
    pytest.param(doc("col: Mapped[Annotated[datetime.datetime, mapped_column(nullable=True)]]"), SILENT,
                 id="annotated-nullable-true"),
    pytest.param(doc("col: Mapped[Optional[Annotated[datetime.datetime, mapped_column(nullable=False)]]]"),
                 TRUTHY, id="annotated-nullable-false-over-optional"),
    pytest.param(doc("col: Mapped[Annotated[datetime.datetime, mapped_column(nullable=True)]] = "
                     "mapped_column(DateTime)"), SILENT, id="annotated-nullable-with-mapped-column"),
    pytest.param(doc("col: Mapped[Annotated[datetime.datetime, mapped_column(nullable=True)]] = "
                     "mapped_column(nullable=False)"), TRUTHY, id="call-nullable-wins-over-annotated"),
    pytest.param(doc('col: Mapped[Annotated[datetime.datetime, "audit"]]'), TRUTHY,
                 id="annotated-without-mapped-column"),
    pytest.param(doc("col: Mapped[Optional[Annotated[datetime.datetime, mapped_column(DateTime)]]]"), SILENT,
                 id="annotated-without-nullable-follows-optional"),
    pytest.param(doc("col = mapped_column(DateTime)"), SILENT, id="no-annotation-is-nullable"),
    pytest.param(doc("col = mapped_column(DateTime, nullable=False)"), TRUTHY, id="no-annotation-nullable-false"),
    pytest.param(doc("col: Mapped[int] = mapped_column(ForeignKey('other.id'))"), NEVER_NONE,
                 id="foreign-key-changes-nothing"),
    pytest.param(doc("col: Mapped[Optional[int]] = mapped_column(ForeignKey('other.id'))"), SILENT,
                 id="optional-foreign-key"),
    pytest.param(doc("col: Mapped[Union[datetime.datetime, datetime.date]]"), SILENT,
                 id="union-of-two-types-is-unknown"),
    pytest.param(doc("col: Mapped[datetime.datetime | datetime.date]"), SILENT,
                 id="pipe-of-two-types-is-unknown"),
    pytest.param(doc('col: Mapped["Optional[datetime.datetime"]'), SILENT, id="unparsable-string-is-unknown"),
])
def test_mapped_nullability(project, models, expected):
    assert probe(project, models) == expected


# -- SEMANTICS 1: functools.partial ------------------------------------------------------

PARTIALS = '''
    from app.helpers import column_factory
    RequiredColumn = partial(Column, nullable=False)
    RequiredIndexedColumn = partial(RequiredColumn, index=True)
    KeyColumn = partial(sa.Column, primary_key=True)
    required_mapped_column = partial(mapped_column, nullable=False)
    LazyRelationship = partial(relationship, lazy="raise")
    MadeColumn = column_factory(nullable=False)
'''


@pytest.mark.parametrize("body, expected", [
    pytest.param("col = RequiredColumn(DateTime)", TRUTHY, id="partial-nullable-false"),
    pytest.param("col = RequiredColumn(DateTime, nullable=True)", SILENT, id="call-site-nullable-wins"),
    pytest.param("col = RequiredIndexedColumn(DateTime)", TRUTHY, id="partial-of-a-partial"),
    pytest.param("col = KeyColumn(DateTime)", TRUTHY, id="partial-primary-key"),
    pytest.param("col: Mapped[Optional[datetime.datetime]] = required_mapped_column()", TRUTHY,
                 id="partial-mapped-column-over-optional"),
    pytest.param("col = LazyRelationship(DateTime)", SILENT, id="partial-of-something-else-is-no-column"),
    pytest.param("col = MadeColumn(DateTime)", SILENT, id="column-maker-from-a-factory-is-unknown"),
])
def test_partial_column_nullability(project, body, expected):
    assert probe(project, doc(body, prelude=PARTIALS)) == expected


# -- SEMANTICS 1: @declared_attr ---------------------------------------------------------


@pytest.mark.parametrize("body, expected", [
    pytest.param('''
        @declared_attr
        def col(cls) -> Mapped[datetime.datetime]:
            return mapped_column(DateTime)
    ''', TRUTHY, id="returns-mapped-column-under-mapped"),
    pytest.param('''
        @declared_attr
        def col(cls) -> Mapped[Optional[datetime.datetime]]:
            return mapped_column(DateTime)
    ''', SILENT, id="returns-mapped-column-under-optional"),
    pytest.param('''
        @declared_attr
        def col(cls):
            return Column(DateTime)
    ''', SILENT, id="returns-nullable-column"),
    pytest.param('''
        @sa.orm.declared_attr
        def col(cls):
            return Column(DateTime, nullable=False)
    ''', TRUTHY, id="returns-not-null-column"),
    pytest.param('''
        @declared_attr
        def col(cls) -> Mapped[datetime.datetime]:
            def now():
                return None
            return mapped_column(DateTime, default=now)
    ''', TRUTHY, id="returns-of-nested-functions-do-not-count"),
    pytest.param('''
        @declared_attr
        def col(cls) -> Mapped[datetime.datetime]:
            if cls.__name__ == "Doc":
                return mapped_column(DateTime)
            return mapped_column(DateTime, nullable=True)
    ''', SILENT, id="two-returns-are-unknown"),
    pytest.param('''
        @declared_attr
        def col(cls) -> Mapped[datetime.datetime]:
            return cls.make_column()
    ''', SILENT, id="returning-a-helper-call-is-unknown"),
    pytest.param('''
        @property
        def col(self) -> datetime.datetime:
            return datetime.datetime.now()
    ''', SILENT, id="property-is-no-column"),
])
def test_declared_attr_columns(project, body, expected):
    assert probe(project, doc(body)) == expected


def test_declared_attr_in_legacy_module_spelling(project):
    models = doc('''
        @declared_attr_legacy
        def col(cls):
            return Column(DateTime, nullable=False)
    ''', prelude="from sqlalchemy.ext.declarative import declared_attr as declared_attr_legacy")
    assert probe(project, models) == TRUTHY


# -- SEMANTICS 1: SQLModel ---------------------------------------------------------------


def sqlmodel_doc(body: str, prelude: str = "", id_column: bool = True) -> str:
    lines = ["class Doc(SQLModel, table=True):"]
    if id_column:
        lines.append("    id: Optional[int] = Field(default=None, primary_key=True)")
    lines.append(textwrap.indent(textwrap.dedent(body).strip("\n"), "    "))
    return (
        HEADER + "from sqlmodel import Field, Relationship, SQLModel\n\n\n"
        + textwrap.dedent(prelude) + "\n\n" + "\n".join(lines) + "\n"
    )


@pytest.mark.parametrize("models, expected", [
    pytest.param(sqlmodel_doc("col: datetime.datetime"), TRUTHY, id="plain-field"),
    pytest.param(sqlmodel_doc("col: Optional[datetime.datetime] = None"), SILENT, id="optional-field"),
    pytest.param(sqlmodel_doc("col: datetime.datetime | None = None"), SILENT, id="pipe-none-field"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = None"), TRUTHY, id="default-none-stays-not-null"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = Field(nullable=True)"), SILENT,
                 id="field-nullable-true-wins"),
    pytest.param(sqlmodel_doc("col: Optional[datetime.datetime] = Field(default=None, nullable=False)"), TRUTHY,
                 id="field-nullable-false-wins"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = Field(nullable=FLAG)"), SILENT,
                 id="non-literal-nullable-is-unknown"),
    pytest.param(sqlmodel_doc("col: Optional[datetime.datetime] = Field(default=None, primary_key=True)",
                              id_column=False), TRUTHY, id="optional-primary-key-is-not-null"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = Field(sa_column=Column(DateTime))"), SILENT,
                 id="sa-column-follows-column-rules"),
    pytest.param(sqlmodel_doc("col: Optional[datetime.datetime] = Field(sa_column=Column(DateTime, "
                              "nullable=False))"), TRUTHY, id="sa-column-nullable-false"),
    pytest.param(sqlmodel_doc("col = Field(sa_column=Column(DateTime, nullable=False))"), TRUTHY,
                 id="sa-column-without-an-annotation"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = Field(sa_column=make_column())",
                              prelude="from app.columns import make_column"), SILENT,
                 id="sa-column-from-a-helper-is-unknown"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = Field(sa_column=STARTED_AT)",
                              prelude="STARTED_AT = Column(DateTime, nullable=False)"), SILENT,
                 id="sa-column-by-name-is-unknown"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = Field(sa_type=DateTime(timezone=True))"), TRUTHY,
                 id="sa-type-gives-the-type"),
    pytest.param(sqlmodel_doc("col: Dict[str, Any] = Field(sa_type=JSON)"), UNTRACKED, id="sa-type-json"),
    pytest.param(sqlmodel_doc("col: ClassVar[datetime.datetime] = datetime.datetime(2000, 1, 1)"), SILENT,
                 id="classvar-is-no-field"),
    pytest.param(sqlmodel_doc("col: datetime.datetime = Field(foreign_key='other.at')"), TRUTHY,
                 id="foreign-key-follows-annotation"),
])
def test_sqlmodel_fields(project, models, expected):
    assert probe(project, models) == expected


def test_sqlmodel_fields_inherited_from_a_non_table_base(project):
    models = module('''
        from sqlmodel import Field, SQLModel


        class DocBase(SQLModel):
            col: datetime.datetime
            _cache: datetime.datetime


        class Doc(DocBase, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
    ''')
    assert probe(project, models) == TRUTHY
    # The base itself is no table: rows of it are never loaded.
    assert probe(project, models, model="DocBase") == SILENT
    assert probe(project, models, column="_cache") == SILENT


# -- statements that declare no column ---------------------------------------------------


@pytest.mark.parametrize("body", [
    pytest.param("col: ClassVar[datetime.datetime] = datetime.datetime(2000, 1, 1)", id="classvar"),
    pytest.param("col: 'ClassVar[int]' = 0", id="quoted-classvar"),
    pytest.param("col = column_property(sa.func.now())", id="column-property"),
    pytest.param("col: Mapped[Optional[int]] = query_expression()", id="query-expression"),
    pytest.param("col = stamp_column()", id="helper-call"),
    pytest.param("col = started = Column(DateTime, nullable=False)", id="chained-assignment"),
    pytest.param("col, other = Column(DateTime), Column(DateTime)", id="tuple-assignment"),
    pytest.param("registry_hooks.col: int = 0", id="annotated-attribute-target"),
    pytest.param("col = 'a plain class attribute'", id="plain-attribute"),
])
def test_statements_that_declare_no_column(project, body):
    models = doc(body, prelude='''
        from app.helpers import stamp_column, registry_hooks
    ''')
    assert list(read_model(project, models).columns) == ["id"]


def test_declared_attr_tablename_is_no_column(project):
    model = read_model(project, doc('''
        @declared_attr.directive
        def __tablename__(cls) -> str:
            return cls.__name__.lower()

        @declared_attr
        def __mapper_args__(cls):
            return {"eager_defaults": True}

        col: Mapped[datetime.datetime]
    ''').replace('    __tablename__ = "doc"\n', ""))
    assert sorted(model.columns) == ["col", "id"]


def test_subclass_method_shadows_an_inherited_column(project):
    models = module('''
        class Base(DeclarativeBase):
            pass


        class Stamped:
            col: Mapped[datetime.datetime]


        class Doc(Stamped, Base):
            __tablename__ = "doc"
            id: Mapped[int] = mapped_column(primary_key=True)

            def col(self):
                return None
    ''')
    assert probe(project, models) == SILENT


# -- SEMANTICS 2: column types ------------------------------------------------------------


@pytest.mark.parametrize("type_expr, expected", [
    pytest.param("DateTime", TRUTHY, id="datetime"),
    pytest.param("DateTime(timezone=True)", TRUTHY, id="datetime-with-tz"),
    pytest.param("Date", TRUTHY, id="date"),
    pytest.param("Time", TRUTHY, id="time"),
    pytest.param("Uuid", TRUTHY, id="uuid"),
    pytest.param("Uuid(as_uuid=False)", NEVER_NONE, id="uuid-as-string"),
    pytest.param("postgresql.UUID(as_uuid=True)", TRUTHY, id="postgresql-uuid"),
    pytest.param("postgresql.TIMESTAMP(timezone=True)", TRUTHY, id="dialect-datetime"),
    pytest.param("Integer", NEVER_NONE, id="integer"),
    pytest.param("Numeric(10, 2)", NEVER_NONE, id="numeric"),
    pytest.param("sa.Boolean", NEVER_NONE, id="boolean"),
    pytest.param("String(20)", NEVER_NONE, id="string"),
    pytest.param("LargeBinary", NEVER_NONE, id="large-binary"),
    pytest.param("Interval", NEVER_NONE, id="interval"),
    pytest.param("JSON", UNTRACKED, id="json"),
    pytest.param("postgresql.JSONB", UNTRACKED, id="jsonb"),
    pytest.param("JSON(none_as_null=True)", UNTRACKED, id="json-none-as-null"),
    pytest.param("ARRAY(Integer)", NEVER_NONE_UNTRACKED, id="array"),
    pytest.param("PickleType", NEVER_NONE_UNTRACKED, id="pickle"),
    pytest.param("postgresql.HSTORE", NEVER_NONE_UNTRACKED, id="hstore"),
    pytest.param("NullType", SILENT, id="null-type-is-unknown"),
    pytest.param("postgresql.INET", SILENT, id="python-type-object-is-unknown"),
    pytest.param('postgresql.DOMAIN("positive_int", Integer)', SILENT, id="type-that-fails-to-build-is-unknown"),
    pytest.param("make_type()", TRUTHY, id="type-from-a-project-function-is-read"),
    pytest.param("undefined_type", SILENT, id="unresolvable-type-is-unknown"),
    pytest.param("DateTime().with_variant(String, 'sqlite')", SILENT, id="variant-is-unknown"),
])
def test_column_types(project, type_expr, expected):
    models = not_null_column(type_expr, prelude='''
        def make_type():
            return DateTime()
    ''')
    assert probe(project, models) == expected


def test_column_without_a_type_is_unknown(project):
    for body in ("col = Column(nullable=False)", "col = mapped_column(nullable=False)"):
        assert probe(project, doc(body)) == SILENT, body


@pytest.mark.parametrize("annotation, expected", [
    pytest.param("datetime.datetime", TRUTHY, id="datetime"),
    pytest.param("datetime.date", TRUTHY, id="date"),
    pytest.param("datetime.time", TRUTHY, id="time"),
    pytest.param("uuid.UUID", TRUTHY, id="uuid"),
    pytest.param("decimal.Decimal", NEVER_NONE, id="decimal"),
    pytest.param("int", NEVER_NONE, id="int"),
    pytest.param("str", NEVER_NONE, id="str"),
    pytest.param("datetime.timedelta", NEVER_NONE, id="timedelta"),
    pytest.param("dict", SILENT, id="python-type-without-sqlalchemy-type"),
    pytest.param("Any", SILENT, id="not-a-class"),
    pytest.param("ipaddress.IPv4Address", SILENT, id="module-not-read"),
    pytest.param("UserId", SILENT, id="newtype-is-unknown"),
    pytest.param("Undefined", SILENT, id="unresolvable-name"),
    pytest.param("Point", SILENT, id="project-class-that-is-no-enum"),
])
def test_mapped_annotation_types(project, annotation, expected):
    models = doc(f"col: Mapped[{annotation}]", prelude='''
        UserId = NewType("UserId", int)


        class Point:
            x: int
    ''')
    assert probe(project, models) == expected


def test_declared_type_and_place_name_the_declaration(project):
    models = doc('''
        col: Mapped[datetime.datetime]
        renamed = Column("started_at", sa.Date, nullable=False)
    ''')
    model = read_model(project, models)
    col, renamed = model.columns["col"], model.columns["renamed"]
    assert (col.declared_type, col.facts.label) == ("Mapped[datetime.datetime]", "DateTime")
    assert (renamed.db_name, renamed.declared_type) == ("started_at", "Date")
    line = next(n for n, text in enumerate(models.splitlines(), 1) if text.lstrip().startswith("renamed ="))
    assert renamed.declared_at == f"{os.path.join('app', 'models.py')}:{line}"


def test_foreign_key_without_type_never_reads_none(project):
    model = read_model(project, doc("col = Column(ForeignKey('other.id'), nullable=False)"))
    facts = model.columns["col"].facts
    assert (facts.label, facts.may_read_none, facts.always_truthy) == ("foreign key", False, False)


def test_positional_argument_after_the_type_does_not_replace_it(project):
    models = doc("col = Column(DateTime, stamp_default('now'), nullable=False)",
                 prelude="from app.helpers import stamp_default")
    assert probe(project, models) == TRUTHY


# -- SEMANTICS 2: enums ---------------------------------------------------------------------

ENUMS = '''
    from payments.enums import Currency
    from .missing import MissingBase


    class Status(enum.Enum):
        DRAFT = ""
        SENT = 0


    class Level(enum.IntEnum):
        LOW = 0


    class Code(str, enum.Enum):
        EMPTY = ""


    class Sized(enum.Enum):
        SMALL = 1

        def __bool__(self):
            return self is not Sized.SMALL


    class DescribedEnum(enum.Enum):
        def describe(self) -> str:
            return self.name.lower()


    class Phase(DescribedEnum):
        START = 1


    class Strange(MissingBase):
        A = 1


    DRAFT, SENT = "draft", "sent"
    STATES = ("draft", "sent")
'''


@pytest.mark.parametrize("body, expected", [
    pytest.param("col = Column(Enum(Status), nullable=False)", TRUTHY, id="plain-enum-members-are-truthy"),
    pytest.param("col: Mapped[Status]", TRUTHY, id="mapped-plain-enum"),
    pytest.param("col = Column(Enum(Level), nullable=False)", NEVER_NONE, id="int-enum"),
    pytest.param("col = Column(Enum(Code), nullable=False)", NEVER_NONE, id="str-mixin-enum"),
    pytest.param("col = Column(Enum(Sized), nullable=False)", NEVER_NONE, id="enum-with-bool"),
    pytest.param("col: Mapped[Phase]", TRUTHY, id="enum-through-a-project-enum-base"),
    pytest.param("col: Mapped[Strange]", SILENT, id="enum-with-unresolvable-base-is-unknown"),
    pytest.param("col = Column(Enum(Currency), nullable=False)", SILENT, id="third-party-enum-is-unknown"),
    pytest.param("col = Column(Enum('draft', 'sent', name='state'), nullable=False)", NEVER_NONE,
                 id="string-literals-may-be-empty"),
    pytest.param("col = Column(Enum(DRAFT, SENT, name='state'), nullable=False)", SILENT,
                 id="values-by-name-are-unknown"),
    pytest.param("col = Column(Enum(*STATES, name='state'), nullable=False)", SILENT,
                 id="starred-values-are-unknown"),
    pytest.param("col = Column(postgresql.ENUM(Status, name='status'), nullable=False)", TRUTHY,
                 id="postgresql-enum"),
])
def test_enum_types(project, body, expected):
    assert probe(project, doc(body, prelude=ENUMS)) == expected


# -- SEMANTICS 2: project types --------------------------------------------------------------

PROJECT_TYPES = '''
    from sqlalchemy_utils import ArrowType

    from .vendor.types import VendoredType

    class UTCDateTime(TypeDecorator):
        impl: Any = DateTime
        cache_ok: bool = True

        def process_bind_param(self, value, dialect):
            return value


    class LocalDateTime(UTCDateTime):
        pass


    class TZDateTime(TypeDecorator):
        impl = DateTime(timezone=True)


    class BlankIsNone(TypeDecorator):
        impl = DateTime

        def process_result_value(self, value, dialect):
            return value or None


    class RawResult(TypeDecorator):
        impl = String

        def result_processor(self, dialect, coltype):
            return None


    class JSONDocument(TypeDecorator):
        impl = JSON

        def process_result_value(self, value, dialect):
            return value


    class NoImpl(TypeDecorator):
        cache_ok = True


    class Ping(TypeDecorator):
        impl = Pong


    class Pong(TypeDecorator):
        impl = Ping


    class Stamp(DateTime):
        pass


    class Label(sa.types.String):
        pass


    class Point(UserDefinedType):
        def get_col_spec(self):
            return "POINT"


    class LocalArrow(ArrowType):
        pass


    class Vendored(VendoredType):
        pass
'''


@pytest.mark.parametrize("type_expr, expected", [
    pytest.param("UTCDateTime", TRUTHY, id="type-decorator-uses-its-impl"),
    pytest.param("UTCDateTime()", TRUTHY, id="type-decorator-instance"),
    pytest.param("LocalDateTime", TRUTHY, id="impl-inherited-from-a-project-type-decorator"),
    pytest.param("TZDateTime", TRUTHY, id="impl-given-as-instance"),
    pytest.param("BlankIsNone", SILENT, id="process-result-value-may-return-anything"),
    pytest.param("RawResult", SILENT, id="result-processor-may-return-anything"),
    pytest.param("JSONDocument", UNTRACKED, id="custom-json-keeps-in-place-facts"),
    pytest.param("NoImpl", SILENT, id="type-decorator-without-impl-is-unknown"),
    pytest.param("Ping", SILENT, id="impl-cycle-is-unknown"),
    pytest.param("Stamp", TRUTHY, id="subclass-of-datetime"),
    pytest.param("Label(30)", NEVER_NONE, id="subclass-of-string"),
    pytest.param("Point", SILENT, id="user-defined-type-is-unknown"),
    pytest.param("LocalArrow", SILENT, id="subclass-of-third-party-type-is-unknown"),
    pytest.param("Vendored", SILENT, id="subclass-of-an-unreadable-type-is-unknown"),
])
def test_project_types(project, type_expr, expected):
    models = not_null_column(type_expr, prelude=PROJECT_TYPES)
    assert probe(project, models) == expected


RESULT_TYPES = '''
    import vendor
    from sqlalchemy.dialects import mysql


    class Colour(enum.Enum):
        RED = 0


    class Wrapper:
        pass


    class Shifted(TypeDecorator):
        impl = DateTime

        def process_result_value(self, value, dialect):
            if value is not None:
                return value.replace(tzinfo=datetime.timezone.utc)


    class Converted(TypeDecorator):
        impl = DateTime

        def process_result_value(self, value, dialect):
            """Only None maps to None."""
            if value is None:
                return None
            result: datetime.datetime = value.astimezone(datetime.timezone.utc)
            return result


    class Same(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            return value


    class Checked(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            if not value:
                raise ValueError("empty")
            self.last = value
            return value


    class Looping(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            for _ in range(1):
                pass
            return value


    class Unpacked(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            value, other = value, 1
            return value


    class Chained(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            first = second = value
            return first


    class BothTests(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            if value is not None and isinstance(value, str):
                return uuid.UUID(value)
            raise ValueError(value)


    class EitherTest(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            if value is None or isinstance(value, uuid.UUID):
                return value
            return uuid.UUID(value)


    class Static(TypeDecorator):
        impl = DateTime

        @staticmethod
        def process_result_value(value, dialect):
            return value


    class NoValue(TypeDecorator):
        impl = DateTime

        def process_result_value(self):
            return datetime.datetime.now()


    class Asynchronous(TypeDecorator):
        impl = DateTime

        async def process_result_value(self, value, dialect):
            return value


    class LocalCallable(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            convert = uuid.UUID
            return convert(value)


    class OwnMethod(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            return value.strip()


    class Wrapped(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            return Wrapper(value)


    class Member(TypeDecorator):
        impl = Integer

        def process_result_value(self, value, dialect):
            return Colour(value)


    class Kinded(TypeDecorator):
        impl = Integer

        def __init__(self, kind=None, *args):
            self.kind = kind
            super().__init__()

        def process_result_value(self, value, dialect):
            return self.kind(value)


    class Rekinded(Kinded):
        def __init__(self, kind=None):
            self.kind = kind
            self.kind = None


    class Unkinded(Kinded):
        def __init__(self, kind=None):
            pass


    class NoInit(TypeDecorator):
        impl = Integer

        def process_result_value(self, value, dialect):
            return self.kind(value)


    class Constant(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            if value == "":
                return 0
            return value


    class MaybeParsed(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            parsed = parse(value)
            if parsed is None:
                return value
            return parsed


    class NarrowedToProjectClass(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            if isinstance(value, Wrapper):
                return value
            return value


    class TruthyTest(TypeDecorator):
        impl = DateTime

        def process_result_value(self, value, dialect):
            if value:
                return value
            return None


    class WrongMethod(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            return value.replace("a", "")


    class Dialects(TypeDecorator):
        impl = String

        def load_dialect_impl(self, dialect):
            if dialect.name == "postgresql":
                return dialect.type_descriptor(DateTime())
            return DateTime()

        def process_result_value(self, value, dialect):
            return value


    class BareDialect(TypeDecorator):
        impl = String

        def load_dialect_impl(self, dialect):
            return

        def process_result_value(self, value, dialect):
            return value


    class UnknownDialect(TypeDecorator):
        impl = String

        def load_dialect_impl(self, dialect):
            pass

        def process_result_value(self, value, dialect):
            return value


    class UtcStamp(TypeDecorator):
        impl = DateTime(timezone=True)

        def load_dialect_impl(self, dialect):
            if dialect.name == "mysql":
                return mysql.TIMESTAMP(fsp=6)
            return super().load_dialect_impl(dialect)

        def process_result_value(self, value, dialect):
            return value


    class LocalStamp(UtcStamp):
        def load_dialect_impl(self, dialect):
            return super(LocalStamp, self).load_dialect_impl(dialect)


    class OverText(TypeDecorator):
        impl = String

        def load_dialect_impl(self, dialect):
            return super().load_dialect_impl(dialect)

        def process_result_value(self, value, dialect):
            return value


    class VendorStamp(vendor.Stamped, TypeDecorator):
        impl = DateTime

        def load_dialect_impl(self, dialect):
            return super().load_dialect_impl(dialect)

        def process_result_value(self, value, dialect):
            return value


    class ExplicitNone(TypeDecorator):
        impl = String

        def process_result_value(self, value, dialect):
            if value == "-":
                return None
            return value


    class ShortCircuit(TypeDecorator):
        impl = DateTime

        def process_result_value(self, value, dialect):
            if value is None and value.year:
                return None
            return value


    class OverJSON(TypeDecorator):
        impl = JSON

        def process_result_value(self, value, dialect):
            if value is None:
                return {}
            return value


    class EitherUUID(TypeDecorator):
        """sqlalchemy-utils' UUIDType reads its value this way."""
        impl = String(32)

        def process_result_value(self, value, dialect):
            if value is None:
                return value
            if self.native and dialect.name in ("postgresql", "cockroachdb"):
                if isinstance(value, uuid.UUID):
                    return value
                return uuid.UUID(value)
            return uuid.UUID(bytes=value) if self.binary else uuid.UUID(value)


    class NarrowedUUID(TypeDecorator):
        impl = String(32)

        def process_result_value(self, value, dialect):
            return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


    class MaybeUUID(TypeDecorator):
        impl = String(32)

        def process_result_value(self, value, dialect):
            return uuid.UUID(value) if value else None
'''


@pytest.mark.parametrize("type_expr, expected", [
    pytest.param("Shifted", TRUTHY, id="replace-on-a-datetime-after-a-none-guard"),
    pytest.param("Converted", TRUTHY, id="astimezone-through-an-annotated-local"),
    pytest.param("Same", NEVER_NONE, id="the-impl-value-itself"),
    pytest.param("Checked", NEVER_NONE, id="a-raise-returns-nothing"),
    pytest.param("Looping", SILENT, id="a-loop-is-not-followed"),
    pytest.param("Unpacked", SILENT, id="unpacking-is-not-followed"),
    pytest.param("Chained", SILENT, id="chained-assignment-is-not-followed"),
    pytest.param("BothTests", TRUTHY, id="and-narrows-both-operands"),
    pytest.param("EitherTest", TRUTHY, id="or-narrows-each-operand"),
    pytest.param("Static", SILENT, id="a-decorated-method-is-not-followed"),
    pytest.param("NoValue", SILENT, id="a-method-without-a-value-parameter"),
    pytest.param("Asynchronous", SILENT, id="an-async-method-is-not-followed"),
    pytest.param("LocalCallable", SILENT, id="a-local-callable-is-unknown"),
    pytest.param("OwnMethod", SILENT, id="a-method-of-the-value-is-unknown"),
    pytest.param("Wrapped", NEVER_NONE, id="a-project-class-instance"),
    pytest.param("Member", TRUTHY, id="a-member-of-a-plain-enum"),
    pytest.param("Kinded(kind=Colour)", TRUTHY, id="the-enum-the-column-passes-by-keyword"),
    pytest.param("Kinded(Colour)", TRUTHY, id="the-enum-the-column-passes-by-position"),
    pytest.param("Kinded", SILENT, id="no-enum-passed"),
    pytest.param('Kinded("Colour")', SILENT, id="not-a-class-passed"),
    pytest.param("Rekinded(Colour)", SILENT, id="attribute-set-twice"),
    pytest.param("Unkinded(Colour)", SILENT, id="attribute-set-elsewhere"),
    pytest.param("NoInit", SILENT, id="attribute-never-set"),
    pytest.param("Constant", NEVER_NONE, id="a-falsy-constant"),
    pytest.param("MaybeParsed", NEVER_NONE, id="a-none-test-narrows-an-unknown-local"),
    pytest.param("NarrowedToProjectClass", NEVER_NONE, id="isinstance-of-a-project-class-narrows-nothing"),
    pytest.param("TruthyTest", TRUTHY, id="a-test-on-an-always-truthy-value"),
    pytest.param("WrongMethod", SILENT, id="replace-on-a-str-is-unknown"),
    pytest.param("Dialects", TRUTHY, id="every-dialect-impl-reads-datetimes"),
    pytest.param("BareDialect", SILENT, id="a-bare-return-in-load-dialect-impl"),
    pytest.param("UnknownDialect", SILENT, id="load-dialect-impl-without-a-return"),
    pytest.param("UtcStamp", TRUTHY, id="super-load-dialect-impl-is-the-impl"),
    pytest.param("LocalStamp", TRUTHY, id="super-load-dialect-impl-through-a-project-base"),
    pytest.param("OverText", NEVER_NONE, id="super-load-dialect-impl-of-a-string-impl"),
    pytest.param("VendorStamp", SILENT, id="super-load-dialect-impl-may-reach-an-unread-base"),
    pytest.param("ExplicitNone", SILENT, id="an-explicit-none"),
    pytest.param("ShortCircuit", TRUTHY, id="and-stops-at-an-impossible-operand"),
    pytest.param("OverJSON", UNTRACKED, id="json-impl-may-give-none-and-keeps-in-place-facts"),
    pytest.param("EitherUUID", TRUTHY, id="a-conditional-expression-of-two-uuids"),
    pytest.param("NarrowedUUID", TRUTHY, id="a-conditional-expression-narrowed-by-isinstance"),
    pytest.param("MaybeUUID", SILENT, id="a-conditional-expression-that-may-give-none"),
])
def test_process_result_value_is_read(project, type_expr, expected):
    # SEMANTICS 2 calls these unknown; for a NOT NULL column the method only sees non-NULL
    # values, and simple bodies say what they return (flake8_dbconstraints/result_values.py).
    models = not_null_column(type_expr, prelude=RESULT_TYPES)
    assert probe(project, models) == expected


FACTORY_TYPES = '''
    class Colour(enum.Enum):
        RED = 1


    class Flagged(TypeDecorator):
        impl = DateTime

        def __init__(self, flag=None):
            self.flag = flag
            super().__init__()


    def Ident(*, length=64, **kwargs):
        """A key column's type: airflow's StringID."""
        return String(length=length, **kwargs)


    def Stamp():
        return DateTime(timezone=True)


    def Zoned(tz):
        return DateTime(timezone=tz)


    def Coloured():
        return Enum(Colour)


    def Chosen(kind):
        return Enum(kind)


    def Document(**kwargs):
        return JSON(**kwargs)


    def Configured(flag):
        return Flagged(flag)


    def Fixed():
        return Flagged(True)


    def Either(short):
        if short:
            return String(10)
        return JSON()


    def Bare():
        return DateTime


    def cached(function):
        return function


    @cached
    def Decorated():
        return DateTime()


    async def Waited():
        return DateTime()


    def Helper():
        return make_type()
'''


@pytest.mark.parametrize("type_expr, expected", [
    pytest.param("Ident()", NEVER_NONE, id="a-string-with-forwarded-arguments"),
    pytest.param("Stamp()", TRUTHY, id="a-datetime-with-constant-arguments"),
    pytest.param("Zoned(True)", NEVER_NONE, id="forwarded-arguments-drop-truthiness"),
    pytest.param("Coloured()", TRUTHY, id="an-enum-of-a-module-class"),
    pytest.param("Chosen(Colour)", SILENT, id="an-enum-of-a-parameter-is-unknown"),
    pytest.param("Document()", UNTRACKED, id="json-with-forwarded-arguments-stays-untracked"),
    pytest.param("Configured(True)", SILENT, id="a-project-type-with-forwarded-arguments"),
    pytest.param("Fixed()", TRUTHY, id="a-project-type-with-constant-arguments"),
    pytest.param("Either(True)", SILENT, id="more-than-one-statement"),
    pytest.param("Bare()", SILENT, id="a-class-returned-not-called"),
    pytest.param("Decorated()", SILENT, id="a-decorated-function"),
    pytest.param("Waited()", SILENT, id="an-async-function"),
    pytest.param("Helper()", SILENT, id="an-unknown-call-returned"),
])
def test_type_built_by_a_project_function(project, type_expr, expected):
    models = not_null_column(type_expr, prelude=FACTORY_TYPES)
    assert probe(project, models) == expected


@pytest.mark.parametrize("settings, expected", [
    pytest.param({}, SILENT, id="unconfigured-project-type-is-unknown"),
    pytest.param({"truthy_types": ["app.types.Stamp"]}, TRUTHY, id="configured-truthy-project-type"),
    pytest.param({"json_types": ["app.types.Stamp"]}, UNTRACKED, id="configured-json-project-type"),
    pytest.param({"truthy_types": ["app.types.Other"]}, SILENT, id="other-name-configured"),
])
def test_configured_project_types(project, settings, expected):
    types_module = module('''
        class Stamp(TypeDecorator):
            impl = String

            def process_result_value(self, value, dialect):
                return parse(value)
    ''')
    models = doc("col = Column(Stamp, nullable=False)", prelude="from app.types import Stamp")
    assert probe(project, models, extra_files={"app/types.py": types_module}, **settings) == expected


def test_configured_third_party_type(project):
    models = doc("col = Column(ArrowType, nullable=False)", prelude="from sqlalchemy_utils import ArrowType")
    assert probe(project, models) == SILENT
    assert probe(project, models, truthy_types=["sqlalchemy_utils.ArrowType"]) == TRUTHY


@pytest.fixture
def sqlalchemy_without_uuid(monkeypatch):
    """The plugin's SQLAlchemy is 1.4 (say, in a pre-commit environment) while the
    project's is 2.x: ``sqlalchemy.Uuid`` cannot be imported to be asked."""
    import sqlalchemy

    monkeypatch.delattr(sqlalchemy, "Uuid", raising=False)  # absent on 1.4 already
    clear_caches()
    yield
    clear_caches()


@pytest.mark.parametrize("type_expr, expected", [
    pytest.param("Uuid", TRUTHY, id="uuid"),
    pytest.param("Uuid(as_uuid=True)", TRUTHY, id="uuid-as-uuid"),
    pytest.param("Uuid(as_uuid=False)", NEVER_NONE, id="uuid-as-string"),
    pytest.param("sa.Double", NEVER_NONE, id="double"),
])
def test_sqlalchemy_2_types_read_without_sqlalchemy_2(project, sqlalchemy_without_uuid, type_expr, expected):
    assert probe(project, not_null_column(type_expr)) == expected


def test_python_type_raising_not_implemented_is_unknown(project, monkeypatch):
    """SQLAlchemy 2.0 raises NotImplementedError from ``INET().python_type`` where 2.1
    returns ``object`` (SEMANTICS 2): both mean unknown."""
    from sqlalchemy.dialects import postgresql

    def python_type(self):
        raise NotImplementedError()

    monkeypatch.setattr(postgresql.INET, "python_type", property(python_type))
    clear_caches()  # what INET reads is asked once per process
    assert probe(project, doc("col = Column(postgresql.INET, nullable=False)")) == SILENT


# -- SEMANTICS 6: Mutable wrappers ------------------------------------------------------------

MUTABLES = '''
    import json

    from sqlalchemy.ext.mutable import MutableList

    from app.helpers import make_tracker


    class TrackedDict(MutableDict):
        pass


    class NotMutable:
        @classmethod
        def as_mutable(cls, sqltype):
            return sqltype


    class JSONEncodedDict(TypeDecorator):
        impl = sa.VARCHAR

        def process_result_value(self, value, dialect):
            return json.loads(value)  # "null" reads None


    Tracker = make_tracker()
'''


@pytest.mark.parametrize("type_expr, expected", [
    pytest.param("JSON", UNTRACKED, id="plain-json-is-untracked"),
    pytest.param("MutableDict.as_mutable(JSON)", SILENT, id="mutable-dict-tracks-top-level"),
    pytest.param("MutableList.as_mutable(ARRAY(Integer))", NEVER_NONE, id="mutable-list-over-array"),
    pytest.param("sa.ext.mutable.MutableDict.as_mutable(postgresql.JSONB)", SILENT, id="dotted-mutable-dict"),
    pytest.param("TrackedDict.as_mutable(JSON)", SILENT, id="project-subclass-of-mutable"),
    pytest.param("NotMutable.as_mutable(JSON)", SILENT, id="as-mutable-of-a-non-mutable-class-is-unknown"),
    pytest.param("Tracker.as_mutable(JSON)", SILENT, id="as-mutable-of-an-unknown-value-is-unknown"),
    pytest.param("JSONEncodedDict", UNTRACKED, id="json-decoded-text-is-untracked"),
    pytest.param("MutableDict.as_mutable(JSONEncodedDict)", SILENT, id="mutable-over-json-decoded-text"),
    pytest.param("MutableDict.as_mutable(sa.String)", NEVER_NONE, id="mutable-over-a-non-json-type"),
])
def test_mutable_wrappers(project, type_expr, expected):
    models = not_null_column(type_expr, prelude=MUTABLES)
    assert probe(project, models) == expected


def test_mutable_wrapper_keeps_the_container_kind(project):
    model = read_model(project, doc("col = Column(MutableDict.as_mutable(JSON), nullable=False)"))
    facts = model.columns["col"].facts
    assert (facts.mutable, facts.container) == ("tracked", "dict")


# -- type_annotation_map ------------------------------------------------------------------------


@pytest.mark.parametrize("base_body, annotation, expected", [
    pytest.param("type_annotation_map = {JsonDict: JSON}", "JsonDict", UNTRACKED, id="alias-key"),
    pytest.param("type_annotation_map = {Dict[str, Any]: JSON}", "Dict[str, Any]", UNTRACKED,
                 id="subscript-key"),
    pytest.param("registry = registry(type_annotation_map={dict: postgresql.JSONB})", "dict", UNTRACKED,
                 id="registry-keyword"),
    pytest.param("type_annotation_map = {**BASE_MAP, datetime.datetime: String}", "datetime.datetime",
                 NEVER_NONE, id="unpacked-entries-are-skipped"),
    pytest.param("registry = registry()", "dict", SILENT, id="registry-without-map"),
    pytest.param("type_annotation_map = {JsonDict: JSON}", "int", NEVER_NONE, id="unmapped-annotation"),
])
def test_type_annotation_map(project, base_body, annotation, expected):
    models = module(f'''
        from sqlalchemy.orm import registry

        JsonDict = Dict[str, Any]
        BASE_MAP = {{}}


        class Base(DeclarativeBase):
            {base_body}


        class Doc(Base):
            __tablename__ = "doc"
            id: Mapped[int] = mapped_column(primary_key=True)
            col: Mapped[{annotation}]
    ''')
    assert probe(project, models) == expected


# -- which classes are mapped -------------------------------------------------------------------


def rooted(prelude: str, bases: str = "Base", decorator: str = "") -> str:
    """``Doc`` with a NOT NULL DateTime column, below ``bases``."""
    return module(prelude) + textwrap.dedent(f'''

        {decorator}
        class Doc({bases}):
            __tablename__ = "doc"
            id = Column(Integer, primary_key=True)
            col = Column(DateTime, nullable=False)
    ''')


@pytest.mark.parametrize("models, expected", [
    pytest.param(rooted("class Base(DeclarativeBase):\n    pass\n"), TRUTHY, id="declarative-base-class"),
    pytest.param(rooted("from sqlalchemy.orm import DeclarativeBaseNoMeta\n"
                        "class Base(DeclarativeBaseNoMeta):\n    pass\n"), TRUTHY, id="declarative-base-no-meta"),
    pytest.param(rooted("from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"), TRUTHY,
                 id="declarative-base-function"),
    pytest.param(rooted("from sqlalchemy.ext.declarative import declarative_base\n"
                        "Base = declarative_base()\n"), TRUTHY, id="legacy-declarative-base"),
    pytest.param(rooted("from sqlalchemy.orm import as_declarative\n"
                        "@as_declarative()\nclass Base:\n    pass\n"), TRUTHY, id="as-declarative-called"),
    pytest.param(rooted("from sqlalchemy.orm import as_declarative\n"
                        "@as_declarative\nclass Base:\n    pass\n"), TRUTHY, id="as-declarative-bare"),
    pytest.param(rooted("from sqlalchemy.ext.declarative import as_declarative\n"
                        "@as_declarative()\nclass Base:\n    pass\n"), TRUTHY, id="legacy-as-declarative"),
    pytest.param(rooted("from sqlalchemy.orm import registry\nmapper_registry = registry()\n"
                        "Base = mapper_registry.generate_base()\n"), TRUTHY, id="named-registry-generate-base"),
    pytest.param(rooted("from sqlalchemy.orm import registry\nBase = registry().generate_base()\n"), TRUTHY,
                 id="inline-registry-generate-base"),
    pytest.param(rooted("from sqlalchemy.orm import registry\nmapper_registry = registry()\n",
                        bases="", decorator="@mapper_registry.mapped"), TRUTHY, id="registry-mapped"),
    pytest.param(rooted("from sqlalchemy.orm import registry\n", bases="",
                        decorator="@registry().mapped"), TRUTHY, id="inline-registry-mapped"),
    pytest.param(rooted("from sqlalchemy.orm import registry\nmapper_registry = registry()\n", bases="",
                        decorator="@mapper_registry.mapped_as_dataclass()"), TRUTHY,
                 id="registry-mapped-as-dataclass"),
    pytest.param(rooted("from app.factories import Factory\nBase = Factory().generate_base()\n"), SILENT,
                 id="generate-base-of-something-else"),
    pytest.param(rooted("mapper_registry = object()\n", bases="", decorator="@mapper_registry.mapped"), SILENT,
                 id="mapped-decorator-of-something-else"),
    pytest.param(rooted("from sqlalchemy.orm import declarative_base\n"
                        "Base = declarative_base() if FLAG else object\n"), SILENT, id="base-chosen-at-runtime"),
    pytest.param(rooted("from sqlalchemy.orm import declarative_base\n"
                        "Base = sa.orm.declarative_base\n"), SILENT, id="uncalled-factory"),
    pytest.param(rooted("from sqlalchemy.orm import as_declarative\n"
                        "def versioned_base(name):\n"
                        "    @as_declarative()\n    class VersionedBase:\n        plugin = name\n"
                        "    return VersionedBase\n"
                        "Base = versioned_base('x')\n"), TRUTHY, id="factory-returning-an-as-declarative-class"),
    pytest.param(rooted("from sqlalchemy.orm import declarative_base\n"
                        "def make_base():\n    return declarative_base()\n"
                        "def make_base_twice():\n    return make_base()\n"
                        "Base = make_base_twice()\n"), TRUTHY, id="factory-returning-declarative-base"),
    pytest.param(rooted("from sqlalchemy.orm import as_declarative\n"
                        "def make_base(flag):\n"
                        "    @as_declarative()\n    class Root:\n        pass\n"
                        "    if flag:\n        return object\n"
                        "    return Root\n"
                        "Base = make_base(FLAG)\n"), SILENT, id="factory-with-a-return-in-a-branch"),
    pytest.param(rooted("def make_base():\n"
                        "    class Plain:\n        pass\n"
                        "    return Plain\n"
                        "Base = make_base()\n"), SILENT, id="factory-returning-a-plain-class"),
    pytest.param(rooted("def make_base():\n    return dict()\n"
                        "Base = make_base()\n"), SILENT, id="factory-returning-something-else"),
    pytest.param(rooted("def make_base():\n    pass\n"
                        "Base = make_base()\n"), SILENT, id="factory-without-a-return"),
    pytest.param(rooted("class Base:\n    pass\n"), SILENT, id="plain-class"),
    pytest.param(rooted("class Base(DeclarativeBase):\n    pass\n"
                        "from auditlib import AuditMixin\nfrom .missing import Missing\n",
                        bases="AuditMixin, Missing, Base"), TRUTHY, id="unknown-bases-beside-a-root"),
    pytest.param(rooted("class Base(DeclarativeBase):\n    pass\n"
                        "class Abstract(Base):\n    __abstract__: ClassVar[bool] = True\n",
                        bases="Abstract"), TRUTHY, id="below-an-abstract-base"),
])
def test_declarative_roots(project, models, expected):
    assert probe(project, models) == expected


def imperative(mapping: str, table: str = 'Column("col", DateTime, nullable=False)',
               prelude: str = "from sqlalchemy.orm import registry\nmapper_registry = registry()\n") -> str:
    """``Doc`` mapped imperatively onto ``doc_table``, by the ``mapping`` statement."""
    return module(prelude) + textwrap.dedent(f'''

        doc_table = Table("doc", sa.MetaData(), Column("id", Integer, primary_key=True), {table})


        class Doc:
            col: Mapped[datetime.datetime]


        class Other:
            pass


        {mapping}
    ''')


@pytest.mark.parametrize("models, expected", [
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table)"), TRUTHY, id="map-imperatively"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table)", table='Column("col", DateTime)'),
                 SILENT, id="the-table-decides-not-the-annotation"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, Table('doc', sa.MetaData(), "
                            "Column('col', Date, nullable=False)))"), TRUTHY, id="table-written-in-the-call"),
    pytest.param(imperative("mapper(Doc, doc_table)", prelude="from sqlalchemy.orm import mapper\n"),
                 TRUTHY, id="legacy-mapper-function"),
    pytest.param(imperative("mapper(Doc, doc_table)", prelude="def mapper(cls, table):\n    pass\n"),
                 SILENT, id="a-project-function-named-mapper"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table, properties={'col': doc_table.c.id})"),
                 SILENT, id="a-property-over-the-key-is-not-followed"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table, properties={'other': doc_table.c.id})"),
                 TRUTHY, id="properties-for-other-keys"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table, properties=PROPS)"),
                 SILENT, id="properties-not-a-literal-dict"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table, properties={**PROPS})"),
                 SILENT, id="properties-unpacked"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table, column_prefix='_')"),
                 SILENT, id="column-prefix"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, doc_table, **OPTIONS)"),
                 SILENT, id="options-unpacked"),
    pytest.param(imperative("mapper_registry.map_imperatively(Doc, TABLES['doc'])"), SILENT, id="table-unknown"),
    pytest.param(imperative("mapper_registry.map_imperatively(Other, doc_table)"), SILENT, id="another-class-mapped"),
    pytest.param(imperative("REGISTRY.map_imperatively(Doc, doc_table)", prelude="REGISTRY = object()\n"),
                 SILENT, id="map-imperatively-of-something-else"),
    pytest.param(imperative("mapped = mapper_registry.map_imperatively(Doc, doc_table)"), TRUTHY,
                 id="mapping-assigned"),
])
def test_imperative_mapping(project, models, expected):
    assert probe(project, models) == expected


@pytest.mark.parametrize("handler, expected", [
    pytest.param("except ImportError:", TRUTHY, id="except-import-error"),
    pytest.param("except (ModuleNotFoundError, AttributeError):", TRUTHY, id="except-a-tuple"),
    pytest.param("except Exception:", SILENT, id="except-something-else"),
    pytest.param("except:", SILENT, id="bare-except"),
])
def test_import_fallback_in_an_except_handler(project, handler, expected):
    # A ``def mapped_column`` for older SQLAlchemy versions does not hide the import.
    models = doc(
        "col: Mapped[datetime.datetime] = fallback_column(nullable=False)",
        prelude=f"""
            try:
                from sqlalchemy.orm import mapped_column as fallback_column
            {handler}
                def fallback_column(*args, **kwargs):
                    return Column(*args, **kwargs)
        """,
    )
    assert probe(project, models) == expected


@pytest.mark.parametrize("test, expected", [
    pytest.param("TYPE_CHECKING", TRUTHY, id="type-checking"),
    pytest.param("typing.TYPE_CHECKING", TRUTHY, id="typing-dot-type-checking"),
    pytest.param("RUNNING_TESTS", SILENT, id="another-test-binds-two-ways"),
])
def test_the_else_of_if_type_checking_binds_what_runs(project, test, expected):
    # ethyca-fides: a stub class for type checkers, SQLAlchemy's Enum at run time.
    models = doc(
        "col = Column(TimeColumn(timezone=True), nullable=False)",
        prelude=f"""
            import typing
            from typing import TYPE_CHECKING

            RUNNING_TESTS = False
            if {test}:
                class TimeColumn(sa.types.TypeEngine):
                    def __init__(self, **kwargs): ...
            else:
                from sqlalchemy import DateTime as TimeColumn
        """,
    )
    assert probe(project, models) == expected


def test_a_binding_under_type_checking_alone_is_used(project):
    models = doc(
        "col = Column(TimeColumn, nullable=False)",
        prelude="""
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from sqlalchemy import DateTime as TimeColumn
        """,
    )
    assert probe(project, models) == TRUTHY


def test_abstract_class_is_no_model(project):
    models = doc("__abstract__ = True\ncol: Mapped[datetime.datetime]").replace('    __tablename__ = "doc"\n', "")
    assert read_model(project, models) is None


@pytest.mark.parametrize("bases, expected", [
    pytest.param("SQLModel, table=True", TRUTHY, id="sqlmodel-table"),
    pytest.param("SQLModel", SILENT, id="sqlmodel-without-table-is-no-model"),
    pytest.param("SQLModel, table=FLAG", SILENT, id="sqlmodel-non-literal-table"),
    pytest.param("DocBase, table=True", TRUTHY, id="below-a-sqlmodel-base"),
])
def test_sqlmodel_tables(project, bases, expected):
    models = module(f'''
        import sqlmodel
        from sqlmodel import Field, SQLModel


        class DocBase(sqlmodel.SQLModel):
            pass


        class Doc({bases}):
            id: Optional[int] = Field(default=None, primary_key=True)
            col: datetime.datetime
    ''')
    assert probe(project, models) == expected


# -- hierarchies -----------------------------------------------------------------------------------

HIERARCHIES = '''
    class Base(DeclarativeBase):
        pass


    class Stamped:
        col = Column(DateTime, nullable=False)
        only_here = Column(Date, nullable=False)


    class Left(Stamped):
        pass


    class Right(Stamped):
        col = Column(DateTime)


    class Diamond(Left, Right, Base):
        __tablename__ = "diamond"
        id = Column(Integer, primary_key=True)


    class First(Stamped):
        pass


    class Second(Stamped):
        other = Column(Time, nullable=False)


    class FirstSecond(First, Second):
        pass


    class SecondFirst(Second, First):
        pass


    class Inconsistent(FirstSecond, SecondFirst, Base):
        __tablename__ = "inconsistent"
        id = Column(Integer, primary_key=True)


    class Chicken(Egg, Base):
        __tablename__ = "chicken"
        id = Column(Integer, primary_key=True)
        col = Column(DateTime, nullable=False)


    class Egg(Chicken):
        pass


    class Ying(Yang):
        pass


    class Yang(Ying):
        pass
'''


def test_diamond_follows_c3_order(project):
    """Python's MRO is Diamond, Left, Right, Stamped: Right's nullable ``col`` wins."""
    model = read_model(project, module(HIERARCHIES), "Diamond")
    assert model.columns["col"].not_null is False
    assert model.columns["only_here"].not_null is True


def test_inconsistent_hierarchy_still_reads_every_base(project):
    model = read_model(project, module(HIERARCHIES), "Inconsistent")
    assert {"col", "only_here", "other", "id"} <= set(model.columns)
    assert model.columns["other"].not_null is True


def test_inheritance_cycle_does_not_hang(project):
    model = read_model(project, module(HIERARCHIES), "Chicken")
    assert model.columns["col"].not_null is True
    registry = registry_for((project,), Settings())
    loaded = registry.loader.load("app.models")
    for name in ("Ying", "Yang"):
        node = next(n for n in loaded.tree.body if isinstance(n, ast.ClassDef) and n.name == name)
        assert registry.model_for_class(ClassRef(loaded, node)) is None


def test_deep_hierarchy_answers_do_not_depend_on_the_order_asked(project):
    levels = "".join(f"class Level{i}(Level{i - 1}):\n    pass\n\n\n" for i in range(1, 31))
    models = module('''
        class Base(DeclarativeBase):
            pass


        class Level0(Base):
            __tablename__ = "level"
            id = Column(Integer, primary_key=True)
            col = Column(DateTime, nullable=False)


    ''') + levels
    assert read_model(project, models, "Level30").columns["col"].not_null is True
    assert read_model(project, models, "Level5").columns["col"].not_null is True


def test_deeply_nested_optional_is_given_up(project):
    annotation = "datetime.datetime"
    for _ in range(20):
        annotation = f"Optional[{annotation}]"
    model = read_model(project, doc(f"col: Mapped[{annotation}]"))
    assert model.columns["col"].not_null is False
    assert model.columns["col"].facts.label == "unknown type"


# -- __table__ -------------------------------------------------------------------------------------


@pytest.mark.parametrize("table, expected", [
    pytest.param('''
        __table__ = Table(
            "doc", Base.metadata,
            Column("id", Integer, primary_key=True),
            Column("col", DateTime, nullable=False),
            Index("ix_doc_col", "col"),
            UniqueConstraint("col"),
        )
    ''', TRUTHY, id="table-with-indexes"),
    pytest.param('''
        __table__ = Table(
            "doc", Base.metadata,
            Column("id", Integer, primary_key=True),
            Column("col", DateTime),
        )
        col: Mapped[datetime.datetime]
    ''', SILENT, id="table-decides-over-annotations"),
    pytest.param('''
        __table__ = doc_table
    ''', SILENT, id="table-by-name-is-unknown"),
    pytest.param('''
        __table__ = Table("doc", Base.metadata, autoload_with=None)
        col: Mapped[datetime.datetime]
    ''', SILENT, id="reflected-table-is-unknown"),
])
def test_table_declared_models(project, table, expected):
    models = doc(table, id_column=False, prelude='''
        doc_table = Table("doc", Base.metadata, Column("col", DateTime, nullable=False))
    ''').replace('    __tablename__ = "doc"\n', "")
    assert probe(project, models) == expected


def test_table_declared_model_hides_relationship_and_method_keys(project):
    models = module('''
        class Base(DeclarativeBase):
            pass


        class Doc(Base):
            __table__ = Table(
                "doc", Base.metadata,
                Column("id", Integer, primary_key=True),
                Column("col", DateTime, nullable=False),
                Column("owner", Integer, nullable=False),
            )
            owner = relationship("Doc")

            def col(self):
                return None
    ''')
    assert read_model(project, models).columns.keys() == {"id"}


# -- table names and schemas -------------------------------------------------------------------

TABLES = '''
    from flask_sqlalchemy import SQLAlchemy
    from sqlmodel import Field, SQLModel

    db = SQLAlchemy()
    SCHEMA = "billing"
    COMMON = {"comment": "shared"}
    LEGACY_NAME = "legacy"


    class Base(DeclarativeBase):
        pass


    class Person(Base):
        __tablename__ = "person"
        __table_args__ = (UniqueConstraint("name"), {"schema": "hr"})
        id = Column(Integer, primary_key=True)
        name = Column(String(50))


    class Employee(Person):
        hired_on = Column(Date)


    class Audited:
        __table_args__ = {"schema": "audit"}


    class Invoice(Audited, Base):
        __tablename__ = "invoice"
        __table_args__ = {"schema": "billing"}
        id = Column(Integer, primary_key=True)


    class Receipt(Audited, Base):
        __tablename__ = "receipt"
        id = Column(Integer, primary_key=True)


    class Constrained(Base):
        __tablename__ = "constrained"
        __table_args__ = (UniqueConstraint("id"),)
        id = Column(Integer, primary_key=True)


    class SchemaByName(Base):
        __tablename__ = "by_name"
        __table_args__ = {"schema": SCHEMA}
        id = Column(Integer, primary_key=True)


    class SchemaUnpacked(Base):
        __tablename__ = "unpacked"
        __table_args__ = {**COMMON, "comment": "x"}
        id = Column(Integer, primary_key=True)


    class SchemaNone(Base):
        __tablename__ = "schema_none"
        __table_args__ = {"schema": None}
        id = Column(Integer, primary_key=True)


    class Legacy(Base):
        __table__ = Table("legacy", Base.metadata, Column("id", Integer, primary_key=True))


    class LegacyByName(Base):
        __table__ = Table(LEGACY_NAME, Base.metadata, Column("id", Integer, primary_key=True))


    class Computed(Base):
        @declared_attr.directive
        def __tablename__(cls) -> str:
            return cls.__name__.lower()

        id = Column(Integer, primary_key=True)


    class DocumentVersion(db.Model):
        id = db.Column(db.Integer, primary_key=True)


    class HTTPLog(db.Model):
        __tablename__ = "http_logs"
        id = db.Column(db.Integer, primary_key=True)


    class SearchEntry(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
'''


@pytest.mark.parametrize("name, expected", [
    pytest.param("Person", ("person", "hr"), id="schema-in-last-table-args-item"),
    pytest.param("Employee", ("person", "hr"), id="single-table-subclass-shares-the-table"),
    pytest.param("Invoice", ("invoice", "billing"), id="own-table-args-win-over-a-mixin"),
    pytest.param("Receipt", ("receipt", "audit"), id="table-args-from-a-mixin"),
    pytest.param("Constrained", ("constrained", None), id="table-args-without-dict"),
    pytest.param("SchemaByName", ("by_name", None), id="non-literal-schema-is-unknown"),
    pytest.param("SchemaUnpacked", ("unpacked", None), id="table-args-without-schema"),
    pytest.param("SchemaNone", ("schema_none", None), id="schema-none"),
    pytest.param("Legacy", ("legacy", None), id="table-object-name"),
    pytest.param("LegacyByName", (None, None), id="table-object-non-literal-name"),
    pytest.param("Computed", (None, None), id="declared-attr-tablename-is-unknown"),
    pytest.param("DocumentVersion", ("document_version", None), id="flask-derives-snake-case"),
    pytest.param("HTTPLog", ("http_logs", None), id="flask-explicit-tablename"),
    pytest.param("SearchEntry", ("searchentry", None), id="sqlmodel-derives-lower-case"),
])
def test_table_name_and_schema(project, name, expected):
    model = read_model(project, module(TABLES), name)
    assert (model.table, model.schema) == expected


# -- positions in messages ------------------------------------------------------------------------


def test_models_in_an_unnamed_source_are_read(project):
    source = textwrap.dedent('''\
        import datetime
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Doc(Base):
            __tablename__ = "doc"
            id: Mapped[int] = mapped_column(primary_key=True)
            col: Mapped[datetime.datetime]


        def use(doc: Doc):
            if doc.col:
                pass
    ''')
    checker = DBConstraintsChecker(ast.parse(source), "", source.splitlines(keepends=True))
    checker.settings = build_settings(no_cache=True)
    [(line, _col, message, _type)] = list(checker.run())
    assert (line, message.split(" ")[0]) == (16, "DBC100")
    assert re.search(r"declared at \S*:12\)", message)


def test_class_assignments_are_scanned_once_per_class_in_a_bounded_cache():
    from flake8_dbconstraints import column_types

    classes = [ast.parse(f"class C{i}:\n    __tablename__ = 't{i}'\n").body[0] for i in range(600)]
    for index, node in enumerate(classes):
        assert column_types.class_assignment(node, "__tablename__").value == f"t{index}"
    assert len(column_types._ASSIGNMENTS_CACHE) <= 513
    assert column_types.class_assignment(classes[0], "__table_args__") is None


# -- columns are classified when first read -------------------------------------------


def test_columns_are_classified_only_when_read(project, monkeypatch):
    from flake8_dbconstraints.registry import ModelRegistry

    classified = []
    original = ModelRegistry._column_info

    def recording(self, declaration, annotation_map):
        classified.append(declaration.key)
        return original(self, declaration, annotation_map)

    monkeypatch.setattr(ModelRegistry, "_column_info", recording)
    model = read_model(project, doc("a = Column(DateTime, nullable=False)\nb = Column(String)"))
    assert classified == []
    assert model.columns["a"].not_null is True
    assert model.columns.get("a") is model.columns["a"]
    assert classified == ["a"]
    assert "b" in model.columns and "missing" not in model.columns and 3 not in model.columns
    assert model.columns.get("missing") is None
    assert list(model.columns) == ["id", "a", "b"] and len(model.columns) == 3
    assert sorted(classified) == ["a", "b", "id"]


def test_column_whose_type_cannot_be_read_is_not_a_column(project, monkeypatch):
    from flake8_dbconstraints.registry import ModelRegistry

    original = ModelRegistry._column_info

    def failing(self, declaration, annotation_map):
        if declaration.key == "broken":
            raise ValueError("unreadable type")
        return original(self, declaration, annotation_map)

    monkeypatch.setattr(ModelRegistry, "_column_info", failing)
    monkeypatch.delenv("DBC_STRICT")  # the safety net, as in a real run
    model = read_model(project, doc("broken = Column(DateTime, nullable=False)\nfine = Column(DateTime)"))
    assert "broken" not in model.columns and model.columns.get("broken") is None
    with pytest.raises(KeyError):
        model.columns["broken"]
    assert list(model.columns) == ["id", "fine"] and len(model.columns) == 2
    assert model.columns["fine"].not_null is False
