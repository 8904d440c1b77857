"""Online appointments, declared with SQLModel for the booking API."""
import datetime
import uuid
from typing import Optional

from sqlmodel import Field, SQLModel


class AppointmentBase(SQLModel):
    """Fields the API accepts; not a table."""

    patient_id: int = Field(index=True)
    starts_at: datetime.datetime
    notes: Optional[str] = None


class Appointment(AppointmentBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    public_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    confirmed_at: Optional[datetime.datetime] = None
    reminders_sent: int = 0


class AppointmentRead(AppointmentBase):
    """What the API returns; not a table either."""

    id: int
    confirmed_at: Optional[datetime.datetime] = None
