"""Is a declared column NOT NULL? The rules of SEMANTICS.md section 1, per style.

``None`` for a fact means "not written in the source"; an explicit value that is not
a literal (``nullable=SOME_FLAG``) makes the column's nullability unknown, and unknown
is treated as nullable: we stay silent.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

UNKNOWN_VALUE = "unknown"


@dataclasses.dataclass(frozen=True)
class NullabilityFacts:
    style: str  # "column" (Column / db.Column / sa_column), "mapped" or "sqlmodel"
    nullable: object = None  # True, False, None (not given) or UNKNOWN_VALUE
    primary_key: object = None
    annotation_optional: Optional[bool] = None  # None: no (readable) annotation
    default_nullable: object = None  # from a functools.partial default


def is_not_null(facts: NullabilityFacts) -> bool:
    """True only when SQLAlchemy would make the column NOT NULL for sure."""
    explicit = facts.nullable if facts.nullable is not None else facts.default_nullable
    if explicit is not None:
        # Explicit wins both ways (SEMANTICS 1), also over primary keys.
        return explicit is False
    if facts.primary_key is UNKNOWN_VALUE:
        return False
    primary_key = facts.primary_key is True
    if facts.style == "column":
        # The annotation is ignored for Column(); only primary keys are NOT NULL.
        return primary_key
    if facts.style == "sqlmodel":
        # id: Optional[int] = Field(default=None, primary_key=True) is NOT NULL.
        return primary_key or facts.annotation_optional is False
    # mapped_column: an Optional primary key is nullable; no annotation means nullable.
    if primary_key:
        return facts.annotation_optional is not True
    return facts.annotation_optional is False
