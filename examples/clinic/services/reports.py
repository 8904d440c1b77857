"""Daily reports for the front desk."""
import datetime
from typing import List

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import Session as ApiSession
from sqlmodel import select as api_select

from clinic.api_models import Appointment
from clinic.legacy import Referral, ReferralStatus
from clinic.models import Invoice, Patient, Visit


def day_sheet(session: Session, day: datetime.date) -> List[str]:
    visits = session.scalars(
        select(Visit).where(func.date(Visit.started_at) == day)
    ).all()
    lines = []
    for visit in visits:
        if visit.started_at:
            started = visit.started_at.strftime("%H:%M")
        else:
            started = "not started"
        ended = visit.ended_at.strftime("%H:%M") if visit.ended_at else "-"
        kind = visit.kind.value if visit.kind else "unknown"
        author = visit.created_by if visit.created_by is not None else "?"
        flag = " (urgent)" if visit.urgent else ""
        lines.append(f"{started}-{ended} {kind} by {author}{flag}")
    return lines


def patient_card(patient: Patient) -> str:
    if not patient.born_on:
        return f"{patient.name} (date of birth missing)"
    contact = patient.email or "no e-mail"
    return f"{patient.name}, born {patient.born_on:%Y-%m-%d}, {contact}"


def last_visit_time(session: Session, patient: Patient) -> str:
    latest = session.scalar(
        select(func.max(Visit.started_at)).where(
            Visit.patient_id == patient.id
        )
    )
    # An aggregate over no rows is None.
    return latest.isoformat() if latest is not None else "never"


def appointments(session: ApiSession) -> List[str]:
    rows = []
    for appointment in session.exec(api_select(Appointment)):
        when = appointment.starts_at or "unscheduled"
        if appointment.confirmed_at is None:
            rows.append(f"{when}: unconfirmed")
        elif appointment.reminders_sent:
            rows.append(f"{when}: confirmed, reminded")
        else:
            rows.append(f"{when}: confirmed")
    return rows


def open_referrals() -> List[str]:
    rows = []
    for referral in Referral.query.filter_by(closed_at=None).all():
        if referral.referred_at is None:
            continue
        if referral.status is ReferralStatus.SENT:
            referral.answers["reminded"] = True
        rows.append(f"{referral.specialty} since {referral.referred_at}")
    return rows


def unpaid_total(invoices: List[Invoice]) -> str:
    total = sum(i.total for i in invoices if i.paid_at is None)
    return f"{total:.2f}"
