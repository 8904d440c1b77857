"""Receivers: which model is ``obj`` in ``obj.col``, and is it a stored row?

Unit tests aim at one expression, marked ``#@`` as with astroid's ``extract_node``,
and ask ``ReceiverResolver`` for (model, state). Behaviour tests check whole files
(``# expect:`` markers, every unmarked line silent): which writes and calls make a
receiver unknown, which statements and scopes the checker walks, and the rules'
corner cases.
"""
from __future__ import annotations

import ast
import sqlite3
import textwrap
from typing import Optional

import pytest

from flake8_dbconstraints.checker import candidate_lines
from flake8_dbconstraints.file_models import FileModels
from flake8_dbconstraints.loader import ModuleInfo
from flake8_dbconstraints.project import registry_for, roots_for
from flake8_dbconstraints.receivers import CHAIN_METHODS, ReceiverResolver
from flake8_dbconstraints.rules import json_column_mutated_in_place
from flake8_dbconstraints.scopes import COMPREHENSIONS, Scope
from flake8_dbconstraints.settings import build_settings
from flake8_dbconstraints.project import clear_caches
from tests.test_resolution import CHECKED, LAYOUT, Project, expected

LOADED = ("Visit", "loaded")
ROW = ("Visit", "row")
HEADER = """\
import functools
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy import event, select, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import make_transient, validates
from sqlmodel import select as sqlmodel_select

from app.ext import db
from app.models.visits import Base, Patient, Visit
"""
FILES = {**LAYOUT, "app/ext.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """One project for the whole module: the checked source is handed to the plugin
    as flake8 would (never read from disk), so the model modules are parsed once."""
    root = tmp_path_factory.mktemp("receivers")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        project = Project(str(root))
        project.write(FILES)
        yield project
    clear_caches()


def _scope_of(scope: Scope, node: ast.AST, target: ast.AST) -> Scope:
    """The scope the checker would use for ``target`` (see FileChecker.run)."""
    for child in ast.iter_child_nodes(node):
        if not any(inner is target for inner in ast.walk(child)):
            continue
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            class_node = scope.node if isinstance(scope.node, ast.ClassDef) else None
            return _scope_of(Scope(child, scope, class_node), child, target)
        if isinstance(child, (ast.ClassDef, ast.Lambda) + COMPREHENSIONS):
            return _scope_of(Scope(child, scope), child, target)
        return _scope_of(scope, child, target)
    return scope


def _marked_expression(tree: ast.AST, source: str) -> ast.expr:
    """The innermost expression ending just before the ``#@`` marker."""
    ((line, text),) = [(number, text) for number, text in enumerate(source.splitlines(), 1) if "#@" in text]
    end = len(text[: text.index("#@")].rstrip())
    ending = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.expr) and node.end_lineno == line and node.end_col_offset == end
    ]
    return max(ending, key=lambda node: (node.lineno, node.col_offset))


def _receiver(project, body: str):
    """The receiver of the expression on the line marked ``#@``, or None."""
    source = HEADER + textwrap.dedent(body)
    settings = build_settings(no_cache=True)
    tree = ast.parse(source)
    project.trees.append(tree)
    file_models = FileModels(registry_for(roots_for(CHECKED, settings), settings), CHECKED, tree, source)
    target = _marked_expression(tree, source)
    return ReceiverResolver(file_models).receiver_of(target, _scope_of(file_models.scope, tree, target))


def receiver_at(project, body: str) -> Optional[tuple[str, str]]:
    """(model name, state) of the expression on the line marked ``#@``, or None."""
    receiver = _receiver(project, body)
    return None if receiver is None else (receiver.model.name, receiver.state)


def in_function(*lines: str) -> str:
    return "\n\nasync def check(session, cache, request, items, loader, unknown, statements):\n" + "".join(
        f"    {line}\n" for line in lines
    )


# -- queries ----------------------------------------------------------------------------
QUERIES = {
    "session.get": ("session.get(Visit, 1)", LOADED),
    "session.get_one": ("session.get_one(Visit, 1)", LOADED),
    "db.get_or_404": ("db.get_or_404(Visit, 1)", LOADED),
    "db.session.get": ("db.session.get(Visit, 1)", LOADED),
    "session.get without an id": ("session.get(Visit)", None),
    "dict.get with a default": ('cache.get("visit", None)', None),
    "query.first": ("session.query(Visit).first()", LOADED),
    "query.one": ("session.query(Visit).one()", LOADED),
    "query.one_or_none": ("session.query(Visit).one_or_none()", LOADED),
    "query.first_or_404": ("session.query(Visit).first_or_404()", LOADED),
    "query.one_or_404": ("session.query(Visit).one_or_404()", LOADED),
    "query.get": ("session.query(Visit).get(1)", LOADED),
    "query.get_or_404": ("session.query(Visit).get_or_404(1)", LOADED),
    "query.all is a list": ("session.query(Visit).all()", None),
    "query.count": ("session.query(Visit).count()", None),
    "query itself": ("session.query(Visit)", None),
    "query of two entities": ("session.query(Visit, Patient).first()", None),
    "query of a column is a Row of its value": ("session.query(Visit.started_at).first()", LOADED),
    "query with keywords": ("session.query(Visit, x=1).first()", None),
    "M.query": ("Visit.query.filter_by(id=1).first()", LOADED),
    "M.query.get": ("Visit.query.get(1)", LOADED),
    "query attribute of a non-model": ("request.query.first()", None),
    "scalars().first": ("session.scalars(select(Visit)).first()", LOADED),
    "scalars().one_or_none": ("session.scalars(sa.select(Visit)).one_or_none()", LOADED),
    "scalars().unique().one": ("session.scalars(select(Visit)).unique().one()", LOADED),
    "scalars().all is a list": ("session.scalars(select(Visit)).all()", None),
    "scalars().partitions": ("session.scalars(select(Visit)).partitions()", None),
    "scalars() itself": ("session.scalars(select(Visit))", None),
    "SQLModel exec().first": ("session.exec(sqlmodel_select(Visit)).first()", LOADED),
    "db.select": ("session.scalars(db.select(Visit)).one()", LOADED),
    "execute().scalar_one": ("session.execute(select(Visit)).scalar_one()", LOADED),
    "execute().scalar_one_or_none": ("session.execute(select(Visit)).scalar_one_or_none()", LOADED),
    "execute().scalar": ("session.execute(select(Visit)).scalar()", LOADED),
    "execute().scalars().first": ("session.execute(select(Visit)).scalars().first()", LOADED),
    "execute().unique().scalar_one": ("session.execute(select(Visit)).unique().scalar_one()", LOADED),
    "execute().first is a Row": ("session.execute(select(Visit)).first()", None),
    "execute() of text": ('session.execute(text("select 1")).scalar_one()', None),
    "session.scalar": ("session.scalar(select(Visit))", LOADED),
    "db.first_or_404": ("db.first_or_404(select(Visit))", LOADED),
    "db.one_or_404": ("db.one_or_404(select(Visit))", LOADED),
    "scalars of a query": ("session.scalars(session.query(Visit)).first()", None),
    "select of a column": ("session.scalars(sa.select(Visit.started_at)).first()", None),
    # scalars() keeps the first entity of each row (checked on SQLite: a Visit).
    "scalars of a select of two entities": ("session.scalars(select(Patient, Visit)).first()", ("Patient", "loaded")),
    "scalar of a select of two entities": ("session.scalar(select(Visit, Patient))", LOADED),
    "first of a select of two entities is a Row": ("session.execute(select(Visit, Patient)).first()", None),
    "first of a query of two entities is a Row": ("session.query(Visit, Patient).first()", None),
    "select with keywords": ("session.scalars(select(Visit, x=1)).first()", None),
    "select of a non-model": ("session.scalars(select(unknown)).first()", None),
    "unknown select function": ("session.scalars(loader(Visit)).first()", None),
    "subscript receiver": ("items[0].first()", None),
    "attribute of an unknown object": ("request.args.first()", None),
    "await execute, then scalar_one": ("(await session.execute(select(Visit))).scalar_one()", LOADED),
    "await scalars, then first": ("(await session.scalars(select(Visit))).first()", LOADED),
    "a literal": ("42", None),
}


@pytest.mark.parametrize("expression, receiver", QUERIES.values(), ids=QUERIES.keys())
def test_query_spellings(project, expression, receiver):
    assert receiver_at(project, in_function(f"{expression}  #@")) == receiver


@pytest.mark.parametrize("method", sorted(CHAIN_METHODS))
def test_chain_methods_keep_the_selected_model(project, method):
    assert receiver_at(project, in_function(f"session.query(Visit).{method}(x).first()  #@")) == LOADED
    assert receiver_at(project, in_function(f"session.scalars(select(Visit).{method}(x)).one()  #@")) == LOADED


def test_methods_outside_the_chain_lose_the_model(project):
    assert receiver_at(project, in_function("session.query(Visit).with_entities(Visit.id).first()  #@")) is None


@pytest.mark.parametrize(
    "iterable",
    [
        "session.query(Visit).all()",
        "session.query(Visit).filter(x)",
        "session.scalars(select(Visit))",
        "session.scalars(select(Visit)).all()",
        "session.scalars(select(Visit)).fetchall()",
        "session.execute(select(Visit)).scalars()",
        "session.exec(sqlmodel_select(Visit))",
        "Visit.query.filter(x)",
    ],
)
def test_iterating_query_results_gives_loaded_rows(project, iterable):
    assert receiver_at(project, in_function(f"for visit in {iterable}:", "    visit  #@")) == LOADED


@pytest.mark.parametrize(
    "iterable",
    ["session.execute(select(Visit))", "session.query(Visit).first()", "items", "loader()", "unknown.visits"],
)
def test_iterating_other_values_gives_unknown(project, iterable):
    assert receiver_at(project, in_function(f"for visit in {iterable}:", "    visit  #@")) is None


PATIENT = ("Patient", "loaded")
UNPACKED = {
    "for over execute(select(A, B))": (["for visit, patient in session.execute(select(Visit, Patient)):",
                                        "    patient  #@"], PATIENT),
    "for over execute(...).all()": (["for visit, patient in session.execute(select(Visit, Patient).join(x)).all():",
                                     "    visit  #@"], LOADED),
    "for over a query of two entities": (["for visit, patient in session.query(Visit, Patient).filter(x):",
                                          "    patient  #@"], PATIENT),
    "for over query(...).all()": (["for visit, patient in session.query(Visit, Patient).all():", "    visit  #@"],
                                  LOADED),
    "rows bound to a name": (["rows = session.execute(sa.select(Visit, Patient))", "for visit, patient in rows:",
                              "    patient  #@"], PATIENT),
    "SQLModel exec of two entities": (["for visit, patient in session.exec(sqlmodel_select(Visit, Patient)):",
                                       "    visit  #@"], LOADED),
    "unpacked first()": (["visit, patient = session.execute(select(Visit, Patient)).one()", "patient  #@"], PATIENT),
    "unpacked query first()": (["visit, patient = session.query(Visit, Patient).first()", "visit  #@"], LOADED),
    "unpacked row bound to a name": (["row = session.query(Visit, Patient).first()", "visit, patient = row",
                                      "patient  #@"], PATIENT),
    "comprehension": (["[patient  #@", "    for visit, patient in session.execute(select(Visit, Patient))]"],
                      PATIENT),
    "a column at the other position": (["for visit, started in session.execute(select(Visit, Visit.started_at)):",
                                        "    visit  #@"], LOADED),
    # -- unknown ------------------------------------------------------------------------
    "the column position": (["for visit, started in session.execute(select(Visit, Visit.started_at)):",
                             "    started  #@"], None),
    # Across an outer join an entity is a stored object or None (and ``None.col`` raises).
    "outer join": (["for visit, patient in session.execute(select(Visit, Patient)"
                    ".outerjoin(x)):", "    visit  #@"], LOADED),
    "join with isouter": (["for visit, patient in session.query(Visit, Patient).join(x, isouter=True):",
                           "    visit  #@"], LOADED),
    "join with full": (["for visit, patient in session.execute(select(Visit, Patient).join(x, full=flag)):",
                        "    patient  #@"], PATIENT),
    "join with isouter=False is inner": (["for visit, patient in session.query(Visit, Patient)"
                                          ".join(x, isouter=False):", "    patient  #@"], PATIENT),
    "an entity beside a column across an outer join": (
        ["for visit, started in session.execute(select(Visit, Visit.started_at).outerjoin(x)):",
         "    visit  #@"], LOADED),
    "more names than entities": (["for visit, patient, x in session.execute(select(Visit, Patient)):",
                                  "    visit  #@"], None),
    "scalars are not rows": (["for visit, patient in session.scalars(select(Visit, Patient)):", "    visit  #@"],
                             None),
    "one object is not a row": (["visit, patient = session.get(Visit, 1)", "visit  #@"], None),
    "a row is not an iterable of rows": (["for visit, patient in session.query(Visit, Patient).first():",
                                          "    visit  #@"], None),
    "rows are not one row": (["visit, patient = session.execute(select(Visit, Patient))", "visit  #@"], None),
    "a query of one entity yields objects": (["for visit, patient in session.query(Visit):", "    visit  #@"], None),
    "starred target": (["for visit, *rest in session.execute(select(Visit, Patient)):", "    visit  #@"], None),
    "nested target": (["for (visit, patient), x in pairs(session):", "    visit  #@"], None),
    "nested target in a comprehension": (["[visit  #@", "    for (visit, patient), x in pairs(session)]"], None),
    "an unknown iterable": (["for visit, patient in items:", "    visit  #@"], None),
    "also bound otherwise": (["visit = Visit()", "for visit, patient in session.query(Visit, Patient):",
                              "    visit  #@"], None),
}


@pytest.mark.parametrize("lines, receiver", UNPACKED.values(), ids=UNPACKED.keys())
def test_rows_of_several_entities_unpacked(project, lines, receiver):
    assert receiver_at(project, in_function(*lines)) == receiver


def row_columns_at(project, body: str) -> Optional[tuple[str, list, bool]]:
    """(model name, column keys, values) of the receiver marked ``#@``, or None."""
    receiver = _receiver(project, body)
    return None if receiver is None else (receiver.model.name, sorted(receiver.model.columns), receiver.values)


ROWS_OF_VALUES = {
    "query(...).first()": (["session.query(Visit.id, Visit.started_at).first()  #@"],
                           ("Visit", ["id", "started_at"], True)),
    "query of one column, one()": (["session.query(Visit.started_at).filter(x).one()  #@"],
                                   ("Visit", ["started_at"], True)),
    "for over a query of columns": (["for row in session.query(Visit.id, Visit.note):", "    row  #@"],
                                    ("Visit", ["id", "note"], True)),
    "for over execute(select(columns))": (["for row in session.execute(select(Visit.started_at).join(x)).all():",
                                           "    row  #@"], ("Visit", ["started_at"], True)),
    "rows bound to a name": (["rows = session.execute(sa.select(Visit.id, Visit.started_at))", "for row in rows:",
                              "    row  #@"], ("Visit", ["id", "started_at"], True)),
    "a query bound to a name, iterated in a generator": (
        ["query = session.query(Visit.id, Visit.started_at).filter(x)",
         "(row  #@", " for row in query if row.id)"], ("Visit", ["id", "started_at"], True)),
    "execute(...).first()": (["session.execute(select(Visit.id, Visit.started_at)).first()  #@"],
                             ("Visit", ["id", "started_at"], True)),
    "an entity beside the columns": (["session.execute(select(Patient, Visit.started_at)).one()  #@"],
                                     ("Visit", ["started_at"], True)),
    "a plain join() construct in select_from": (
        ["session.execute(select(Visit.id, Visit.started_at).select_from(join(Patient, Visit))).first()  #@"],
        ("Visit", ["id", "started_at"], True)),
    # -- unknown ------------------------------------------------------------------------
    "an entity beside the columns, across an outer join": (
        ["session.execute(select(Visit, Patient.born_on).outerjoin(x)).one()  #@"], None),
    "outer join": (["session.query(Visit.started_at).outerjoin(x).first()  #@"], None),
    "outerjoin() construct in select_from": (
        ["session.execute(select(Visit.id, Visit.started_at).select_from(sa.outerjoin(Patient, Visit))).first()  #@"],
        None),
    "join(..., isouter=True) construct in select_from": (
        ["session.execute(select(Visit.id, Visit.started_at)",
         "                .select_from(join(Patient, Visit, isouter=True))).one()  #@"],
        None),
    "columns of two models": (["session.query(Visit.started_at, Patient.born_on).first()  #@"], None),
    "the same key twice": (["session.query(Visit.id, Patient.id).first()  #@"], None),
    "a relationship is no column": (["session.query(Visit.patient).first()  #@"], None),
    "a label": (["session.query(Visit.started_at.label('s')).first()  #@"], None),
    "entities only": (["session.execute(select(Visit, Patient)).first()  #@"], None),
    "scalars of columns are values": (["session.scalars(select(Visit.started_at)).first()  #@"], None),
    "a select statement is no row": (["select(Visit.started_at)  #@"], None),
    "mappings are dicts": (["session.execute(select(Visit.id, Visit.started_at)).mappings().first()  #@"], None),
}


@pytest.mark.parametrize("lines, receiver", ROWS_OF_VALUES.values(), ids=ROWS_OF_VALUES.keys())
def test_rows_of_column_values(project, lines, receiver):
    assert row_columns_at(project, in_function(*lines)) == receiver


NAMED_QUERIES = {
    "query bound to a name": (["query = session.query(Visit)", "query.first()  #@"], LOADED),
    "statement bound to a name": (["statement = select(Visit).where(x)", "session.scalars(statement).one()  #@"],
                                  LOADED),
    "result bound to a name": (["result = session.execute(select(Visit))", "result.scalar_one()  #@"], LOADED),
    "scalars bound to a name": (["rows = session.scalars(select(Visit))", "rows.first()  #@"], LOADED),
    "list bound to a name, iterated": (["rows = session.query(Visit).all()", "for row in rows:", "    row  #@"],
                                       LOADED),
    "query bound to a name, iterated": (["query = session.query(Visit).filter(x)", "for row in query:", "    row  #@"],
                                        LOADED),
    "scalars bound to a name, iterated": (["rows = session.scalars(select(Visit))", "for row in rows:", "    row  #@"],
                                          LOADED),
    "list bound to a name": (["rows = session.query(Visit).all()", "rows  #@"], None),
    "row bound to a name": (["visit = session.get(Visit, 1)", "visit  #@"], LOADED),
    "row bound to a name, then first": (["visit = session.get(Visit, 1)", "visit.first()  #@"], None),
    "query refined by rebinding it": (
        ["query = session.query(Visit)", "query = query.filter(x)", "query.first()  #@"],
        LOADED,
    ),
    "query rebound to another model's query": (
        ["query = session.query(Visit)", "query = session.query(Patient)", "query.first()  #@"],
        None,
    ),
    "name bound to an unknown call": (['result = session.execute(text("x"))', "result.scalar_one()  #@"], None),
    "name bound by a loop": (["for query in items:", "    pass", "query.first()  #@"], None),
    "alias of a loaded row": (["visit = session.get(Visit, 1)", "other = visit", "other  #@"], LOADED),
    "awaited row": (["visit = await session.get(Visit, 1)", "visit  #@"], LOADED),
    "loaded rows of the same model": (
        ["visit = session.get(Visit, 1)", "if not visit:", "    visit = session.scalars(select(Visit)).first()",
         "visit  #@"],
        LOADED,
    ),
    "a loaded row and an annotated row": (
        ["visit: Visit = loader()", "if not visit:", "    visit = session.get(Visit, 1)", "visit  #@"],
        ROW,
    ),
    "row and row of the same model": (
        ["visit = session.get(Visit, 1)", "if not visit:", "    visit = loader.visit", "visit  #@"],
        None,
    ),
    "loaded rows of two models": (
        ["visit = session.get(Visit, 1)", "if not visit:", "    visit = session.get(Patient, 1)", "visit  #@"],
        None,
    ),
    "a row and a list of rows": (
        ["visits = session.get(Visit, 1)", "if items:", "    visits = session.query(Visit).all()",
         "for visit in visits:", "    visit  #@"],
        None,
    ),
    "a name defined through itself": (["visit = visit", "visit  #@"], None),
}


@pytest.mark.parametrize("lines, receiver", NAMED_QUERIES.values(), ids=NAMED_QUERIES.keys())
def test_names_bound_to_queries(project, lines, receiver):
    assert receiver_at(project, in_function(*lines)) == receiver


@pytest.mark.parametrize("links, receiver", [(2, LOADED), (4, LOADED), (8, None)])
def test_alias_chains_of_rows_are_followed_up_to_a_bound(project, links, receiver):
    lines = ["alias0 = session.get(Visit, 1)"] + [f"alias{i} = alias{i - 1}" for i in range(1, links)]
    assert receiver_at(project, in_function(*lines, f"alias{links - 1}  #@")) == receiver


@pytest.mark.parametrize("filters, receiver", [(3, LOADED), (14, None)])
def test_method_chains_are_followed_up_to_a_bound(project, filters, receiver):
    chain = "session.query(Visit)" + ".filter(x)" * filters + ".first()"
    assert receiver_at(project, in_function(f"{chain}  #@")) == receiver


# -- relationships --------------------------------------------------------------------
RELATIONSHIPS = {
    "many-to-one of a loaded row": (["visit = session.get(Visit, 1)", "visit.patient  #@"], ("Patient", "row")),
    "back to the row's model": (["visit = session.get(Visit, 1)", "visit.patient.visits[0]  #@"], None),
    "element of a collection": (["patient = session.get(Patient, 1)", "for visit in patient.visits:",
                                 "    visit  #@"], ROW),
    "element of a collection of a relationship": (
        ["visit = session.get(Visit, 1)", "for sibling in visit.patient.visits:", "    sibling  #@"], ROW),
    "a column is not a relationship": (["visit = session.get(Visit, 1)", "visit.started_at  #@"], None),
    "attribute of a column value": (["visit = session.get(Visit, 1)", "visit.started_at.tzinfo  #@"], None),
    "relationship of an unknown object": (["unknown.patient  #@"], None),
    "collection of an unknown object": (["for visit in unknown.visits:", "    visit  #@"], None),
    "collection of a list of rows": (["rows = session.query(Patient).all()", "for visit in rows.visits:",
                                      "    visit  #@"], None),
    "relationship of a list of rows": (["rows = session.query(Visit).all()", "rows.patient  #@"], None),
    "unknown attribute of a row": (["visit = session.get(Visit, 1)", "visit.doctor  #@"], None),
}


@pytest.mark.parametrize("lines, receiver", RELATIONSHIPS.values(), ids=RELATIONSHIPS.keys())
def test_relationship_chains(project, lines, receiver):
    assert receiver_at(project, in_function(*lines)) == receiver


# -- annotations and parameters ---------------------------------------------------------
ANNOTATED = {
    "annotation with a query value": (["visit: Visit = session.get(Visit, 1)", "visit  #@"], LOADED),
    "annotation with an unknown value": (["visit: Visit = loader()", "visit  #@"], ROW),
    "annotation with a constructor value": (["visit: Visit = Visit()", "visit  #@"], None),
    "bare annotation": (["visit: Visit", "visit  #@"], ROW),
    "Optional annotation": (['visit: "Optional[Visit]" = loader()', "visit  #@"], ROW),
    "annotation of a non-model": (["visit: int = loader()", "visit  #@"], None),
    "annotation that is not a class": (["visit: Visit.started_at = loader()", "visit  #@"], None),
    "union of two models": (['visit: "Union[Visit, Patient]" = loader()', "visit  #@"], None),
}


@pytest.mark.parametrize("lines, receiver", ANNOTATED.values(), ids=ANNOTATED.keys())
def test_annotated_variables(project, lines, receiver):
    assert receiver_at(project, in_function(*lines)) == receiver


PARAMETERS = {
    "positional": ("def f(visit: Visit):\n    visit  #@\n", ROW),
    "positional-only": ("def f(visit: Visit, /):\n    visit  #@\n", ROW),
    "keyword-only": ("def f(*, visit: Visit):\n    visit  #@\n", ROW),
    "unannotated": ("def f(visit):\n    visit  #@\n", None),
    "iterated star args": ("def f(*visits: Visit):\n    for visit in visits:\n        visit  #@\n", None),
    "lambda": ("f = lambda visit: visit  #@\n", None),
    "closure": ("def f(visit: Visit):\n    def g():\n        visit  #@\n", ROW),
    "decorated by a subscript": ('@hooks["x"]\ndef f(visit: Visit):\n    visit  #@\n', ROW),
    "listener decorator": ('@event.listens_for(Visit, "load")\ndef f(visit: Visit, context):\n    visit  #@\n', None),
    "bare listener decorator": ("@listens_for\ndef f(visit: Visit, context):\n    visit  #@\n", None),
    "registered with event.listen": (
        'def f(visit: Visit, context):\n    visit  #@\n\n\nevent.listen(Visit, "load", f)\n', None),
    "event.listen with a computed handler": (
        'def f(visit: Visit, context):\n    visit  #@\n\n\nevent.listen(Visit, "load", handlers[0])\n', ROW),
}


@pytest.mark.parametrize("body, receiver", PARAMETERS.values(), ids=PARAMETERS.keys())
def test_parameters(project, body, receiver):
    assert receiver_at(project, "\n\n" + body) == receiver


def test_comprehension_variable_shadows_a_parameter(project):
    assert receiver_at(project, "\n\ndef f(visit: Visit, others):\n    [visit  #@\n     for visit in others]\n") is None


# -- self ----------------------------------------------------------------------------
SELF = {
    "ordinary method": ("def m(self):", ROW),
    "async method": ("async def m(self):", ROW),
    "property": ("@property\n    def m(self):", ROW),
    "cached_property": ("@cached_property\n    def m(self):", ROW),
    "functools.cached_property": ("@functools.cached_property\n    def m(self):", ROW),
    "property setter": ("@m.setter\n    def m(self, value):", None),
    "hybrid_property": ("@hybrid_property\n    def m(self):", None),
    "validator": ('@validates("started_at")\n    def m(self, key, value):', None),
    "classmethod": ("@classmethod\n    def m(self):", None),
    "staticmethod": ("@staticmethod\n    def m(self):", None),
    "__init__": ("def __init__(self):", None),
    "__post_init__": ("def __post_init__(self):", None),
    "__repr__": ("def __repr__(self):", None),
    "__str__": ("def __str__(self):", None),
    "method without parameters": ("def m():\n        self = loader()", None),
}


@pytest.mark.parametrize("header, receiver", SELF.values(), ids=SELF.keys())
def test_self_in_model_methods(project, header, receiver):
    body = f"""

class Visit2(Visit):
    {header}
        self  #@
"""
    expected_receiver = None if receiver is None else ("Visit2", receiver[1])
    assert receiver_at(project, body) == expected_receiver


@pytest.mark.parametrize(
    "body, receiver",
    [
        ("class Plain:\n    def m(self):\n        self  #@\n", None),
        ("class Visit2(Visit):\n    def m(self):\n        def inner(self):\n            self  #@\n", None),
        ("class Visit2(Visit):\n    def m(self):\n        def inner():\n            self  #@\n", ("Visit2", "row")),
        ("class Visit2(Visit):\n    def m(self, other: Patient):\n        other  #@\n", ("Patient", "row")),
        ("class Visit2(Visit):\n    check = lambda self: self  #@\n", None),
    ],
    ids=["not a model", "nested function's own self", "closure over self", "second parameter", "lambda in class"],
)
def test_self_elsewhere(project, body, receiver):
    assert receiver_at(project, "\n\n" + body) == receiver


# -- whole files: writes, opaque calls and scopes ------------------------------------------
def check_source(project, body: str):
    source = HEADER + textwrap.dedent(body)
    return project.check(source=source), expected(source)


UNKNOWN_AFTER = {
    "setattr": 'setattr(visit, "started_at", None)',
    "delattr": 'delattr(visit, "started_at")',
    "make_transient": "make_transient(visit)",
    "orm.make_transient": "sa.orm.make_transient(visit)",
    "make_transient_to_detached": "sa.orm.make_transient_to_detached(visit)",
    "session.expunge": "session.expunge(visit)",
    "assignment": "visit.started_at = None",
    "annotated assignment": "visit.started_at: object = None",
    "augmented assignment": "visit.started_at += delta",
    "del": "del visit.started_at",
    "tuple assignment": "visit.started_at, other = None, 1",
    "starred assignment": "first, *visit.started_at = items",
    "loop target": "for visit.started_at in items:\n        pass",
    "with target": "with loader() as visit.started_at:\n        pass",
}


@pytest.mark.parametrize("statement", UNKNOWN_AFTER.values(), ids=UNKNOWN_AFTER.keys())
def test_writes_and_opaque_calls_make_the_column_unknown(project, statement):
    body = f"""

def check(session, items, loader, delta):
    visit = session.get(Visit, 1)
    {statement}
    if visit.started_at is None:
        pass


def control(session):
    visit = session.get(Visit, 1)
    if visit.started_at is None:  # expect: DBC101
        pass
"""
    found, marked = check_source(project, body)
    assert found == marked and len(found) == 1


def test_writes_of_the_column_on_objects_of_another_model_do_not_count(project):
    found, marked = check_source(project, """

def check(session):
    visit = session.get(Visit, 1)
    visit.patient.started_at = None  # a Patient: not the visit, whatever the session holds
    if visit.started_at is None:  # expect: DBC101
        pass
    if visit.patient.born_on is None:  # expect: DBC101
        pass
    visit.started_at = None  # after the guard: it cannot affect it
""")
    assert found == marked and len(found) == 2


def test_writes_of_the_column_on_objects_that_may_be_the_row_count(project):
    found, marked = check_source(project, """

def check(session, rows):
    visit = session.get(Visit, 1)
    rows[0].started_at = None  # rows may hold the visit: the session has one object per row
    if visit.started_at is None:
        pass
""")
    assert found == marked == []


def test_guard_on_a_call_result_is_unknown(project):
    found, marked = check_source(project, """

def check(session):
    if session.get(Visit, 1).started_at is None:  # the receiver is not a name
        pass
    if Visit.query.get(1).started_at:
        pass
""")
    assert found == marked == []


REBINDINGS = {
    "tuple target": "visit, other = items",
    "starred target": "other, *visit = items",
    "list target": "[visit, other] = items",
    "loop tuple target": "for other, visit in items:\n        pass",
    "with target": "with loader() as visit:\n        pass",
    "with tuple target": "with loader() as (visit, other):\n        pass",
    "except target": "try:\n        pass\n    except Exception as visit:\n        pass",
    "del": "del visit",
    "augmented assignment": "visit += 1",
    "annotated rebinding": "visit: int = 1",
    "walrus": "if (visit := loader()):\n        pass",
    "walrus in a comprehension": "[(visit := item) for item in items]",
    "nested function": "def visit():\n        pass",
    "nested class": "class visit:\n        pass",
    "import": "import visit",
    "from-import": "from app import visit",
}


@pytest.mark.parametrize("statement", REBINDINGS.values(), ids=REBINDINGS.keys())
def test_name_bound_a_second_way_is_unknown(project, statement):
    body = f"""

def check(session, items, loader):
    visit = session.get(Visit, 1)
    {statement}
    if visit.started_at is None:
        pass
"""
    found, _ = check_source(project, body)
    assert found == []


SCOPE_BINDINGS = {
    "assignment": ("visit = load()", ["assign"]),
    "annotated assignment": ("visit: Visit = load()", ["annotated"]),
    "bare annotation": ("visit: Visit", ["annotated"]),
    "loop": ("for visit in rows:\n    pass", ["for"]),
    "async loop": ("async for visit in rows:\n    pass", ["for"]),
    "loop tuple target": ("for i, visit in rows:\n    pass", ["element"]),
    "tuple target": ("visit, other = rows", ["element"]),
    "list target": ("[visit, other] = rows", ["element"]),
    "nested tuple target": ("(visit, other), more = rows", ["other"]),
    "starred target": ("first, *visit = rows", ["other"]),
    "with target": ("with load() as visit:\n    pass", ["other"]),
    "async with tuple target": ("async with load() as (visit, other):\n    pass", ["other"]),
    "except target": ("try:\n    pass\nexcept Exception as visit:\n    pass", ["other"]),
    "bare except": ("try:\n    pass\nexcept Exception:\n    visit = 1", ["assign"]),
    "del": ("del visit", ["other"]),
    "augmented assignment": ("visit += 1", ["other"]),
    "walrus": ("if (visit := load()):\n    pass", ["assign"]),
    "walrus in a comprehension": ("[(visit := row) for row in rows]", ["other"]),
    "comprehension target": ("[visit for visit in rows]", []),
    "lambda parameter": ("f = lambda visit: visit", []),
    "walrus in a lambda": ("f = lambda: (visit := 1)", []),
    "nested function parameter": ("def f(visit):\n    pass", []),
    "match capture": ("match rows:\n    case [visit]:\n        pass", ["other"]),
    "match mapping value": ('match rows:\n    case {"k": visit}:\n        pass', ["other"]),
    "match star": ("match rows:\n    case [first, *visit]:\n        pass", ["other"]),
    "match as": ("match rows:\n    case Visit() as visit:\n        pass", ["other"]),
    "match class keyword": ("match rows:\n    case Visit(started_at=visit):\n        pass", ["other"]),
    "function definition": ("def visit():\n    pass", ["function"]),
    "class definition": ("class visit:\n    pass", ["class"]),
    "import": ("import visit", ["import"]),
    "dotted import": ("import visit.models", ["import"]),
    "from-import": ("from app import visit", ["import"]),
    "star import": ("from app import *", []),
    "in a while body": ("while rows:\n    visit = 1\nelse:\n    visit = 2", ["assign", "assign"]),
    "in try, else and finally": (
        "try:\n    visit = 1\nexcept Exception:\n    pass\nelse:\n    visit = 2\nfinally:\n    visit = 3",
        ["assign", "assign", "assign"],
    ),
}


@pytest.mark.parametrize("statement, kinds", SCOPE_BINDINGS.values(), ids=SCOPE_BINDINGS.keys())
def test_scope_bindings_of_a_function(statement, kinds):
    source = "async def check(rows, load):\n" + textwrap.indent(statement, "    ") + "\n"
    module = ModuleInfo("check", "check.py", ast.parse(source))
    scope = Scope(module.tree.body[0], module.scope)
    assert [binding.kind for binding in scope.bindings.get("visit", [])] == kinds


@pytest.mark.parametrize("statement", ["global visit", "nonlocal visit"])
def test_global_and_nonlocal_names_are_unknown_in_the_scope(statement):
    source = f"visit = 1\n\n\ndef outer(visit):\n    def check():\n        {statement}\n"
    module = ModuleInfo("check", "check.py", ast.parse(source))
    outer = Scope(module.tree.body[1], module.scope)
    check = Scope(module.tree.body[1].body[0], outer)
    assert check.lookup("visit") == (None, [])
    assert outer.lookup("visit")[0] is outer


def test_scope_bindings_of_star_and_keyword_parameters():
    module = ModuleInfo("check", "check.py", ast.parse("def f(a, /, b, *args, c, **kwargs):\n    pass\n"))
    scope = Scope(module.tree.body[0], module.scope)
    assert {name: [b.kind for b in bindings] for name, bindings in scope.bindings.items()} == {
        name: ["param"] for name in ("a", "b", "args", "c", "kwargs")
    }


def test_guards_around_a_match_statement(project):
    found, marked = check_source(project, """

def check(session, command):
    visit = session.get(Visit, 1)
    match command:
        case "started":
            if visit.started_at is None:  # expect: DBC101
                pass
        case _:
            pass
    return visit.started_at is None  # expect: DBC101


def rebound_by_a_pattern(session, command):
    visit = session.get(Visit, 1)
    match command:
        case [visit]:
            pass
    if visit.started_at is None:  # also bound by the case pattern: unknown
        pass
""")
    assert found == marked and len(found) == 2


def test_rebinding_in_a_closure_does_not_change_the_outer_name(project):
    found, marked = check_source(project, """

def check(session):
    visit = session.get(Visit, 1)

    def inner():
        visit = None
        return visit

    if visit.started_at is None:  # expect: DBC101
        pass
    return inner


def reader(session):
    visit = session.get(Visit, 1)

    def inner():
        nonlocal visit
        return visit.started_at is None

    return inner
""")
    assert found == marked and len(found) == 1


def test_walrus_binds_a_loaded_row(project):
    found, marked = check_source(project, """

def check(session, items):
    if (visit := session.get(Visit, 1)) is not None and visit.started_at is None:  # expect: DBC101
        pass
    return [row for row in items if (last := row)]
""")
    assert found == marked and len(found) == 1


def test_lambdas_and_comprehensions_see_the_enclosing_row(project):
    found, marked = check_source(project, """

def check(session, items):
    visit = session.get(Visit, 1)
    late = lambda: visit.started_at is None  # expect: DBC101
    named = lambda visit: visit.started_at is None  # the lambda's own parameter
    started = [v for v in session.scalars(select(Visit)) if v.started_at]  # expect: DBC100
    pairs = [(i, v) for i, v in enumerate(session.scalars(select(Visit))) if v.started_at]  # tuple target
    sets = {v.id for v in session.query(Visit) if not v.started_at}  # expect: DBC100
    gen = list(v for v in items if visit.started_at)  # expect: DBC100
    keyed = {v.id: v for v in session.query(Visit).all() if v.started_at or v.note}  # expect: DBC100
    return late, named, started, pairs, sets, gen, keyed
""")
    assert found == marked and len(found) == 5


# -- which statements the checker walks ----------------------------------------------------
def test_guards_in_every_kind_of_block_are_found(project):
    found, marked = check_source(project, """

async def check(session, command, items):
    visit = session.get(Visit, 1)
    try:
        if visit.started_at is None:  # expect: DBC101
            pass
    except ValueError:
        if visit.started_at is None:  # expect: DBC101
            pass
    except Exception as error:
        raise error
    else:
        while not visit.started_at:  # expect: DBC100
            break
    finally:
        print(visit.started_at or "never")  # expect: DBC100
    with open("x") as handle, open("y"):
        assert visit.started_at is not None  # an assert states an invariant
        return visit.started_at is not None  # expect: DBC101
    async with session.begin():
        for item in items:
            pass
        else:
            value = visit.started_at if visit.started_at else None  # expect: DBC100
    async for item in items:
        value = (
            visit.started_at  # expect: DBC101
            is None
        )
    return value, handle
""")
    assert found == marked and len(found) == 7


@pytest.mark.parametrize(
    "source, lines",
    [
        ("x = 1\ny = 2\n", []),
        ("if visit.started_at is None:\n    pass\n", [1]),
        ("if visit.started_at == None:\n    pass\n", [1]),
        ("x = None\n", []),
        ("if (\n    visit.started_at\n    is not None\n):\n    pass\n", [3]),
        ("if None is visit.started_at:\n    pass\n", [1]),
        ("if visit.started_at:\n    pass\n", [1]),
        ("while not (visit.started_at):\n    pass\n", [1]),
        ("y = visit.started_at if visit.started_at else 1\n", [1]),
        ("y = visit.started_at or 1\n", [1]),
        ('visit.extra["k"] = 1\n', [1]),
        ('visit.extra["k"] += 1\n', [1]),
        ('del visit.extra["k"]\n', [1]),
        ("visit.extra.update(\n    k=1,\n)\n", [1]),
        ("visit.extra[\n    'k'\n] = 1\n", [3]),
        ('visit.extra.get("k")\n', []),
        ("noneless = 1\n", []),
    ],
)
def test_candidate_lines(source, lines):
    assert candidate_lines(source) == lines


def test_statement_spanning_lines_is_checked_when_any_header_line_is_a_candidate(project):
    found, marked = check_source(project, """

def check(session):
    visit = session.get(Visit, 1)
    if (visit.note
            or visit.started_at is None):  # expect: DBC101
        pass
    total = sum(
        1
        for row in session.query(Visit)
        if row.started_at  # expect: DBC100
    )
    return total
""")
    assert found == marked and len(found) == 2


# -- rule corner cases ------------------------------------------------------------------
def test_none_comparison_needs_exactly_one_equality_or_identity_test_against_none(project):
    found, marked = check_source(project, """

def check(session, cutoff, other):
    visit = session.get(Visit, 1)
    if visit.started_at > cutoff or visit.started_at is None:  # expect: DBC101:36
        pass
    if visit.started_at == other or visit.started_at != None:  # expect: DBC101:36
        pass
    if None == visit.started_at:  # expect: DBC101
        pass
    if visit.started_at is None is other:  # chained: silent
        pass
    if visit.note is None or visit.extra is None or visit.started_at.tzinfo is None:  # may read None
        pass
    if visit.id is None:  # a primary key of a loaded row: expect: DBC101
        pass
""")
    assert found == marked and len(found) == 4


def test_primary_key_of_a_row_that_may_be_new_is_silent(project):
    found, marked = check_source(project, """

def check(visit: Visit):
    if visit.id is None:  # the "is it new?" idiom
        pass
    if visit.started_at is None:  # expect: DBC101
        pass
""")
    assert found == marked and len(found) == 1


@pytest.mark.parametrize("depth, reported", [(3, True), (40, False)])
def test_deeply_nested_or_is_followed_up_to_a_bound(project, depth, reported):
    test = "visit.started_at"
    for index in range(depth):
        test = f"(flag{index} or {test})"
    found, _ = check_source(project, f"""

def check(visit: Visit):
    if {test}:
        pass
""")
    assert [code for _, code in found] == (["DBC100"] if reported else [])


# -- DBC200 corner cases ----------------------------------------------------------------
def test_in_place_changes_through_aliases_and_copies(project):
    found, marked = check_source(project, """
import copy


def check(session, items, compute):
    visit = session.get(Visit, 1)
    alias = visit.extra
    alias["k"] = 1  # expect: DBC200
    alias.update(k=2)  # expect: DBC200
    shallow = dict(visit.extra)
    shallow["k"] = 1  # a fresh copy
    shallow["n"]["x"] = 1  # the nested value is shared: expect: DBC200
    listed = list(visit.extra)
    listed[0].append(1)  # expect: DBC200
    copied = copy.copy(visit.extra)
    copied["n"].clear()  # expect: DBC200
    method_copy = visit.extra.copy()
    method_copy["k"] = 1  # a fresh copy
    method_copy["n"]["x"] = 1  # expect: DBC200
    deep = copy.deepcopy(visit.extra)
    deep["n"]["x"] = 1  # a deep copy shares nothing
    merged = dict(visit.extra, k=1)
    merged["n"]["x"] = 1  # not recognised as a copy: silent
    computed = compute(visit.extra)
    computed["k"] = 1
    literal = {}
    literal["k"] = 1
    twice = visit.extra
    twice = {}
    twice["k"] = 1  # bound twice: unknown
    related = visit.patient
    related["k"] = 1  # not a JSON column
    visit.patient.visits[0].extra["k"] = 1  # unknown element of a collection
    visit.extra["a"]["b"]["c"] = 1  # expect: DBC200
    del visit.extra  # deleting the attribute is tracked
    visit.note += "x"  # a string column
    missing = 0
    missing += visit.note is None  # a local counter, and a nullable column
""")
    assert found == marked and len(found) == 7


@pytest.mark.parametrize("depth, reported", [(3, True), (40, False)])
def test_deeply_nested_item_assignment_is_followed_up_to_a_bound(project, depth, reported):
    found, _ = check_source(project, f"""

def check(visit: Visit):
    visit.extra{'["k"]' * depth} = 1
""")
    assert [code for _, code in found] == (["DBC200"] if reported else [])


def test_flag_modified_spellings(project):
    found, marked = check_source(project, """
from sqlalchemy.orm.attributes import flag_modified


def literal_key(visit: Visit):
    visit.extra["k"] = 1
    flag_modified(visit, "extra")


def computed_key(visit: Visit, key):
    visit.extra["k"] = 1
    flag_modified(visit, key)  # may name the column: silent


def other_key(visit: Visit):
    visit.extra["k"] = 1  # expect: DBC200
    flag_modified(visit, "note")


def other_object(visit: Visit, other: Visit):
    visit.extra["k"] = 1  # expect: DBC200
    flag_modified(other, "extra")


def malformed(visit: Visit):
    visit.extra["k"] = 1  # expect: DBC200
    flag_modified()


def in_a_loop_after(visit: Visit, items):
    for item in items:
        visit.extra[item] = 1
        flag_modified(visit, "extra")


def in_a_while_loop_before(visit: Visit, items):
    while items:
        flag_modified(visit, "extra")
        visit.extra[items.pop()] = 1  # flagged on the next turn


def before_the_loop(visit: Visit, items):
    flag_modified(visit, "extra")
    for item in items:
        visit.extra[item] = 1  # the column is marked changed already: written at the flush


def before_a_commit(session, visit: Visit):
    flag_modified(visit, "extra")
    session.commit()  # the mark is spent on this flush
    visit.extra["k"] = 1  # expect: DBC200


def in_a_comprehension(visit: Visit, items):
    [visit.extra.update(item) for item in items]
    flag_modified(visit, "extra")


def unflagged_comprehension(visit: Visit, items):
    return [visit.extra.update(item) for item in items]  # expect: DBC200


def through_a_relationship(visit: Visit):
    for sibling in visit.patient.visits:
        sibling.extra["k"] = 1
        flag_modified(sibling, "extra")
    visit.patient.visits[0].extra["k"] = 1


def at_module_level():
    pass


row: Visit = None
row.extra["k"] = 1  # expect: DBC200
""")
    assert found == marked and len(found) == 6


def test_flag_modified_lookups_stay_bounded(project, monkeypatch):
    monkeypatch.setattr(json_column_mutated_in_place, "_EVENTS_CACHE", {})
    functions = "".join(f'\n\ndef change{i}(visit: Visit):\n    visit.extra["k"] = {i}\n' for i in range(300))
    found, _ = check_source(project, functions)
    assert [code for _, code in found] == ["DBC200"] * 300
    assert 0 < len(json_column_mutated_in_place._EVENTS_CACHE) <= 257


# -- with a database: the checker trusts a NOT NULL column only where the database agrees
DATABASE_MODELS = """\
import datetime
from typing import Optional

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SUFFIX = "2024"


class Base(DeclarativeBase):
    pass


class Stamped:
    created_at: Mapped[datetime.datetime]


class Visit(Base):
    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime.datetime]
    ended_on: Mapped[datetime.date]
    checked_in_at: Mapped[datetime.datetime]
    note: Mapped[Optional[str]]


class Draft(Base):
    __tablename__ = "draft_" + SUFFIX
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime.datetime]


class Archived(Base):
    __tablename__ = "archived"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime.datetime]
"""
DATABASE_DDL = """
CREATE TABLE visit (id INTEGER PRIMARY KEY, started_at TIMESTAMP NOT NULL, ended_on DATE, note TEXT);
CREATE TABLE draft_2024 (id INTEGER PRIMARY KEY, started_at TIMESTAMP NOT NULL);
CREATE TABLE ward (id INTEGER PRIMARY KEY, created_at TIMESTAMP, name TEXT, opened_on DATE NOT NULL);
"""
DATABASE_CHECKED = """\
import datetime

from sqlalchemy.orm import Mapped, mapped_column

from app.models.visits import Archived, Base, Draft, Stamped, Visit


class Ward(Stamped, Base):
    __tablename__ = "ward"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]  # expect: DBC301
    opened_on: Mapped[datetime.date]


def check(visit: Visit, draft: Draft, archived: Archived, ward: Ward):
    if visit.started_at is None:  # the database agrees: expect: DBC101
        pass
    if visit.ended_on is None:  # nullable in the database: live
        pass
    if visit.checked_in_at is None:  # the database has no such column
        pass
    if draft.started_at is None:  # the table name is computed: unknown
        pass
    if archived.started_at is None:  # the database has no such table
        pass
    if ward.created_at is None or ward.opened_on is None:  # expect: DBC101:34
        pass
"""


def test_with_a_database_guards_are_reported_only_where_it_agrees(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "schema.sqlite"
    connection = sqlite3.connect(str(database))
    connection.executescript(DATABASE_DDL)
    connection.close()
    project = Project(str(tmp_path))
    project.write({**LAYOUT, "app/models/visits.py": DATABASE_MODELS, CHECKED: DATABASE_CHECKED})
    try:
        assert project.check(database_url=f"sqlite:///{database}") == expected(DATABASE_CHECKED)
        # Without one, the models alone decide: every NOT NULL guard is dead.
        guards = [number for number, text in enumerate(DATABASE_CHECKED.splitlines(), 1) if "is None" in text]
        assert project.check() == sorted([(line, "DBC101") for line in guards] + [(guards[-1], "DBC101")])
    finally:
        clear_caches()


@pytest.mark.parametrize("annotation, members", [
    ("Visit", ["Visit"]),
    ("Visit | Summary | None", ["Visit", "Summary"]),
    ("Optional[Union[Visit, 'Summary']]", ["Visit", "Summary"]),
    ("'Visit | None'", ["Visit"]),
    (" | ".join(f"C{number}" for number in range(17)), []),  # more members than are read
])
def test_union_members(annotation, members):
    from flake8_dbconstraints.declarations import union_members

    node = ast.parse(annotation, mode="eval").body
    assert [ast.unparse(member) for member in union_members(node)] == members
