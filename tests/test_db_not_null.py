"""Prove on SQLite what SEMANTICS.md says about the fixture models' NOT NULL columns.

Every fixture module (except the PostgreSQL-only ``json_pg_models``) gets a fresh
in-memory database. For each column ``sqlalchemy.inspect`` calls NOT NULL, the database
refuses NULL; a stored row of an always-truthy type reads truthy even at its extreme
values; the types that can be falsy really read falsy; JSON NOT NULL still reads None.
The table of expected nullability checks the fixtures' own claims.
"""
import datetime
import decimal
import sys
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import exc, orm

from tests import dbproof

# (module, model, attribute) -> (nullable, type name) per sqlalchemy.inspect; the comment
# says which rule of SEMANTICS.md section 1 the fixture exercises.
EXPECTED_COLUMNS = {
    ("classic", "Patient", "id"): (False, "Integer"),  # primary_key=True
    ("classic", "Patient", "name"): (False, "String"),
    ("classic", "Patient", "born_on"): (False, "Date"),
    ("classic", "Patient", "email"): (True, "String"),  # unique= changes nothing
    ("classic", "Patient", "nickname"): (True, "String"),  # column CheckConstraint
    ("classic", "Doctor", "shift_starts_at"): (False, "Time"),
    ("classic", "Doctor", "title"): (True, "String"),  # server_default= changes nothing
    ("classic", "Visit", "patient_id"): (False, "Integer"),
    ("classic", "Visit", "doctor_id"): (True, "Integer"),  # ForeignKey only
    ("classic", "Visit", "started_at"): (False, "DateTime"),
    ("classic", "Visit", "ended_at"): (True, "DateTime"),  # table-level IS NOT NULL check
    ("classic", "Visit", "kind"): (False, "Enum"),
    ("classic", "Visit", "created_at"): (False, "DateTime"),
    ("classic", "Visit", "notes"): (True, "Text"),  # Column("visit_notes", ...)
    ("classic", "Visit", "room"): (False, "String"),  # Column("room_code", ..., nullable=False)
    ("classic", "InvoiceLine", "invoice_number"): (False, "String"),  # PrimaryKeyConstraint
    ("classic", "InvoiceLine", "line_no"): (False, "Integer"),  # PrimaryKeyConstraint
    ("classic", "InvoiceLine", "amount"): (False, "Numeric"),
    ("classic", "InvoiceLine", "description"): (True, "String"),  # table-level check
    ("mapped", "Patient", "name"): (False, "String"),
    ("mapped", "Patient", "external_id"): (False, "Uuid"),
    ("mapped", "Patient", "legacy_ref"): (False, "Uuid"),  # as_uuid=False
    ("mapped", "Patient", "born_on"): (False, "Date"),  # annotation only
    ("mapped", "Patient", "is_active"): (False, "Boolean"),
    ("mapped", "Patient", "balance"): (False, "Numeric"),
    ("mapped", "Patient", "visit_count"): (False, "Integer"),
    ("mapped", "Patient", "profile"): (False, "JSON"),  # type_annotation_map
    ("mapped", "Patient", "email"): (True, "String"),  # Optional
    ("mapped", "Patient", "nickname"): (True, "String"),  # Mapped["Optional[str]"]
    ("mapped", "Patient", "legacy_code"): (True, "String"),  # Mapped[str], nullable=True
    ("mapped", "Doctor", "ward"): (False, "Enum"),  # (str, Enum)
    ("mapped", "Doctor", "bio"): (True, "Text"),
    ("mapped", "Device", "id"): (False, "Uuid"),  # primary key, Python-side default
    ("mapped", "Device", "registered_at"): (False, "DateTime"),
    ("mapped", "Visit", "patient_id"): (False, "Integer"),  # ForeignKey changes nothing
    ("mapped", "Visit", "doctor_id"): (True, "Integer"),
    ("mapped", "Visit", "started_at"): (False, "DateTime"),  # DateTime(timezone=True) by map
    ("mapped", "Visit", "ended_at"): (True, "DateTime"),
    ("mapped", "Visit", "checked_in_at"): (False, "DateTime"),  # Optional, nullable=False
    ("mapped", "Visit", "scheduled_on"): (False, "Date"),
    ("mapped", "Visit", "slot"): (False, "Time"),
    ("mapped", "Visit", "severity"): (False, "Enum"),  # plain Enum
    ("mapped", "Visit", "priority"): (False, "Enum"),  # IntEnum
    ("mapped", "Visit", "fee"): (False, "Numeric"),
    ("mapped", "Visit", "note"): (True, "Text"),
    ("mapped", "Visit", "code"): (False, "String"),  # mapped_column("visit_code", ...)
    ("registry_style", "Doctor", "name"): (False, "String"),
    ("registry_style", "Doctor", "on_call"): (False, "Boolean"),
    ("registry_style", "Doctor", "bio"): (True, "Text"),
    ("registry_style", "Appointment", "doctor_id"): (False, "Integer"),  # type from the FK
    ("registry_style", "Appointment", "starts_at"): (False, "DateTime"),
    ("registry_style", "Appointment", "cancelled_at"): (True, "DateTime"),
    ("registry_style", "AuditEntry", "recorded_at"): (False, "DateTime"),
    ("registry_style", "AuditEntry", "detail"): (True, "Text"),
    ("flask_models", "Doctor", "licensed_on"): (False, "Date"),
    ("flask_models", "Doctor", "on_call"): (False, "Boolean"),
    ("flask_models", "Doctor", "bio"): (True, "Text"),
    ("flask_models", "Appointment", "starts_at"): (False, "DateTime"),
    ("flask_models", "Appointment", "ends_at"): (True, "DateTime"),
    ("flask_models", "Appointment", "status"): (False, "Enum"),
    ("flask_models", "Appointment", "room"): (False, "String"),
    ("sqlmodel_models", "Patient", "id"): (False, "Integer"),  # Optional[int] primary key
    ("sqlmodel_models", "Patient", "name"): (False, "AutoString"),  # from a table=False base
    ("sqlmodel_models", "Patient", "born_on"): (False, "Date"),
    ("sqlmodel_models", "Patient", "email"): (True, "AutoString"),
    ("sqlmodel_models", "Patient", "external_id"): (False, "Uuid"),
    ("sqlmodel_models", "Patient", "referred_by"): (False, "AutoString"),  # str = None
    ("sqlmodel_models", "Patient", "legacy_code"): (True, "AutoString"),  # Field(nullable=True)
    ("sqlmodel_models", "Visit", "patient_id"): (False, "Integer"),  # Field(foreign_key=...)
    ("sqlmodel_models", "Visit", "started_at"): (False, "UTCDateTime"),
    ("sqlmodel_models", "Visit", "ended_at"): (True, "UTCDateTime"),
    ("sqlmodel_models", "Visit", "checked_in_at"): (False, "UTCDateTime"),  # Field(nullable=False)
    ("sqlmodel_models", "Visit", "slot"): (False, "Time"),
    ("sqlmodel_models", "Visit", "paid"): (False, "Boolean"),
    ("sqlmodel_models", "Visit", "room"): (False, "String"),  # sa_column, nullable=False
    ("sqlmodel_models", "Visit", "notes"): (True, "Text"),  # sa_column without nullable=
    ("sqlmodel_models", "Visit", "recorded_at"): (False, "DateTime"),
    ("mixins", "Staff", "created_at"): (False, "DateTime"),  # mixin Mapped[...]
    ("mixins", "Staff", "updated_at"): (True, "DateTime"),  # mixin Column(...)
    ("mixins", "Nurse", "ward"): (True, "String"),
    ("mixins", "Doctor", "licensed_on"): (False, "Date"),  # single-table subclass
    ("mixins", "Invoice", "id"): (False, "Integer"),  # from the __abstract__ base
    ("mixins", "Invoice", "recorded_on"): (False, "Date"),  # from the __abstract__ base
    ("mixins", "Invoice", "created_by"): (False, "String"),  # declared_attr -> Mapped[str]
    ("mixins", "Invoice", "reviewed_by"): (True, "String"),  # -> Mapped[Optional[str]]
    ("mixins", "Invoice", "clinic_code"): (False, "String"),  # declared_attr returning Column
    ("mixins", "Invoice", "total"): (False, "Numeric"),
    ("mixins", "Invoice", "paid_at"): (True, "DateTime"),
    ("mixins", "InsuranceInvoice", "policy_number"): (False, "String"),  # joined subclass
    ("mixins", "InsuranceInvoice", "approved_at"): (True, "DateTime"),
    ("mixins", "InsuranceInvoice", "created_by"): (False, "String"),  # inherited, parent table
    ("active_record", "Ticket", "opened_at"): (False, "DateTime"),  # read through CrudMixin.get
    ("active_record", "Ticket", "closed_at"): (True, "DateTime"),
    ("active_record", "Ticket", "meta"): (False, "JSON"),
    ("constructors", "Tray", "kind"): (False, "String"),  # __init__(kind=None) all the same
    ("constructors", "Tray", "size"): (False, "Integer"),
    ("constructors", "Tray", "made_at"): (False, "DateTime"),
    ("partial_column", "Invoice", "number"): (False, "String"),  # partial(nullable=False)
    ("partial_column", "Invoice", "issued_at"): (False, "DateTime"),
    ("partial_column", "Invoice", "due_on"): (False, "Date"),
    ("partial_column", "Invoice", "paid_at"): (True, "DateTime"),  # call-site nullable=True
    ("partial_column", "Invoice", "memo"): (True, "Text"),
    ("partial_column", "Payment", "invoice_id"): (False, "Integer"),
    ("partial_column", "Payment", "received_at"): (False, "DateTime"),
    ("partial_column", "Payment", "reference"): (True, "String"),  # plain sa.Column
    ("json_models", "Patient", "profile"): (False, "JSON"),
    ("json_models", "Patient", "preferences"): (True, "JSON"),
    ("json_models", "Patient", "contact"): (False, "JSON"),  # MutableDict.as_mutable(JSON)
    ("json_models", "Patient", "allergies"): (False, "JSON"),  # MutableList.as_mutable(JSON)
    ("json_models", "Patient", "settings"): (True, "JSON"),  # project Mutable
    ("json_models", "Invoice", "lines"): (False, "JSON"),
    ("json_models", "Invoice", "snapshot"): (False, "PickleType"),
    ("json_models", "Invoice", "extra"): (False, "JSONDocument"),  # TypeDecorator, impl JSON
    ("augmented_base", "Job", "queued_at"): (False, "DateTime"),  # Base = declarative_base(cls=Base)
    ("augmented_base", "Job", "name"): (True, "String"),
    ("augmented_base", "Job", "payload"): (False, "JSON"),
    ("json_pg_models", "Visit", "vitals"): (False, "JSONB"),
    ("json_pg_models", "Visit", "history"): (True, "JSONB"),
    ("json_pg_models", "Visit", "scores"): (False, "ARRAY"),
    ("json_pg_models", "Visit", "labels"): (False, "HSTORE"),
    ("json_pg_models", "Visit", "tracked_vitals"): (True, "JSONB"),
    ("json_pg_models", "Visit", "tracked_labels"): (True, "HSTORE"),
}


def _needs(module_name):
    """Skip the test when this SQLAlchemy cannot import the fixture module."""
    reason = dbproof.skip_reason(module_name)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def _column_params(predicate, insertable_only=False):
    """One param per distinct NOT NULL column of every SQLite fixture module that passes
    ``predicate(model, column)``; one skipped param per module this SQLAlchemy cannot load."""
    params = []
    for module_name in dbproof.SQLITE_MODULES:
        if dbproof.skip_reason(module_name):
            skipped = pytest.param(None, None, None, id=module_name, marks=_needs(module_name))
            params.append(skipped)
            continue
        module = dbproof.import_fixture(module_name)
        for model, key, column in dbproof.iter_not_null_columns(module, insertable_only):
            if predicate(model, column):
                param_id = f"{module_name}.{model.__name__}.{key}"
                params.append(pytest.param(model, key, column, id=param_id))
    return params


def _with_values(params, make_values):
    """Expand each column param into one param per value of ``make_values(column)``."""
    expanded = []
    for param in params:
        model, key, column = param.values
        if column is None:
            expanded.append(pytest.param(*param.values, None, id=param.id, marks=param.marks))
            continue
        for value in make_values(column):
            expanded.append(pytest.param(model, key, column, value, id=f"{param.id}={value!r}"))
    return expanded


def _is_discriminator(model, column):
    return sa.inspect(model).polymorphic_on is column


def _is_always_truthy(model, column):
    return dbproof.classify_truthiness(column) == dbproof.ALWAYS_TRUTHY


def _is_can_be_falsy(model, column):
    return (
        dbproof.classify_truthiness(column) == dbproof.CAN_BE_FALSY
        and not column.primary_key
        and not _is_discriminator(model, column)
    )


def _is_decorated_datetime(model, column):
    """A TypeDecorator that overrides process_result_value over a date/time type: unknown
    statically (SEMANTICS.md section 2), like SQLModel's UTCDateTime."""
    return dbproof.classify_truthiness(column) == dbproof.UNKNOWN and isinstance(
        dbproof.impl_type(column.type), (sa.DateTime, sa.Date, sa.Time)
    )


@pytest.fixture
def make_engine():
    """Fresh in-memory SQLite databases holding one fixture module's tables."""
    engines = []

    def make(module):
        engine = dbproof.create_sqlite_engine(module)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def _module_of(model):
    return sys.modules[model.__module__]


# ---------------------------------------------------------------------------
# What the fixtures claim


@pytest.mark.parametrize(
    ("module_name", "model_name", "attr", "expected"),
    [
        pytest.param(*key, value, id=".".join(key), marks=_needs(key[0]))
        for key, value in EXPECTED_COLUMNS.items()
    ],
)
def test_fixture_column_nullability_and_type(module_name, model_name, attr, expected):
    model = getattr(dbproof.import_fixture(module_name), model_name)
    facts = dbproof.column_facts(model)[attr]
    assert (facts.nullable, facts.type_name) == expected


@pytest.mark.parametrize(
    ("module_name", "model_name", "attr", "db_name"),
    [
        ("classic", "Visit", "notes", "visit_notes"),
        ("classic", "Visit", "room", "room_code"),
        pytest.param("mapped", "Visit", "code", "visit_code", marks=_needs("mapped")),
    ],
)
def test_attribute_key_differs_from_column_name(module_name, model_name, attr, db_name):
    model = getattr(dbproof.import_fixture(module_name), model_name)
    assert dbproof.column_facts(model)[attr].name == db_name
    assert db_name not in dbproof.column_facts(model)


@_needs("mapped")
@pytest.mark.parametrize(
    ("model_name", "attr"), [("Patient", "name_length"), ("Visit", "duration_rank")]
)
def test_column_property_and_query_expression_are_not_columns(model_name, attr):
    model = getattr(dbproof.import_fixture("mapped"), model_name)
    assert attr in sa.inspect(model).attrs
    assert attr not in dbproof.column_facts(model)


@pytest.mark.parametrize(
    "module_name",
    [pytest.param(name, marks=_needs(name)) for name in dbproof.SQLITE_MODULES],
)
def test_created_schema_agrees_with_column_nullable(module_name, make_engine):
    module = dbproof.import_fixture(module_name)
    inspector = sa.inspect(make_engine(module))
    metadata = dbproof.find_metadata(module)
    assert metadata.tables, f"{module_name} defines no tables"
    for table in metadata.tables.values():
        reflected = {
            column["name"]: column["nullable"] for column in inspector.get_columns(table.name)
        }
        declared = {column.name: bool(column.nullable) for column in table.columns}
        assert reflected == declared, table.name


# ---------------------------------------------------------------------------
# NOT NULL columns refuse NULL


@pytest.mark.parametrize(
    ("model", "attr", "column"),
    _column_params(lambda model, column: not dbproof.is_sqlite_rowid_alias(column)),
)
def test_not_null_column_refuses_null(model, attr, column, make_engine):
    dbproof.assert_null_rejected(make_engine(_module_of(model)), column)


@pytest.mark.filterwarnings("ignore:Column .* is marked as a member of the primary key")
@pytest.mark.parametrize(
    ("model", "attr", "column"),
    _column_params(lambda model, column: dbproof.is_sqlite_rowid_alias(column)),
)
def test_sqlite_integer_primary_key_replaces_null_with_a_rowid(model, attr, column, make_engine):
    # SQLite's INTEGER PRIMARY KEY is the rowid: NULL there means "generate one".
    engine = make_engine(_module_of(model))
    dbproof.insert_core_row(engine, column, None)
    with engine.connect() as connection:
        assert connection.execute(sa.select(column)).scalars().all() == [1]


@pytest.mark.parametrize(
    ("model", "attr", "column"),
    _column_params(
        lambda model, column: not (
            column.primary_key
            or dbproof.is_json_like(column)
            or _is_discriminator(model, column)
        ),
        insertable_only=True,
    ),
)
def test_setting_none_on_a_loaded_row_fails_at_flush(model, attr, column, make_engine):
    # SEMANTICS.md section 3: on UPDATE, obj.col = None always raises, defaults or not.
    engine = make_engine(_module_of(model))
    identity = dbproof.store(engine, dbproof.build(model))
    with orm.Session(engine) as session:
        obj = session.get(model, identity)
        assert getattr(obj, attr) is not None
        setattr(obj, attr, None)
        assert getattr(obj, attr) is None  # until the flush
        with pytest.raises(exc.IntegrityError):
            session.flush()


# ---------------------------------------------------------------------------
# Stored values: always truthy, or really falsy


@pytest.mark.parametrize(
    ("model", "attr", "column", "value"),
    _with_values(_column_params(_is_always_truthy, insertable_only=True), dbproof.extreme_values),
)
def test_always_truthy_type_reads_truthy_at_extreme_values(model, attr, column, value, make_engine):
    stored = dbproof.stored_value(make_engine(_module_of(model)), model, attr, value)
    assert stored is not None
    assert bool(stored) is True
    assert stored == value


@pytest.mark.parametrize(
    ("model", "attr", "column", "value"),
    _with_values(
        _column_params(_is_decorated_datetime, insertable_only=True), dbproof.extreme_values
    ),
)
def test_type_decorator_over_datetime_reads_truthy_at_extreme_values(
    model, attr, column, value, make_engine
):
    # SQLModel maps ``datetime`` to UTCDateTime, a TypeDecorator with its own
    # process_result_value: statically unknown, yet it returns aware datetimes.
    stored = dbproof.stored_value(make_engine(_module_of(model)), model, attr, value)
    assert isinstance(stored, datetime.datetime) and stored.tzinfo is not None
    assert bool(stored) is True
    assert stored == value


# What the plugin claims of a stored row of each decorated_types column (its fixture
# tests/fixtures/dbc1xx/decorated_types.py reports the first two kinds and stays silent
# on the third), with the values that put each claim to the test.
_UTC = datetime.timezone.utc
DECORATED_CLAIMS = {
    "taken_at": ("truthy", [datetime.datetime(1, 1, 1, tzinfo=_UTC),
                            datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_UTC)]),
    "token": ("truthy", [uuid.UUID(int=0)]),
    "device": ("truthy", [uuid.UUID(int=0)]),
    "serial": ("truthy", [uuid.UUID(int=0)]),
    "logged_at": ("truthy", [datetime.datetime(1, 1, 1, tzinfo=_UTC),
                             datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_UTC)]),
    "colour": ("truthy", ["RED", "GREEN"]),
    "level": ("never None", ["NONE", "LOW", "HIGH"]),
    "label": ("may read None", [""]),
    "code": ("may read None", ["   "]),
    "day": ("may read None", ["soon"]),
}


@pytest.mark.parametrize(
    ("attr", "claim", "value"),
    [(attr, claim, value) for attr, (claim, values) in DECORATED_CLAIMS.items() for value in values],
)
def test_type_decorator_result_matches_what_the_plugin_reads_from_its_body(attr, claim, value, make_engine):
    module = dbproof.import_fixture("decorated_types")
    enum_class = {"colour": module.Colour, "level": module.Level}.get(attr)
    if enum_class is not None:
        value = enum_class[value]
    stored = dbproof.stored_value(make_engine(module), module.Reading, attr, value)
    if claim == "may read None":
        assert stored is None  # why the plugin must stay silent on these
        return
    assert stored is not None
    assert stored == value
    if claim == "truthy":
        assert bool(stored) is True
    else:  # never None, yet some member is falsy: no truthiness claim
        assert any(not member for member in type(stored))


FALSY_PARAMS = _column_params(_is_can_be_falsy, insertable_only=True)


@pytest.mark.parametrize(("model", "attr", "column"), FALSY_PARAMS)
def test_can_be_falsy_type_reads_falsy(model, attr, column, make_engine):
    value = dbproof.falsy_value(column)
    stored = dbproof.stored_value(make_engine(_module_of(model)), model, attr, value)
    assert stored is not None
    assert not stored
    assert stored == value


def test_falsy_proofs_cover_every_falsy_kind():
    covered = set()
    for param in FALSY_PARAMS:
        column = param.values[2]
        if column is not None:
            value = dbproof.falsy_value(column)
            covered.add(type(value).__name__)
    expected = {"int", "str", "bool", "Decimal"}
    if dbproof.SQLALCHEMY_2:
        expected |= {"Priority", "Ward"}  # IntEnum 0 and (str, Enum) "" in mapped.py
    assert expected <= covered


@_needs("mapped")
def test_plain_enum_members_are_truthy_but_mixed_in_ones_are_not():
    mapped = dbproof.import_fixture("mapped")
    classic = dbproof.import_fixture("classic")
    assert all(bool(member) for member in [*mapped.Severity, *classic.VisitKind])
    assert mapped.Severity.NONE.value == 0 and classic.VisitKind.WALK_IN.value == ""
    assert not mapped.Priority.ROUTINE and not mapped.Ward.UNASSIGNED


# ---------------------------------------------------------------------------
# JSON NOT NULL still reads None (SEMANTICS.md section 4)


@pytest.mark.parametrize(
    ("model", "attr", "column"),
    _column_params(lambda model, column: dbproof.is_json_like(column), insertable_only=True),
)
def test_json_not_null_column_reads_none_after_storing_none(model, attr, column, make_engine):
    engine = make_engine(_module_of(model))
    assert dbproof.stored_value(engine, model, attr, None) is None
    # Stored as the JSON value null, so SQL "IS NULL" does not match the row.
    with engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count()).select_from(column.table).where(column.is_(None))
        ).scalar()
    assert count == 0


# ---------------------------------------------------------------------------
# Objects that read None despite NOT NULL (SEMANTICS.md section 3)


def test_orm_insert_leaves_none_out_so_a_default_fires(make_engine):
    classic = dbproof.import_fixture("classic")
    engine = make_engine(classic)
    # created_at has only server_default=func.now()
    stored = dbproof.stored_value(engine, classic.Visit, "created_at", None)
    assert isinstance(stored, datetime.datetime)


def test_orm_insert_of_none_without_default_fails(make_engine):
    classic = dbproof.import_fixture("classic")
    engine = make_engine(classic)
    with pytest.raises(exc.IntegrityError):
        dbproof.store(engine, dbproof.build(classic.Visit, started_at=None))


@_needs("mapped")
def test_pending_object_reads_none_until_flush_despite_defaults(make_engine):
    mapped = dbproof.import_fixture("mapped")
    engine = make_engine(mapped)
    # visit_count, is_active and external_id have Python defaults; they are not passed.
    patient = mapped.Patient(
        name="Ada",
        legacy_ref="12345678-1234-5678-1234-567812345678",
        born_on=datetime.date(1990, 1, 1),
        balance=decimal.Decimal("0"),
        profile={},
    )
    with orm.Session(engine) as session:
        session.add(patient)
        assert patient.id is None
        assert patient.visit_count is None
        assert patient.is_active is None
        assert patient.external_id is None
        session.flush()
        assert patient.id is not None
        assert patient.visit_count == 0 and patient.is_active is True
        assert patient.external_id is not None


@_needs("mapped")
def test_pending_object_reads_a_falsy_primary_key_of_an_always_truthy_type(make_engine):
    """``not device.id`` on an object that may be new is a live test (DBC100 stays
    silent); on a loaded row it is dead (DBC100 reports it)."""
    mapped = dbproof.import_fixture("mapped")
    engine = make_engine(mapped)
    device = mapped.Device(registered_at=datetime.datetime(2024, 1, 1))
    with orm.Session(engine) as session:
        session.add(device)
        assert not device.id
        session.commit()
        device_id = device.id
    with orm.Session(engine) as session:
        loaded = session.get(mapped.Device, device_id)
        assert isinstance(loaded.id, uuid.UUID) and loaded.id


def test_foreign_key_set_through_the_relationship_reads_none_until_flush(make_engine):
    """``visit.patient_id or visit.patient.id`` on an object that may be new: the
    fallback runs until the flush copies the key from the relationship (DBC100 and
    DBC101 stay silent unless the row is known to come from a query)."""
    classic = dbproof.import_fixture("classic")
    engine = make_engine(classic)
    patient = dbproof.build(classic.Patient)
    visit = dbproof.build(classic.Visit, patient=patient, patient_id=None)  # as Visit(patient=...) leaves it
    with orm.Session(engine) as session:
        session.add(visit)
        assert visit.patient_id is None
        assert (visit.patient_id or visit.patient) is patient  # the fallback runs
        session.flush()
        assert visit.patient_id is not None and visit.patient_id == patient.id
        session.commit()
        visit_id = visit.id
    with orm.Session(engine) as session:
        assert session.get(classic.Visit, visit_id).patient_id is not None


def _stored_visit(make_engine):
    """The ``mapped`` fixture module, an engine over it, and a stored patient with
    one stored visit: (module, engine, patient id, visit identity)."""
    mapped = dbproof.import_fixture("mapped")
    engine = make_engine(mapped)
    (patient_id,) = dbproof.store(engine, dbproof.build(mapped.Patient))
    visit = dbproof.store(engine, dbproof.build(mapped.Visit, patient_id=patient_id))
    return mapped, engine, patient_id, visit


def _each_write_reads_none(engine, mapped, visit_id, writes, read=lambda visit: visit.started_at):
    """For each ``write(session, visit)``: load the stored visit in a new Session,
    check that ``read`` gives a value, apply the write, and check that it gives None."""
    for write in writes:
        with orm.Session(engine) as session:
            visit = session.get(mapped.Visit, visit_id)
            assert read(visit) is not None  # stored
            write(session, visit)
            assert read(visit) is None


@_needs("mapped")
def test_an_object_added_to_a_loaded_collection_is_pending_while_it_is_iterated(make_engine):
    """``patient.visits.append(Visit(...))``, or ``Visit(patient=patient)`` through the
    backref, then ``for v in patient.visits``: iterating a loaded collection flushes
    nothing, so the new visit is there, pending, reading None for what its INSERT
    fills (its key here). The plugin does not trust a collection the function adds to
    (``tests/fixtures/dbc1xx/receivers.py``, ``relationship_rows_with_new_objects``)."""
    mapped, engine, patient_id, _visit = _stored_visit(make_engine)
    with orm.Session(engine) as session:
        patient = session.get(mapped.Patient, patient_id)
        assert [v.id is None for v in patient.visits] == [False]  # stored rows only
        patient.visits.append(dbproof.build(mapped.Visit, patient_id=None))
        assert [v.id is None for v in patient.visits] == [False, True]
        added = dbproof.build(mapped.Visit, patient_id=None, patient=patient)
        assert [v.id is None for v in patient.visits] == [False, True, True] and added in patient.visits
        session.add(added)  # a backref does not cascade it into the Session since SQLAlchemy 2.0
        session.flush()
        assert [v.id is None for v in patient.visits] == [False, False, False]


@_needs("mapped")
def test_a_relationship_set_in_memory_holds_the_new_object_until_the_flush(make_engine):
    """``visit.patient = Patient(...)``, or a backref (``Patient(visits=[visit])``), on a
    loaded visit: ``visit.patient`` is the new patient, reading None for its NOT NULL
    columns until the flush (``related_rows_replaced_by_new_objects`` in
    ``tests/fixtures/dbc1xx/receivers.py``)."""
    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    with orm.Session(engine) as session:
        visit = session.get(mapped.Visit, visit_id)
        assert visit.patient.born_on is not None  # the stored patient
        visit.patient = mapped.Patient(name="x")
        assert visit.patient.born_on is None
        other = mapped.Patient(name="y", visits=[visit])
        assert visit.patient is other and other.born_on is None


@_needs("mapped")
def test_a_function_the_row_is_passed_to_can_put_none_in_a_not_null_column(make_engine):
    """A loaded visit handed to a project function that copies a new visit's unset
    column into it reads None until the flush (which would then fail): why the row is
    not trusted after ``copy_schedule(first, source)`` (``rows_handed_to_helpers`` in
    ``tests/fixtures/dbc1xx/receivers.py``, whose own helper runs here)."""
    from tests.fixtures.dbc1xx.receivers import copy_schedule

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    with orm.Session(engine) as session:
        visit = session.get(mapped.Visit, visit_id)
        assert visit.started_at is not None  # stored
        copy_schedule(visit, mapped.Visit())
        assert visit.started_at is None


@_needs("mapped")
def test_a_method_of_the_row_can_put_none_in_a_not_null_column(make_engine):
    """The same through the row's own method: ``visit.clear_start()`` assigns None to
    ``self.started_at``, so ``visit.started_at is None`` after it is live
    (``rows_changed_by_their_own_methods`` in ``tests/fixtures/dbc1xx/receivers.py``)."""
    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    with orm.Session(engine) as session:
        visit = session.get(mapped.Visit, visit_id)
        assert visit.started_at is not None  # stored
        visit.clear_start()
        assert visit.started_at is None


@_needs("mapped")
def test_what_a_helper_calls_or_another_name_can_put_none_in_a_not_null_column(make_engine):
    """The same two and three calls deep, and through another name for the row
    (``rows_written_by_what_helpers_call`` and ``rows_written_through_other_names`` in
    ``tests/fixtures/dbc1xx/receivers.py``, whose helpers run here)."""
    from tests.fixtures.dbc1xx.receivers import schedule_from, schedule_in_turn

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    _each_write_reads_none(engine, mapped, visit_id, (
        lambda session, visit: schedule_from(visit, mapped.Visit()),
        lambda session, visit: visit.restart(),
        lambda session, visit: schedule_in_turn(visit, mapped.Visit()),
        lambda session, visit: [setattr(each, "started_at", None) for each in [visit]],
    ))


@_needs("mapped")
def test_a_helper_a_service_method_or_an_unpacked_name_can_put_none_in_a_not_null_column(make_engine):
    """Through a relationship of the row handed on (``forget_birth(visit)``, and the
    row's own ``visit.forget_birth()``), a method of a service class called through
    ``self`` (two deep, or static), and a name unpacked from a tuple: the branches
    ``related_rows_written_by_what_a_row_is_handed_to``, ``VisitWorkflow`` and
    ``rows_handed_on_after_unpacking`` of ``tests/fixtures/dbc1xx/receivers.py`` keep
    silent on do run (their helpers run here)."""
    from tests.fixtures.dbc1xx.receivers import VisitWorkflow, copy_schedule, forget_birth

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    _each_write_reads_none(engine, mapped, visit_id, (
        lambda session, visit: forget_birth(visit),
        lambda session, visit: visit.forget_birth(),
    ), read=lambda visit: visit.patient.born_on)

    def unpacked(session, visit):
        each, other = visit, mapped.Visit()
        copy_schedule(each, other)

    _each_write_reads_none(engine, mapped, visit_id, (
        *(lambda session, visit, method=method: getattr(VisitWorkflow(session), method)(visit)
          for method in ("_clear", "_reset", "_wipe")),
        unpacked,
    ))


@_needs("mapped")
def test_a_base_method_a_callback_or_a_partial_can_put_none_in_a_not_null_column(make_engine):
    """A method a service class inherits, a function kept on ``self`` or handed in as a
    parameter, and ``functools.partial`` over a writing helper: the branches
    ``InheritingWorkflow``, ``cleared_by_a_callback`` and ``cleared_through_a_partial``
    of ``tests/fixtures/dbc1xx/receivers.py`` keep silent on do run."""
    import functools

    from tests.fixtures.dbc1xx.receivers import InheritingWorkflow, copy_schedule

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    _each_write_reads_none(engine, mapped, visit_id, (
        lambda session, visit: InheritingWorkflow(session)._clear(visit),
        lambda session, visit: InheritingWorkflow(session, cleaner=lambda row: setattr(row, "started_at", None))
        .cleaner(visit),
        lambda session, visit: functools.partial(copy_schedule, visit)(mapped.Visit()),
    ))


@_needs("mapped")
def test_a_constructor_a_repository_a_lambda_or_a_dispatch_can_put_none_in_a_not_null_column(make_engine):
    """A project class's constructor, a repository object kept on ``self``, a local
    lambda and a function looked up at run time: the branches of
    ``RepositoryWorkflow`` and ``rows_handed_to_constructors_lambdas_and_dispatch`` in
    ``tests/fixtures/dbc1xx/receivers.py`` keep silent on do run."""
    from tests.fixtures.dbc1xx.receivers import RepositoryWorkflow, ScheduleCopy, Schedules, copy_schedule

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    _each_write_reads_none(engine, mapped, visit_id, (
        lambda session, visit: ScheduleCopy(visit, mapped.Visit()),
        lambda session, visit: RepositoryWorkflow(session).repository.restore(visit, mapped.Visit()),
        lambda session, visit: (lambda row: setattr(row, "started_at", None))(visit),
        lambda session, visit: {"copy": copy_schedule}["copy"](visit, mapped.Visit()),
        lambda session, visit: getattr(Schedules, "clear")(visit),
    ))


@_needs("mapped")
def test_a_pool_map_or_a_closure_can_put_none_in_a_not_null_column(make_engine):
    """A thread pool or ``map`` handed a writing function along with the row, and a
    nested function or lambda writing the row it captures: the branches of
    ``rows_handed_on_with_a_function`` and ``rows_written_by_closures`` in
    ``tests/fixtures/dbc1xx/receivers.py`` keep silent on do run."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.fixtures.dbc1xx.receivers import Schedules, copy_schedule

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        _each_write_reads_none(engine, mapped, visit_id, (
            lambda session, visit: pool.submit(copy_schedule, visit, mapped.Visit()).result(),
            lambda session, visit: list(map(Schedules.clear, [visit])),
            lambda session, visit: pool.submit(lambda: copy_schedule(visit, mapped.Visit())).result(),
        ))


@_needs("mapped")
def test_merging_an_object_puts_its_none_in_the_stored_object_of_its_identity(make_engine):
    """``session.merge(obj)`` copies what ``obj`` was given onto the stored object of
    the same identity, a None in a NOT NULL column included, until the flush fails:
    why no row is trusted after a merge (``rows_after_a_merge`` in
    ``tests/fixtures/dbc1xx/receivers.py``)."""
    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    with orm.Session(engine) as session:
        visit = session.get(mapped.Visit, visit_id)
        assert visit.started_at is not None  # stored
        incoming = mapped.Visit(id=visit_id)
        incoming.started_at = None
        assert session.merge(incoming) is visit
        assert visit.started_at is None


@_needs("mapped")
def test_a_row_written_under_another_name_or_loaded_again_reads_the_none(make_engine):
    """``session.get`` hands back the object already in the session, so a row loaded
    again reads what was written to it under another name; a list's rows
    are the objects its items and a helper over the list write
    (``the_same_row_loaded_twice``, ``a_list_item_written_first`` and
    ``a_list_handed_to_a_helper_first`` in ``tests/fixtures/dbc1xx/receivers.py``,
    whose helper runs here)."""
    from tests.fixtures.dbc1xx.receivers import clear_all

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    with orm.Session(engine) as session:
        first = session.get(mapped.Visit, visit_id)
        first.started_at = None
        again = session.get(mapped.Visit, visit_id)  # found in the identity map: no query, no autoflush
        assert again is first and again.started_at is None
    for write in (lambda visits: setattr(visits[0], "started_at", None), clear_all):
        with orm.Session(engine) as session:
            visits = session.scalars(sa.select(mapped.Visit)).all()
            assert [visit.started_at is None for visit in visits] == [False]  # stored
            write(visits)
            assert [visit.started_at is None for visit in visits] == [True]


@_needs("mapped")
@_needs("sqlmodel_models")
def test_a_row_filled_from_data_can_put_none_in_a_not_null_column(make_engine):
    """WTForms' ``populate_obj`` sets every field's attribute, and an empty date field's
    value is None; a marshmallow-sqlalchemy schema's ``load(data, instance=row)`` sets
    None where its field allows it; SQLModel's ``sqlmodel_update`` and SQLAlchemy's
    ``set_attribute`` set what they are given. So the guards after them in
    ``tests/fixtures/dbc1xx/filled_from_data.py`` (which run here) take their branch."""
    import wtforms
    from marshmallow_sqlalchemy import SQLAlchemySchema, auto_field
    from sqlalchemy.orm.attributes import set_attribute

    from tests.fixtures.dbc1xx import filled_from_data as fixture

    mapped, engine, _patient_id, (visit_id,) = _stored_visit(make_engine)
    sqlmodel_models = dbproof.import_fixture("sqlmodel_models")
    sqlmodel_engine = make_engine(sqlmodel_models)
    (patient_id,) = dbproof.store(sqlmodel_engine, dbproof.build(sqlmodel_models.Patient))
    (sqlmodel_visit_id,) = dbproof.store(sqlmodel_engine, dbproof.build(sqlmodel_models.Visit, patient_id=patient_id))

    class VisitForm(wtforms.Form):
        started_at = wtforms.DateTimeLocalField()
        note = wtforms.StringField()

    class VisitSchema(SQLAlchemySchema):
        class Meta:
            model = mapped.Visit
            load_instance = True

        started_at = auto_field(allow_none=True)

    def form():
        return VisitForm(dbproof.SubmittedForm(started_at=""))

    _each_write_reads_none(engine, mapped, visit_id, (
        lambda session, visit: form().populate_obj(visit),
        lambda session, visit: VisitSchema().load({"started_at": None}, instance=visit, session=session),
        lambda session, visit: fixture.fill_from(form(), visit),
        lambda session, visit: fixture.fill_start(form().started_at, visit),
        lambda session, visit: set_attribute(visit, "started_at", None),
    ))
    _each_write_reads_none(sqlmodel_engine, sqlmodel_models, sqlmodel_visit_id, (
        lambda session, visit: visit.sqlmodel_update({"started_at": None}),
    ))
    sqlmodel_row = (sqlmodel_engine, sqlmodel_models.Visit, sqlmodel_visit_id)
    mapped_row = (engine, mapped.Visit, visit_id)
    for (db, model, identity), edit in (
        (mapped_row, lambda session: fixture.edited_by_a_form(session, form(), visit_id)),
        (mapped_row,
         lambda session: fixture.edited_by_a_schema(session, VisitSchema(), {"started_at": None}, visit_id)),
        (mapped_row, lambda session: fixture.edited_through_a_helper(session, form(), visit_id)),
        (mapped_row, lambda session: fixture.edited_field_by_field(session, form().started_at, form().note, visit_id)),
        (mapped_row, lambda session: fixture.edited_by_set_attribute(session, None, visit_id)),
        (sqlmodel_row,
         lambda session: fixture.edited_by_sqlmodel_update(session, {"started_at": None}, sqlmodel_visit_id)),
    ):
        with orm.Session(db) as session:
            assert session.get(model, identity).started_at not in (None, fixture.DEFAULT_START)  # stored
            assert edit(session).started_at == fixture.DEFAULT_START  # the branch kept quiet on ran


def test_a_method_of_an_unread_base_can_put_none_in_a_not_null_column():
    """A mixin from an installed package writes the row it is called on: with the
    shape of sqlalchemy-mixins' ``ActiveRecordMixin.fill`` (``setattr`` for each given
    value), ``entry.fill(started_at=None)`` leaves a stored row reading None. So after
    a method no project class defines, called on a row whose model has such a base,
    the guards in ``tests/fixtures/dbc1xx/unread_bases.py`` stay silent."""
    class ActiveRecordMixin:
        def fill(self, **values):
            for name, value in values.items():
                setattr(self, name, value)
            return self

    Base = orm.declarative_base()

    class Entry(Base, ActiveRecordMixin):
        __tablename__ = "entry"

        id = sa.Column(sa.Integer, primary_key=True)
        started_at = sa.Column(sa.DateTime, nullable=False)

    engine = sa.create_engine("sqlite://")
    try:
        Base.metadata.create_all(engine)
        with orm.Session(engine) as session:
            session.add(Entry(id=1, started_at=datetime.datetime(2024, 1, 1)))
            session.commit()
        with orm.Session(engine) as session:
            entry = session.get(Entry, 1)
            assert entry.started_at == datetime.datetime(2024, 1, 1)  # stored
            entry.fill(started_at=None)
            assert entry.started_at is None
    finally:
        engine.dispose()


@_needs("mapped")
def test_rows_of_two_entities_unpack_into_stored_objects_also_across_an_outer_join(make_engine):
    """What the plugin trusts of ``for visit, patient in session.execute(select(Visit,
    Patient).join(...))``, ``session.query(Visit, Patient)`` and ``query(Visit.id,
    Visit.started_at).one().started_at``. Across an outer join the optional side's
    entity is a stored object or None, and ``None.started_at`` raises, so a test of
    ``v.started_at`` never takes its dead branch; a column of the optional side reads
    None, which is why rows of columns stay silent there."""
    mapped, engine, patient_id, _visit = _stored_visit(make_engine)
    dbproof.store(engine, dbproof.build(mapped.Patient, id=patient_id + 1))  # no visit
    with orm.Session(engine) as session:
        joined = sa.select(mapped.Visit, mapped.Patient).join(mapped.Visit.patient)
        rows = list(session.execute(joined))
        assert rows and all(isinstance(v, mapped.Visit) and isinstance(p, mapped.Patient) for v, p in rows)
        assert all(v.started_at is not None and p.born_on for v, p in rows)
        v, p = session.query(mapped.Visit, mapped.Patient).join(mapped.Visit.patient).first()
        assert isinstance(v, mapped.Visit) and isinstance(p, mapped.Patient)
        assert isinstance(session.scalars(joined).first(), mapped.Visit)  # the first entity
        outer = sa.select(mapped.Patient, mapped.Visit).outerjoin(mapped.Patient.visits)
        optional_side = [v for _p, v in session.execute(outer)]
        assert None in optional_side and any(isinstance(v, mapped.Visit) for v in optional_side)
        for v in optional_side:
            if v is None:
                with pytest.raises(AttributeError):
                    _ = v.started_at is None  # the test itself raises
            else:
                assert v.started_at is not None
        constructed = sa.select(mapped.Patient.id, mapped.Visit.started_at).select_from(
            sa.outerjoin(mapped.Patient, mapped.Visit))
        assert None in {r.started_at for r in session.execute(constructed)}
        # Rows of column values: a NOT NULL column reads a value, but not across an outer join.
        row = session.query(mapped.Visit.id, mapped.Visit.started_at).one()
        assert isinstance(row.started_at, datetime.datetime)
        assert all(r.started_at is not None for r in session.execute(sa.select(mapped.Visit.started_at)))
        across = sa.select(mapped.Patient.id, mapped.Visit.started_at).outerjoin(mapped.Patient.visits)
        assert None in {r.started_at for r in session.execute(across)}


@_needs("mapped")
def test_query_expression_reads_none_on_a_loaded_row(make_engine):
    mapped, engine, _patient_id, identity = _stored_visit(make_engine)
    with orm.Session(engine) as session:
        assert session.get(mapped.Visit, identity).duration_rank is None
    with orm.Session(engine) as session:
        rank = orm.with_expression(mapped.Visit.duration_rank, sa.literal(7))
        visit = session.scalars(sa.select(mapped.Visit).options(rank)).one()
        assert visit.duration_rank == 7


@_needs("mixins")
@pytest.mark.parametrize("model_name", ["Staff", "Nurse"])
def test_single_table_sibling_fails_on_a_subclass_not_null_column(model_name, make_engine):
    # Doctor.licensed_on is NOT NULL in the shared staff table: trust it as declared.
    mixins = dbproof.import_fixture("mixins")
    model = getattr(mixins, model_name)
    assert not dbproof.is_insertable(model)
    with pytest.raises(exc.IntegrityError, match="licensed_on"):
        dbproof.store(make_engine(mixins), dbproof.build(model))


def test_flask_query_loads_not_null_columns(tmp_path):
    flask = pytest.importorskip("flask")
    flask_models = dbproof.import_fixture("flask_models")
    db = flask_models.db
    app = flask.Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'flask.db'}"
    db.init_app(app)
    with app.app_context():
        db.create_all()
        doctor = dbproof.build(flask_models.Doctor)
        db.session.add(doctor)
        db.session.flush()
        db.session.add(dbproof.build(flask_models.Appointment, doctor_id=doctor.id, room=None))
        db.session.commit()
        db.session.remove()
        appointment = flask_models.Appointment.query.one()
        assert appointment.room == "A1"  # None left out of the INSERT: server_default fired
        assert appointment.starts_at and appointment.status
        assert appointment.doctor.on_call is True
        db.session.remove()
        db.drop_all()
        db.engine.dispose()  # Python 3.13 warns of a SQLite connection left open
