"""Prove on PostgreSQL what SEMANTICS.md says about ``JSONB``, ``ARRAY`` and ``HSTORE`` columns.

Needs ``DBC_TEST_POSTGRES_URL`` (see ``tests/conftest.py``). The tables of
``json_pg_models`` are created in a schema of their own, dropped afterwards. The
change cases work as in ``test_db_json_writes.py``: a lost change reads the old value
in a new Session, a saved one the new value.
"""
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified

from tests import dbproof
from tests.fixtures.models import json_pg_models
from tests.fixtures.models.json_pg_models import Visit

pytestmark = pytest.mark.slow

VITALS = {"pulse": 70, "bp": {"sys": 120}}
HISTORY = [{"on": "2024-01-01"}]
SCORES = [3, 1, 2]
LABELS = {"ward": "A", "bed": "12"}

cases = dbproof.ChangeCases()
lost = cases.lost_change
saved = cases.saved_change


# ---------------------------------------------------------------------------
# Lost: in-place changes to plain JSONB, ARRAY and HSTORE


@lost(Visit, "vitals", VITALS, {**VITALS, "temp": 37})
def jsonb_setitem(session, visit):
    visit.vitals["temp"] = 37


@lost(Visit, "vitals", VITALS, {**VITALS, "temp": 37})
def jsonb_update(session, visit):
    visit.vitals.update(temp=37)


@lost(Visit, "vitals", VITALS, {"bp": {"sys": 120}})
def jsonb_delitem(session, visit):
    del visit.vitals["pulse"]


@lost(Visit, "vitals", VITALS, {"pulse": 70, "bp": {"sys": 140}})
def jsonb_nested_setitem(session, visit):
    visit.vitals["bp"]["sys"] = 140


@lost(Visit, "vitals", VITALS, {**VITALS, "temp": 37})
def jsonb_reassign_same_object(session, visit):
    visit.vitals["temp"] = 37
    visit.vitals = visit.vitals


@lost(Visit, "history", HISTORY, [*HISTORY, {"on": "2024-02-01"}])
def jsonb_list_append(session, visit):
    visit.history.append({"on": "2024-02-01"})


@lost(Visit, "scores", SCORES, [*SCORES, 4])
def array_append(session, visit):
    visit.scores.append(4)


@lost(Visit, "scores", SCORES, [*SCORES, 4])
def array_inplace_add(session, visit):
    visit.scores += [4]


@lost(Visit, "scores", SCORES, [9, 1, 2])
def array_setitem(session, visit):
    visit.scores[0] = 9


@lost(Visit, "scores", SCORES, [3, 1])
def array_pop(session, visit):
    visit.scores.pop()


@lost(Visit, "labels", LABELS, {**LABELS, "bed": "14"})
def hstore_setitem(session, visit):
    visit.labels["bed"] = "14"


@lost(Visit, "labels", LABELS, {**LABELS, "isolation": "yes"})
def hstore_update(session, visit):
    visit.labels.update(isolation="yes")


@lost(Visit, "labels", LABELS, {"ward": "A"})
def hstore_delitem(session, visit):
    del visit.labels["bed"]


@lost(Visit, "tracked_vitals", VITALS, {"pulse": 70, "bp": {"sys": 140}})
def mutable_jsonb_nested_setitem(session, visit):
    visit.tracked_vitals["bp"]["sys"] = 140


# ---------------------------------------------------------------------------
# Saved: flag_modified, a new value, or a Mutable wrapper's top-level change


@saved(Visit, "vitals", VITALS, {"pulse": 70, "bp": {"sys": 140}})
def jsonb_flag_modified_after_nested_change(session, visit):
    visit.vitals["bp"]["sys"] = 140
    flag_modified(visit, "vitals")


@saved(Visit, "vitals", VITALS, {**VITALS, "temp": 37})
def jsonb_new_dict(session, visit):
    visit.vitals = {**visit.vitals, "temp": 37}


@saved(Visit, "scores", SCORES, [*SCORES, 4])
def array_flag_modified_after_append(session, visit):
    visit.scores.append(4)
    flag_modified(visit, "scores")


@saved(Visit, "scores", SCORES, [*SCORES, 4])
def array_new_list(session, visit):
    visit.scores = visit.scores + [4]


@saved(Visit, "labels", LABELS, {**LABELS, "bed": "14"})
def hstore_flag_modified_after_setitem(session, visit):
    visit.labels["bed"] = "14"
    flag_modified(visit, "labels")


@saved(Visit, "labels", LABELS, {**LABELS, "bed": "14"})
def hstore_new_dict(session, visit):
    visit.labels = {**visit.labels, "bed": "14"}


@saved(Visit, "tracked_vitals", VITALS, {**VITALS, "temp": 37})
def mutable_jsonb_setitem(session, visit):
    visit.tracked_vitals["temp"] = 37


@saved(Visit, "tracked_labels", LABELS, {**LABELS, "bed": "14"})
def mutable_hstore_setitem(session, visit):
    visit.tracked_labels["bed"] = "14"


@saved(Visit, "tracked_labels", LABELS, {"ward": "A"})
def mutable_hstore_delitem(session, visit):
    del visit.tracked_labels["bed"]


def _params(case_list):
    return [pytest.param(case, id=case.name) for case in case_list]


@pytest.fixture(scope="module")
def engine(postgres_url):
    """``json_pg_models``' tables in a fresh schema of the PostgreSQL database."""
    schema = f"dbc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS hstore"))
        connection.execute(sa.schema.CreateSchema(schema))
    # A new engine, so that psycopg2 registers hstore now that the extension exists.
    engine = sa.create_engine(
        postgres_url, execution_options={"schema_translate_map": {None: schema}}
    )
    try:
        json_pg_models.Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()


# ---------------------------------------------------------------------------
# NOT NULL and truthiness


@pytest.mark.parametrize(
    "column",
    [
        pytest.param(column, id=key)
        for _, key, column in dbproof.iter_not_null_columns(json_pg_models)
        if not column.primary_key
    ],
)
def test_not_null_column_refuses_null(engine, column):
    dbproof.assert_null_rejected(engine, column)


def test_jsonb_not_null_column_reads_none_after_storing_none(engine):
    # SEMANTICS.md section 4: None is stored as the JSON value null.
    assert dbproof.stored_value(engine, Visit, "vitals", None) is None
    with engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count()).select_from(Visit.__table__).where(Visit.vitals.is_(None))
        ).scalar()
    assert count == 0


@pytest.mark.parametrize(("attr", "value"), [("scores", []), ("labels", {}), ("code", "")])
def test_not_null_column_reads_falsy_value(engine, attr, value):
    stored = dbproof.stored_value(engine, Visit, attr, value)
    assert stored is not None
    assert not stored
    assert stored == value


# ---------------------------------------------------------------------------
# Changes


@pytest.mark.parametrize("case", _params(cases.lost))
def test_change_on_loaded_row_is_lost(engine, case):
    assert dbproof.apply_change(engine, case) == case.before


@pytest.mark.parametrize("case", _params(cases.saved))
def test_change_on_loaded_row_is_saved(engine, case):
    assert dbproof.apply_change(engine, case) == case.after


@pytest.mark.parametrize("case", _params(cases.lost))
def test_change_on_pending_object_before_its_insert_is_saved(engine, case):
    assert dbproof.apply_change(engine, case, dbproof.PENDING) == case.after


@pytest.mark.parametrize("case", _params(cases.lost))
def test_change_on_pending_object_after_its_insert_is_lost(engine, case):
    assert dbproof.apply_change(engine, case, dbproof.FLUSHED) == case.before
