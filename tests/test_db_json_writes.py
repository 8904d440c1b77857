"""Prove on SQLite which changes to JSON-like values are saved (SEMANTICS.md section 6).

Each case is a small function ``change(session, obj)``, registered as lost or saved
with the value it leaves in Python. The runner stores a row, loads it in a Session,
applies the change, checks that Python sees it, commits, and re-reads the row in a new
Session: a lost change reads the old value there, a saved one the new value. In-place
changes made on a pending object before its INSERT is flushed are saved; made after
that flush they are lost.
"""
import copy

import pytest
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm.attributes import flag_dirty, flag_modified

from tests import dbproof
from tests.fixtures.models import augmented_base, json_models
from tests.fixtures.models.augmented_base import Job
from tests.fixtures.models.json_models import Invoice, Patient

PROFILE = {"blood": "A+", "vitals": {"pulse": 70}}
LINES = [{"sku": "A1", "qty": 1}, {"sku": "B2", "qty": 2}]
SNAPSHOT = {"total": 10, "items": ["A1"]}
EXTRA = {"source": "import", "batch": {"id": 7}}
CONTACT = {"phone": "555-0100", "address": {"city": "Oslo"}}
ALLERGIES = ["penicillin", {"name": "latex", "severity": "mild"}]
SETTINGS = {"theme": "dark"}

NOTED = {**PROFILE, "note": "x"}
PULSE_90 = {"blood": "A+", "vitals": {"pulse": 90}}
LINE_C3 = {"sku": "C3", "qty": 3}
BERGEN = {"phone": "555-0100", "address": {"city": "Bergen"}}

cases = dbproof.ChangeCases()
lost = cases.lost_change
saved = cases.saved_change


# ---------------------------------------------------------------------------
# Plain JSON dict: every in-place change is lost


@lost(Patient, "profile", PROFILE, NOTED)
def dict_setitem(session, patient):
    patient.profile["note"] = "x"


@lost(Job, "payload", {"attempts": 0}, {"attempts": 1})
def dict_setitem_on_an_augmented_base(session, job):
    job.payload["attempts"] = 1


@lost(Patient, "profile", PROFILE, NOTED)
def dict_update(session, patient):
    patient.profile.update(note="x")


@lost(Patient, "profile", PROFILE, {"vitals": {"pulse": 70}})
def dict_delitem(session, patient):
    del patient.profile["blood"]


@lost(Patient, "profile", PROFILE, NOTED)
def dict_setdefault(session, patient):
    patient.profile.setdefault("note", "x")


@lost(Patient, "profile", PROFILE, {"vitals": {"pulse": 70}})
def dict_pop(session, patient):
    patient.profile.pop("blood")


@lost(Patient, "profile", PROFILE, {"blood": "A+"})
def dict_popitem(session, patient):
    patient.profile.popitem()


@lost(Patient, "profile", PROFILE, {})
def dict_clear(session, patient):
    patient.profile.clear()


@lost(Patient, "profile", PROFILE, NOTED)
def dict_inplace_or(session, patient):
    patient.profile |= {"note": "x"}


@lost(Patient, "profile", PROFILE, PULSE_90)
def dict_nested_setitem(session, patient):
    patient.profile["vitals"]["pulse"] = 90


@lost(Patient, "profile", PROFILE, NOTED)
def reassign_same_object(session, patient):
    patient.profile["note"] = "x"
    patient.profile = patient.profile


@lost(Patient, "profile", PROFILE, NOTED)
def initialize_when_empty_then_change(session, patient):
    if not patient.profile:
        patient.profile = {}  # the stored value is not empty: never runs
    patient.profile["note"] = "x"


@lost(Patient, "profile", PROFILE, NOTED)
def initialize_when_not_a_dict_then_change(session, patient):
    if isinstance(patient.profile, dict) is False:
        patient.profile = {}  # the stored value is a dict: never runs
    patient.profile["note"] = "x"


@lost(Patient, "profile", PROFILE, NOTED)
def reassign_alias(session, patient):
    profile = patient.profile
    profile["note"] = "x"
    patient.profile = profile


@lost(Patient, "profile", PROFILE, NOTED)
def alias_filled_in_a_loop_then_reassigned(session, patient):
    if patient.profile:
        merged = patient.profile
        for key, value in {"note": "x"}.items():
            merged[key] = value
        patient.profile = merged


@lost(Patient, "profile", PROFILE, NOTED)
def copy_made_after_the_change(session, patient):
    patient.profile["note"] = "x"
    patient.profile = dict(patient.profile)


@lost(Patient, "profile", PROFILE, PULSE_90)
def shallow_copy_with_nested_change(session, patient):
    profile = dict(patient.profile)
    profile["vitals"]["pulse"] = 90
    patient.profile = profile


@lost(Patient, "profile", PROFILE, NOTED)
def other_column_changed_in_same_flush(session, patient):
    patient.profile["note"] = "x"
    patient.name = "Renamed"


@lost(Patient, "profile", PROFILE, NOTED)
def flag_dirty_after_change(session, patient):
    patient.profile["note"] = "x"
    flag_dirty(patient)


# ---------------------------------------------------------------------------
# Plain JSON list


@lost(Invoice, "lines", LINES, [*LINES, LINE_C3])
def list_append(session, invoice):
    invoice.lines.append(LINE_C3)


@lost(Invoice, "lines", LINES, [*LINES, LINE_C3])
def list_extend(session, invoice):
    invoice.lines.extend([LINE_C3])


@lost(Invoice, "lines", LINES, [*LINES, LINE_C3])
def list_inplace_add(session, invoice):
    invoice.lines += [LINE_C3]


@lost(Invoice, "lines", LINES, [LINE_C3, *LINES])
def list_insert(session, invoice):
    invoice.lines.insert(0, LINE_C3)


@lost(Invoice, "lines", LINES, [LINE_C3, LINES[1]])
def list_setitem(session, invoice):
    invoice.lines[0] = LINE_C3


@lost(Invoice, "lines", LINES, LINES[:1])
def list_pop(session, invoice):
    invoice.lines.pop()


@lost(Invoice, "lines", LINES, LINES[1:])
def list_remove(session, invoice):
    invoice.lines.remove(LINES[0])


@lost(Invoice, "lines", LINES, LINES[::-1])
def list_reverse(session, invoice):
    invoice.lines.reverse()


@lost(Invoice, "lines", LINES, [{"sku": "A1", "qty": 5}, LINES[1]])
def list_nested_setitem(session, invoice):
    invoice.lines[0]["qty"] = 5


# ---------------------------------------------------------------------------
# PickleType and a TypeDecorator over JSON behave like plain JSON


@lost(Invoice, "snapshot", SNAPSHOT, {**SNAPSHOT, "total": 12})
def pickle_setitem(session, invoice):
    invoice.snapshot["total"] = 12


@lost(Invoice, "snapshot", SNAPSHOT, {**SNAPSHOT, "items": ["A1", "B2"]})
def pickle_nested_append(session, invoice):
    invoice.snapshot["items"].append("B2")


@lost(Invoice, "extra", EXTRA, {**EXTRA, "checked": True})
def type_decorator_setitem(session, invoice):
    invoice.extra["checked"] = True


# ---------------------------------------------------------------------------
# Mutable wrappers miss nested changes


@lost(Patient, "contact", CONTACT, BERGEN)
def mutable_dict_nested_setitem(session, patient):
    patient.contact["address"]["city"] = "Bergen"


@lost(Patient, "contact", CONTACT, BERGEN)
def mutable_dict_shallow_copy_with_nested_change(session, patient):
    contact = dict(patient.contact)
    contact["address"]["city"] = "Bergen"
    patient.contact = contact


@lost(Patient, "allergies", ALLERGIES, ["penicillin", {"name": "latex", "severity": "severe"}])
def mutable_list_nested_setitem(session, patient):
    patient.allergies[1]["severity"] = "severe"


@lost(Invoice, "encoded", EXTRA, {**EXTRA, "checked": True})
def json_encoded_text_setitem(session, invoice):
    invoice.encoded["checked"] = True


@lost(Invoice, "encoded", EXTRA, {"source": "import", "batch": {"id": 7, "n": 1}})
def json_encoded_text_nested_setitem(session, invoice):
    invoice.encoded["batch"]["n"] = 1


@lost(Invoice, "memo", EXTRA, {"source": "import", "batch": {"id": 8}})
def associated_type_nested_setitem(session, invoice):
    invoice.memo["batch"]["id"] = 8


# ---------------------------------------------------------------------------
# Saved: MutableDict.associate_with(AssociatedDocument) tracks every column of the
# type and of its subclasses, for top-level changes


@saved(Invoice, "encoded", EXTRA, {**EXTRA, "checked": True})
def flag_modified_after_json_encoded_text_setitem(session, invoice):
    invoice.encoded["checked"] = True
    flag_modified(invoice, "encoded")


@saved(Invoice, "memo", EXTRA, {**EXTRA, "checked": True})
def associated_type_setitem(session, invoice):
    invoice.memo["checked"] = True


@saved(Invoice, "memo_copy", EXTRA, {"source": "import"})
def associated_subtype_delitem(session, invoice):
    del invoice.memo_copy["batch"]


# ---------------------------------------------------------------------------
# Saved: a new value assigned first by a function the object is passed to
# (``new_values_assigned_by_a_helper`` in tests/fixtures/dbc2xx/json_mutations.py)


def _reset_profile(patient):
    patient.profile = {}


@saved(Patient, "profile", PROFILE, {"k": 1})
def new_value_assigned_by_a_helper_then_changed(session, patient):
    _reset_profile(patient)
    patient.profile["k"] = 1


@saved(Patient, "profile", PROFILE, {"k": 1})
def new_value_assigned_by_its_own_method_then_changed(session, patient):
    patient.reset_profile()
    patient.profile["k"] = 1


@lost(Patient, "profile", PROFILE, NOTED)
def changed_then_another_column_marked_by_a_helper(session, patient):
    from tests.fixtures.services.json_helpers import mark_preferences

    patient.profile["note"] = "x"
    mark_preferences(patient)


@saved(Patient, "profile", PROFILE, {**PROFILE, "k": 1})
def changed_then_marked_by_a_helper(session, patient):
    from tests.fixtures.services.json_helpers import mark_profile

    patient.profile["k"] = 1
    mark_profile(patient)


@saved(Patient, "profile", PROFILE, {**PROFILE, "k": 1})
def changed_then_marked_by_its_own_method(session, patient):
    patient.profile["k"] = 1
    patient.touch_profile()


@saved(Patient, "profile", PROFILE, {"k": 1})
def new_value_filled_by_a_form_then_changed(session, patient):
    """``form.populate_obj(patient)`` assigns each field's data, here a new dict
    (``changes_after_filling_from_data`` in ``tests/fixtures/dbc2xx/json_mutations.py``)."""
    import json

    import wtforms

    class JSONField(wtforms.Field):
        def process_formdata(self, valuelist):
            self.data = json.loads(valuelist[0])

    class PatientForm(wtforms.Form):
        profile = JSONField()

    PatientForm(dbproof.SubmittedForm(profile="{}")).populate_obj(patient)
    patient.profile["k"] = 1


@saved(Patient, "profile", PROFILE, {"k": 1})
def new_value_filled_by_a_schema_then_changed(session, patient):
    """``schema.load(data, instance=patient)`` assigns what the data holds."""
    from marshmallow_sqlalchemy import SQLAlchemySchema, auto_field

    class PatientSchema(SQLAlchemySchema):
        class Meta:
            model = Patient
            load_instance = True

        profile = auto_field()

    PatientSchema().load({"profile": {}}, instance=patient, session=session)
    patient.profile["k"] = 1


@saved(Patient, "profile", PROFILE, {"k": 1})
def merged_value_then_changed(session, patient):
    session.merge(Patient(id=patient.id, profile={}))  # the stored patient takes the new value
    patient.profile["k"] = 1


# ---------------------------------------------------------------------------
# Saved: the changed value given to an UPDATE of its own after the change (the ORM
# never notices the change; the UPDATE writes the value as it then is)


@saved(Patient, "profile", PROFILE, NOTED)
def query_update_of_the_changed_value(session, patient):
    patient.profile["note"] = "x"
    session.query(Patient).filter_by(id=patient.id).update({"profile": patient.profile}, synchronize_session=False)


@saved(Patient, "profile", PROFILE, NOTED)
def core_update_of_the_changed_value(session, patient):
    patient.profile["note"] = "x"
    session.execute(sa.update(Patient).where(Patient.id == patient.id).values(profile=patient.profile))


# ---------------------------------------------------------------------------
# Saved: the column marked changed before the change, with no flush in between
# (flag_modified, or under a Mutable wrapper a tracked change or changed()): the flush
# writes the whole current value, nested changes too.


@saved(Patient, "profile", PROFILE, NOTED)
def flag_modified_before_the_change(session, patient):
    flag_modified(patient, "profile")
    patient.profile["note"] = "x"


@saved(Patient, "contact", CONTACT, {**BERGEN, "email": "a@b.c"})
def mutable_dict_tracked_change_then_nested_change(session, patient):
    patient.contact["email"] = "a@b.c"
    patient.contact["address"]["city"] = "Bergen"


@saved(Patient, "contact", CONTACT, BERGEN)
def mutable_dict_nested_change_then_changed_through_an_alias(session, patient):
    contact = patient.contact
    contact["address"]["city"] = "Bergen"
    contact.changed()


@saved(Patient, "allergies", ALLERGIES, ["penicillin", {"name": "latex", "severity": "high"}, "nuts"])
def mutable_list_tracked_change_then_nested_change(session, patient):
    patient.allergies.append("nuts")
    patient.allergies[1]["severity"] = "high"


@saved(Patient, "settings", {"ui": {"font": 1}}, {"ui": {"font": 2}})
def project_mutable_nested_change_then_changed(session, patient):
    patient.settings["ui"]["font"] = 2
    patient.settings.changed()


# Saved: flag_modified after the change


@saved(Patient, "profile", PROFILE, NOTED)
def flag_modified_after_setitem(session, patient):
    patient.profile["note"] = "x"
    flag_modified(patient, "profile")


@saved(Patient, "profile", PROFILE, PULSE_90)
def flag_modified_after_nested_change(session, patient):
    patient.profile["vitals"]["pulse"] = 90
    flag_modified(patient, "profile")


@saved(Invoice, "lines", LINES, [*LINES, LINE_C3])
def flag_modified_after_append(session, invoice):
    invoice.lines.append(LINE_C3)
    flag_modified(invoice, "lines")


@saved(Invoice, "snapshot", SNAPSHOT, {**SNAPSHOT, "total": 12})
def flag_modified_after_pickle_setitem(session, invoice):
    invoice.snapshot["total"] = 12
    flag_modified(invoice, "snapshot")


@saved(Invoice, "extra", EXTRA, {**EXTRA, "checked": True})
def flag_modified_after_type_decorator_setitem(session, invoice):
    invoice.extra["checked"] = True
    flag_modified(invoice, "extra")


@saved(Patient, "contact", CONTACT, BERGEN)
def flag_modified_after_mutable_dict_nested_change(session, patient):
    patient.contact["address"]["city"] = "Bergen"
    flag_modified(patient, "contact")


# ---------------------------------------------------------------------------
# Saved: a new value that shares nothing changed


@saved(Patient, "preferences", None, SETTINGS)
def initialize_when_none_then_change(session, patient):
    if patient.preferences is None:
        patient.preferences = {}  # a new value: the change below goes into it
    patient.preferences["theme"] = "dark"


@saved(Patient, "profile", PROFILE, NOTED)
def new_dict_by_unpacking(session, patient):
    patient.profile = {**patient.profile, "note": "x"}


@saved(Patient, "profile", PROFILE, NOTED)
def new_dict_by_or(session, patient):
    patient.profile = patient.profile | {"note": "x"}


@saved(Patient, "profile", PROFILE, NOTED)
def copy_made_before_the_change(session, patient):
    profile = dict(patient.profile)
    profile["note"] = "x"
    patient.profile = profile


@saved(Patient, "profile", PROFILE, PULSE_90)
def deepcopy_with_nested_change(session, patient):
    profile = copy.deepcopy(patient.profile)
    profile["vitals"]["pulse"] = 90
    patient.profile = profile


@saved(Invoice, "lines", LINES, [*LINES, LINE_C3])
def new_list_by_concatenation(session, invoice):
    invoice.lines = invoice.lines + [LINE_C3]


@saved(Invoice, "snapshot", SNAPSHOT, {**SNAPSHOT, "total": 12})
def new_pickle_value(session, invoice):
    invoice.snapshot = {**invoice.snapshot, "total": 12}


# ---------------------------------------------------------------------------
# Saved: top-level changes a Mutable wrapper tracks


@saved(Patient, "contact", CONTACT, {**CONTACT, "email": "a@b.c"})
def mutable_dict_setitem(session, patient):
    patient.contact["email"] = "a@b.c"


@saved(Patient, "contact", CONTACT, {**CONTACT, "email": "a@b.c"})
def mutable_dict_update(session, patient):
    patient.contact.update(email="a@b.c")


@saved(Patient, "contact", CONTACT, {"address": {"city": "Oslo"}})
def mutable_dict_delitem(session, patient):
    del patient.contact["phone"]


@saved(Patient, "contact", CONTACT, {**CONTACT, "email": "a@b.c"})
def mutable_dict_setdefault(session, patient):
    patient.contact.setdefault("email", "a@b.c")


@saved(Patient, "contact", CONTACT, {"address": {"city": "Oslo"}})
def mutable_dict_pop(session, patient):
    patient.contact.pop("phone")


@saved(Patient, "contact", CONTACT, {"phone": "555-0100"})
def mutable_dict_popitem(session, patient):
    patient.contact.popitem()


@saved(Patient, "contact", CONTACT, {})
def mutable_dict_clear(session, patient):
    patient.contact.clear()


# MutableDict gained __ior__ in SQLAlchemy 2.0; on 1.4, dict.__ior__ runs untracked.
saved_since_2_0 = saved if dbproof.SQLALCHEMY_2 else lost


@saved_since_2_0(Patient, "contact", CONTACT, {**CONTACT, "email": "a@b.c"})
def mutable_dict_inplace_or(session, patient):
    patient.contact |= {"email": "a@b.c"}


@saved(Patient, "contact", CONTACT, {**BERGEN, "email": "a@b.c"})
def mutable_dict_nested_change_with_tracked_change(session, patient):
    # The nested change rides along with a tracked change in the same flush.
    patient.contact["address"]["city"] = "Bergen"
    patient.contact["email"] = "a@b.c"


@saved(Patient, "allergies", ALLERGIES, [*ALLERGIES, "latex"])
def mutable_list_append(session, patient):
    patient.allergies.append("latex")


@saved(Patient, "allergies", ALLERGIES, [*ALLERGIES, "latex"])
def mutable_list_extend(session, patient):
    patient.allergies.extend(["latex"])


@saved(Patient, "allergies", ALLERGIES, [*ALLERGIES, "latex"])
def mutable_list_inplace_add(session, patient):
    patient.allergies += ["latex"]


@saved(Patient, "allergies", ALLERGIES, ["latex", *ALLERGIES])
def mutable_list_insert(session, patient):
    patient.allergies.insert(0, "latex")


@saved(Patient, "allergies", ALLERGIES, ["aspirin", ALLERGIES[1]])
def mutable_list_setitem(session, patient):
    patient.allergies[0] = "aspirin"


@saved(Patient, "allergies", ALLERGIES, ALLERGIES[:1])
def mutable_list_pop(session, patient):
    patient.allergies.pop()


@saved(Patient, "allergies", ALLERGIES, ALLERGIES[1:])
def mutable_list_remove(session, patient):
    patient.allergies.remove("penicillin")


@saved(Patient, "allergies", ALLERGIES, ALLERGIES[::-1])
def mutable_list_reverse(session, patient):
    patient.allergies.reverse()


@saved(Patient, "settings", SETTINGS, {**SETTINGS, "lang": "nb"})
def project_mutable_setitem(session, patient):
    patient.settings["lang"] = "nb"


@saved(Patient, "settings", SETTINGS, {})
def project_mutable_delitem(session, patient):
    del patient.settings["theme"]


def _params(case_list):
    return [pytest.param(case, id=case.name) for case in case_list]


@pytest.fixture
def engine():
    engine = dbproof.create_sqlite_engine(json_models)
    dbproof.find_metadata(augmented_base).create_all(engine)
    yield engine
    engine.dispose()


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


def test_cases_cover_every_json_like_fixture_column():
    changed = {(case.model, case.attr) for case in cases.lost + cases.saved}
    json_like = {
        (model, key)
        for model in dbproof.find_models(json_models)
        for key, column in dbproof.find_mapped_columns(model).items()
        if dbproof.is_json_like(column) or isinstance(column.type, sa.PickleType)
    }
    assert json_like - changed == set()


def _commit_then_change(engine, mark, change, attr):
    """Mark the column, commit, change it in place, commit: what a new Session reads."""
    identity = dbproof.store(engine, dbproof.build(Patient, profile=dict(PROFILE), contact=copy.deepcopy(CONTACT)))
    with orm.Session(engine) as session:
        patient = session.get(Patient, identity)
        mark(patient)
        session.commit()
        change(patient)
        session.commit()
    return dbproof.load(engine, Patient, identity, attr)


def test_flag_modified_spent_by_a_commit_does_not_carry_a_later_change(engine):
    # The limit of json_column_mutated_in_place._marked_changed on an earlier mark.
    read = _commit_then_change(engine, lambda p: flag_modified(p, "profile"),
                               lambda p: p.profile.update(note="x"), "profile")
    assert read == PROFILE


def test_tracked_change_spent_by_a_commit_does_not_carry_a_later_nested_change(engine):
    read = _commit_then_change(engine, lambda p: p.contact.update(email="a@b.c"),
                               lambda p: p.contact["address"].update(city="Bergen"), "contact")
    assert read == {**CONTACT, "email": "a@b.c"}
