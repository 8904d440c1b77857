"""Patients and their visits."""
import datetime
import enum
import uuid
from typing import Any, Dict, List, Optional

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import Base
from clinic.models.mixins import AuthoredMixin, TimestampMixin


class VisitKind(enum.Enum):
    CHECKUP = "checkup"
    FOLLOW_UP = "follow_up"
    EMERGENCY = "emergency"


class Patient(TimestampMixin, Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    born_on: Mapped[datetime.date]
    email: Mapped[Optional[str]] = mapped_column(String(200))

    visits: Mapped[List["Visit"]] = relationship(back_populates="patient")


class Visit(TimestampMixin, AuthoredMixin, Base):
    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[VisitKind]
    room: Mapped[str] = mapped_column(String(10))
    # A visit row is written when the patient checks in.
    started_at: Mapped[datetime.datetime]
    ended_at: Mapped[Optional[datetime.datetime]]
    follow_ups: Mapped[int] = mapped_column(default=0)
    urgent: Mapped[bool] = mapped_column(default=False)
    # Plain JSON through Base.type_annotation_map: in-place changes are lost.
    extra: Mapped[Dict[str, Any]] = mapped_column(default=dict)
    # MutableDict tracks top-level changes, not nested ones.
    vitals: Mapped[Dict[str, Any]] = mapped_column(
        MutableDict.as_mutable(JSON), default=dict
    )

    patient: Mapped[Patient] = relationship(back_populates="visits")
