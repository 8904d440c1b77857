"""Prove on SQLite what ``fixtures/dbc1xx/constructor_defaults.py`` claims about
``tests/fixtures/models/constructors.py``: a new ``Tray()`` reads None in the NOT NULL
columns its constructor defaults to None, so ``validate()``'s None tests run for real
on new trays (the plugin stays silent there), while a stored tray never reads None in
any of them."""
import pytest
import sqlalchemy as sa
from sqlalchemy import exc, orm

from tests import dbproof
from tests.fixtures.models import constructors
from tests.fixtures.models.constructors import EPOCH, Tray


@pytest.fixture
def engine():
    engine = dbproof.create_sqlite_engine(constructors)
    yield engine
    engine.dispose()


def test_new_tray_reads_none_where_its_constructor_defaults_to_none():
    tray = Tray()
    assert (tray.kind, tray.label) == (None, None)
    with pytest.raises(ValueError, match="needs a kind"):
        tray.validate()


def test_such_a_tray_cannot_be_stored(engine):
    with orm.Session(engine) as session:
        session.add(Tray())
        with pytest.raises(exc.IntegrityError):
            session.flush()


def test_stored_tray_never_reads_none(engine):
    with orm.Session(engine) as session:
        session.add(Tray("steel", label="A"))
        session.commit()
    with orm.Session(engine) as session:
        tray = session.scalars(sa.select(Tray)).one()
        tray.validate()
        assert (tray.kind, tray.label, tray.size, tray.made_at, tray.cleared_at) == ("steel", "A", 3, EPOCH, EPOCH)
