"""The declarative base of the clinic's typed models (SQLAlchemy 2.0)."""
import datetime
from typing import Any, Dict

from sqlalchemy import JSON, DateTime
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Every Mapped[datetime] column stores an aware timestamp, and every
    # Mapped[Dict[str, Any]] column is plain JSON. The map picks the type
    # only; NOT NULL still comes from the annotation.
    type_annotation_map = {
        datetime.datetime: DateTime(timezone=True),
        Dict[str, Any]: JSON,
    }
