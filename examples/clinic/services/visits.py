"""Checking patients in and out, and what is recorded during a visit."""
import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from clinic.models import Patient, Visit, VisitKind


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def check_in(
    session: Session, patient: Patient, kind: VisitKind, room: str, clerk: str
) -> Visit:
    visit = Visit(
        patient=patient,
        kind=kind,
        room=room,
        created_by=clerk,
        extra={"source": "desk"},
        vitals={"readings": []},
    )
    # A new object: nothing is stored yet, so these checks are live.
    if visit.started_at is None:
        visit.started_at = _now()
    visit.extra["checked_in_by"] = clerk
    session.add(visit)
    session.flush()
    return visit


def check_out(session: Session, visit_id: int, clerk: str) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise LookupError(f"no visit {visit_id}")
    if visit.started_at is None:
        raise ValueError("the patient never checked in")
    if visit.ended_at is not None:
        raise ValueError("the visit is already over")
    visit.ended_at = _now()
    visit.extra["checked_out_by"] = clerk
    session.commit()
    return visit


def record_vital(visit: Visit, name: str, value: Any) -> None:
    # MutableDict sees a top-level change by itself.
    visit.vitals[name] = value


def record_reading(visit: Visit, name: str, value: Any) -> None:
    # ...but not a change nested in one of its values.
    visit.vitals["readings"].append({"name": name, "value": value})


def add_note(visit: Visit, note: str) -> None:
    visit.extra.setdefault("notes", []).append(note)
    flag_modified(visit, "extra")


def schedule_follow_up(visit: Visit) -> int:
    if visit.follow_ups:
        visit.urgent = True
    visit.follow_ups += 1
    return visit.follow_ups


def latest_visit(session: Session, patient: Patient) -> Optional[Visit]:
    statement = (
        select(Visit)
        .where(Visit.patient_id == patient.id, Visit.ended_at.is_(None))
        .order_by(Visit.started_at.desc())
    )
    visit = session.scalars(statement).first()
    if visit is None:
        return None
    if visit.extra is None:
        # JSON null reads back as None even in a NOT NULL JSON column.
        visit.extra = {}
    return visit


def is_new(visit: Visit) -> bool:
    # A primary key reads None until the first flush.
    return visit.id is None
