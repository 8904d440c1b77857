"""Referrals, still served by the old Flask app (Flask-SQLAlchemy)."""
import datetime
import enum

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class ReferralStatus(enum.Enum):
    SENT = "sent"
    ACCEPTED = "accepted"
    CLOSED = "closed"


class Referral(db.Model):
    __tablename__ = "referral"

    id = db.Column(db.Integer, primary_key=True)
    patient_id = db.Column(db.Integer, nullable=False, index=True)
    specialty = db.Column(db.String(50), nullable=False)
    referred_at = db.Column(db.DateTime, nullable=False, default=_utcnow)
    status = db.Column(
        db.Enum(ReferralStatus), nullable=False, default=ReferralStatus.SENT
    )
    closed_at = db.Column(db.DateTime)
    answers = db.Column(db.JSON, nullable=False, default=dict)
