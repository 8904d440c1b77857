"""Prove on SQLite what ``fixtures/dbc1xx/inherited_class_methods.py`` and
``fixtures/dbc2xx/inherited_class_methods.py`` claim about class methods a model
inherits from a mixin (``tests/fixtures/models/active_record.py``): ``Ticket.get(pk)``
and ``Ticket.get_by(...)`` return stored rows, so their NOT NULL columns never read
None and in-place changes to their JSON column are lost; the methods the plugin leaves
alone really can return new objects."""
import datetime

import pytest
from sqlalchemy.orm.attributes import flag_modified

from tests import dbproof
from tests.fixtures.models import active_record
from tests.fixtures.models.active_record import Archive, Session, Ticket

OPENED = datetime.datetime(2026, 12, 7, 9, 30)


@pytest.fixture
def ticket_id():
    engine = dbproof.create_sqlite_engine(active_record)
    Session.configure(bind=engine)
    Session.add(Ticket(code="T-1", opened_at=OPENED, meta={"label": "old"}))
    Session.commit()
    ticket_id = Session.query(Ticket.id).scalar()
    Session.remove()
    yield ticket_id
    Session.remove()
    engine.dispose()


def _stored_meta(ticket_id):
    Session.remove()
    return Session.get(Ticket, ticket_id).meta


def test_inherited_get_and_get_by_return_stored_rows(ticket_id):
    for ticket in (Ticket.get(ticket_id), Ticket.get_by(code="T-1"), *Ticket.get_all()):
        assert ticket.opened_at is not None
        assert ticket.opened_at == OPENED


def test_change_through_inherited_get_is_lost(ticket_id):
    ticket = Ticket.get(ticket_id)
    ticket.meta["label"] = "new"  # noqa: DBC200 (the lost write this test proves)
    Session.commit()
    assert _stored_meta(ticket_id) == {"label": "old"}


def test_change_through_inherited_get_with_flag_modified_is_saved(ticket_id):
    ticket = Ticket.get(ticket_id)
    ticket.meta["label"] = "new"
    flag_modified(ticket, "meta")
    Session.commit()
    assert _stored_meta(ticket_id) == {"label": "new"}


def test_change_to_object_from_create_is_saved(ticket_id):
    ticket = Ticket.create(code="T-2", opened_at=OPENED, meta={})
    ticket.meta["label"] = "new"
    Session.commit()
    assert _stored_meta(ticket.id) == {"label": "new"}


def test_methods_left_alone_can_return_new_objects(ticket_id):
    assert Ticket.create(code="T-3").opened_at is None
    Session.rollback()  # the new ticket could never be flushed
    assert Ticket.get_or_new(None).opened_at is None
    assert Archive.get(ticket_id).archived_at is None
    assert isinstance(Ticket.one_or_all(None), list)
