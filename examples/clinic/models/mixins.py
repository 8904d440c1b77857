"""Columns shared by several models."""
import datetime
from typing import Optional

from sqlalchemy import String, func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class TimestampMixin:
    """When a row was created (set by the database) and last changed."""

    created_at: Mapped[datetime.datetime] = mapped_column(
        server_default=func.now()
    )
    updated_at: Mapped[Optional[datetime.datetime]] = mapped_column(
        onupdate=func.now()
    )


class AuthoredMixin:
    """Who created a row: required, so every model gets its own column."""

    @declared_attr
    def created_by(cls) -> Mapped[str]:
        return mapped_column(String(50))
