"""Synthetic SQLAlchemy monorepo with a known number of findings per code.

    python benchmarks/monorepo.py --packages 100 --out /tmp/mono

writes N packages ``pkg000`` .. ``pkgNNN`` beside a shared ``common/`` package:

- ``common/db.py``: the declarative ``Base``, a ``TimestampMixin`` (NOT NULL ``created_at``)
  and ``utcnow()``; ``common/text.py``: plain utility code.
- ``pkgNNN/models.py``: 8 models mixing classic ``Column(..., nullable=False)`` and 2.0
  ``Mapped[...]``/``mapped_column`` styles (``Optional[X]`` or ``X | None``, ``sa.Column``
  or ``Column``, with or without ``from __future__ import annotations``).
- ``pkgNNN/utils.py``: code unrelated to models, including a dataclass whose fields share
  names with model columns (a look-alike that must stay silent).
- 8 service modules per package that import models (their own, sometimes the previous
  package's) and mix dead guards (expected DBC100/DBC101/DBC200) with silent look-alikes:
  nullable columns, Integer/String/JSON truthiness, JSON ``is None``, transient objects
  ``Model(...)``, unknown receivers, class-level expressions, ``MutableDict`` columns,
  ``flag_modified``, scalar queries, value-context operands, ``__repr__``.

At N=100 that is 1,103 modules and 800 models. Package ``pkgNNN`` depends only on the
seed and its index, so the first 10 packages of the 100-package tree equal the
10-package tree. The expected findings (path, line, code, category) and the silent
look-alikes are returned by ``generate()`` and written to ``expected.json`` at the root
of the tree. Every expectation follows the project's shared SEMANTICS.md (each
expected or silent line carries a category naming the case); the receivers of expected
findings are parameters annotated with the model,
``session.get(Model, id)`` after an ``is None`` check, and ``session.scalars(select(M)
...).one()``. Standard library only.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import pathlib
import random
import re
import shutil
import sys
import textwrap
from typing import Callable, Iterable, Sequence

DEFAULT_SEED = "dbc-monorepo-1"
SERVICE_MODULES = ("api", "views", "tasks", "reports", "handlers", "jobs", "sync", "admin")
MARKER = re.compile(r"\s*#!(?P<kind>DBC\d{3}|ok):(?P<category>[\w-]+)\s*$")

# 12 domains of 8 model names each; package i takes domain i % 12. Names are unique
# across domains, so a module importing from two packages never needs an alias.
DOMAINS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (domain, tuple(names.split()))
    for domain, names in (
        ("clinic", "Visit Patient Appointment Referral Prescription LabOrder Ward Clinician"),
        ("billing", "Invoice Payment Refund Subscription PriceList TaxRate CreditNote Ledger"),
        ("shipping", "Shipment Parcel Carrier Route Depot PickupSlot Manifest CustomsForm"),
        ("catalog", "Product Variant Category Brand StockItem Supplier PriceTag Bundle"),
        ("people", "Employee Team Contract LeaveRequest Timesheet Review Skill Badge"),
        ("support", "Ticket Reply Escalation Macro Queue Survey Agent SlaPolicy"),
        ("events", "Event Venue Booking Speaker Talk Sponsor Attendee Waitlist"),
        ("fleet", "Vehicle Driver Trip FuelLog Inspection Garage Tyre Incident"),
        ("learning", "Course Lesson Enrolment Quiz Attempt Certificate Cohort Tutor"),
        ("assets", "Asset Licence Lease Location Audit Disposal Warranty Vendor"),
        ("crm", "Lead Deal Contact Campaign Segment Activity Pipeline Quote"),
        ("infra", "Host Cluster Deployment Release Alert Runbook Backup TlsCertificate"),
    )
)

# Column names by role; each model draws one per role.
ROLE_NAMES = {
    role: tuple(names.split())
    for role, names in (
        (
            "dt_req",
            "started_at opened_at issued_at placed_at received_at scheduled_at submitted_at",
        ),
        ("dt_opt", "ended_at closed_at paid_at shipped_at cancelled_at archived_at reviewed_at"),
        ("str_req", "code reference status title name slug"),
        ("str_opt", "note comment description external_ref"),
        ("int_req", "attempts quantity priority retries position revision"),
        ("json", "extra payload details attributes context"),
        ("json_mut", "tags flags labels preferences"),
    )
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclasses.dataclass(frozen=True)
class Model:
    package: str
    name: str
    style: str  # "classic" or "mapped"
    mixin: bool  # inherits TimestampMixin: NOT NULL created_at, nullable updated_at
    explicit_nullable: bool  # dt_opt is Mapped[datetime] = mapped_column(nullable=True)
    cols: dict  # role -> attribute name

    @property
    def table(self) -> str:
        return f"{self.package}_{snake(self.name)}"

    @property
    def var(self) -> str:
        return snake(self.name)


@dataclasses.dataclass(frozen=True)
class Expected:
    path: str  # posix, relative to the tree root
    line: int
    code: str
    category: str


@dataclasses.dataclass(frozen=True)
class Silent:
    path: str
    line: int
    category: str


@dataclasses.dataclass
class Manifest:
    root: pathlib.Path
    packages: int
    seed: str
    modules: int = 0
    lines: int = 0
    models: int = 0
    expected: list = dataclasses.field(default_factory=list)
    silent: list = dataclasses.field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counter = collections.Counter(e.code for e in self.expected)
        return {code: counter.get(code, 0) for code in ("DBC100", "DBC101", "DBC200", "DBC300")}

    def counts_for(self, paths: Iterable[str]) -> dict[str, int]:
        wanted = set(paths)
        counter = collections.Counter(e.code for e in self.expected if e.path in wanted)
        return {code: counter.get(code, 0) for code in ("DBC100", "DBC101", "DBC200", "DBC300")}

    def to_json(self) -> dict:
        return {
            "packages": self.packages,
            "seed": self.seed,
            "modules": self.modules,
            "lines": self.lines,
            "models": self.models,
            "expected_counts": self.counts(),
            "expected": [dataclasses.asdict(e) for e in self.expected],
            "silent": [dataclasses.asdict(s) for s in self.silent],
        }


class Writer:
    """Writes files, strips the ``#!CODE:category`` markers and records their lines."""

    def __init__(self, root: pathlib.Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest

    def write(self, rel: str, text: str) -> None:
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            match = MARKER.search(line)
            if match:
                line = line[: match.start()]
                if match["kind"] == "ok":
                    self.manifest.silent.append(Silent(rel, number, match["category"]))
                else:
                    self.manifest.expected.append(
                        Expected(rel, number, match["kind"], match["category"])
                    )
            out.append(line.rstrip())
        body = "\n".join(out).rstrip("\n") + "\n"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        self.manifest.modules += 1
        self.manifest.lines += body.count("\n")


def substitute(template: str, mapping: dict[str, str]) -> str:
    """Replace ``$key`` by ``mapping[key]``, taking the longest key that prefixes the word,
    so that ``$s_id`` is ``mapping["s"] + "_id"`` and ``$json_mut`` is ``mapping["json_mut"]``."""
    keys = sorted(mapping, key=len, reverse=True)

    def replace(match: re.Match) -> str:
        word = match.group(1)
        for key in keys:
            if word.startswith(key):
                return str(mapping[key]) + word[len(key) :]  # noqa: E203 (black's slice spacing)
        raise KeyError(f"no value for ${word}")

    return re.sub(r"\$([A-Za-z_]\w*)", replace, template)


def dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


# --------------------------------------------------------------------------- common/

COMMON_INIT = '"""Code shared by every package of the monorepo."""\n'

COMMON_DB = dedent('''
    """Declarative base, mixins and helpers shared by every package."""
    from __future__ import annotations

    from datetime import datetime, timezone
    from typing import Optional

    from sqlalchemy import DateTime, MetaData
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    NAMING_CONVENTION = {
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }


    def utcnow() -> datetime:
        """Timezone-aware now, the only clock the packages use."""
        return datetime.now(timezone.utc)


    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)


    class TimestampMixin:
        """Audit columns: created_at is NOT NULL, updated_at is set on UPDATE only."""

        created_at: Mapped[datetime] = mapped_column(
            DateTime(timezone=True), default=utcnow
        )
        updated_at: Mapped[Optional[datetime]] = mapped_column(
            DateTime(timezone=True), onupdate=utcnow
        )
    ''')

COMMON_TEXT = dedent('''
    """Text helpers with no database in sight."""
    from __future__ import annotations

    import re
    import unicodedata
    from typing import Iterable, Iterator, Optional

    _SLUG_RE = re.compile(r"[^a-z0-9]+")


    def slugify(value: str, max_length: int = 60) -> str:
        value = unicodedata.normalize("NFKD", value)
        value = value.encode("ascii", "ignore").decode("ascii").lower()
        slug = _SLUG_RE.sub("-", value).strip("-")
        if not slug:
            return "item"
        return slug[:max_length].rstrip("-")


    def chunked(items: Iterable[str], size: int) -> Iterator[list[str]]:
        if size <= 0:
            raise ValueError("size must be positive")
        batch: list[str] = []
        for item in items:
            batch.append(item)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


    def parse_bool(value: Optional[str], default: bool = False) -> bool:
        if value is None:
            return default
        value = value.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"not a boolean: {value!r}")


    def truncate(text: str, width: int, suffix: str = "...") -> str:
        if len(text) <= width:
            return text
        return text[: max(width - len(suffix), 0)] + suffix
    ''')


# --------------------------------------------------------------------------- models.py


def make_models(package: str, index: int, rng: random.Random) -> list[Model]:
    _domain, names = DOMAINS[index % len(DOMAINS)]
    models = []
    for k, name in enumerate(names):
        style = "classic" if k % 2 == 0 else "mapped"
        cols = {role: rng.choice(options) for role, options in ROLE_NAMES.items()}
        models.append(
            Model(
                package=package,
                name=name,
                style=style,
                mixin=style == "mapped" and k % 4 == 1,
                explicit_nullable=style == "mapped" and k % 4 == 3,
                cols=cols,
            )
        )
    return models


def render_models(package: str, index: int, models: list[Model]) -> str:
    future = index % 5 == 0
    pep604 = index % 2 == 1  # X | None instead of Optional[X]
    sa_prefix = "sa." if index % 3 == 0 else ""

    def opt(t: str) -> str:
        return f"{t} | None" if pep604 else f"Optional[{t}]"

    lines = [f'"""Models of {package} ({DOMAINS[index % len(DOMAINS)][0]})."""']
    if future:
        lines.append("from __future__ import annotations")
        lines.append("")
    lines.append("from datetime import datetime")
    lines.append("from typing import Any" + ("" if pep604 else ", Optional"))
    lines.append("")
    if sa_prefix:
        lines.append("import sqlalchemy as sa")
    lines.append(
        "from sqlalchemy import (CheckConstraint, Column, DateTime, ForeignKey, "
        "Integer, JSON,\n                        String, Text)"
        if not sa_prefix
        else "from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, String, Text"
    )
    lines.append("from sqlalchemy.ext.mutable import MutableDict")
    lines.append("from sqlalchemy.orm import Mapped, mapped_column")
    lines.append("")
    lines.append("from common.db import Base, TimestampMixin, utcnow")
    first = models[0]
    for model in models:
        c = model.cols
        lines += ["", ""]
        bases = "TimestampMixin, Base" if model.mixin else "Base"
        lines.append(f"class {model.name}({bases}):")
        lines.append(f'    __tablename__ = "{model.table}"')
        if model.style == "classic":
            col = f"{sa_prefix}Column"
            integer = f"{sa_prefix}Integer"
            if model is first:
                lines.append(
                    "    __table_args__ = (\n"
                    f'        CheckConstraint("{c["dt_opt"]} IS NOT NULL OR {c["int_req"]} >= 0",\n'
                    '                        name="closed_or_counted"),\n'
                    "    )"
                )
            lines.append("")
            lines.append(f"    id = {col}({integer}, primary_key=True)")
            if model is not first:
                lines.append(
                    f"    {snake(first.name)}_id = {col}(\n"
                    f'        {integer}, ForeignKey("{first.table}.id"), nullable=False,'
                    " index=True\n"
                    "    )"
                )
            lines.append(f"    {c['dt_req']} = {col}(DateTime, nullable=False, default=utcnow)")
            lines.append(f"    {c['dt_opt']} = {col}(DateTime)")
            lines.append(f"    {c['str_req']} = {col}(String(64), nullable=False, index=True)")
            lines.append(f"    {c['str_opt']} = {col}(Text, nullable=True)")
            lines.append(f"    {c['int_req']} = {col}({integer}, nullable=False, default=0)")
            lines.append(f"    {c['json']} = {col}(JSON, nullable=False, default=dict)")
            lines.append(
                f"    {c['json_mut']} = {col}(\n"
                "        MutableDict.as_mutable(JSON), nullable=False, default=dict\n"
                "    )"
            )
            lines.append("")
            lines.append("    def __repr__(self) -> str:")
            lines.append(f"        if self.{c['dt_req']} is None:  #!ok:repr-self")
            lines.append(f'            return f"<{model.name} {{self.{c["str_req"]}!r}} (new)>"')
            lines.append(
                f'        return f"<{model.name} {{self.{c["str_req"]}!r}} {{self.{c["dt_req"]}}}>"'
            )
        else:
            lines.append("")
            lines.append("    id: Mapped[int] = mapped_column(primary_key=True)")
            if model is not first:
                lines.append(
                    f"    {snake(first.name)}_id: Mapped[int] = mapped_column(\n"
                    f'        ForeignKey("{first.table}.id"), index=True\n'
                    "    )"
                )
            lines.append(f"    {c['dt_req']}: Mapped[datetime] = mapped_column(default=utcnow)")
            if model.explicit_nullable:
                # SEMANTICS.md section 1: explicit nullable=True wins over Mapped[X].
                # DBC300: the annotation says never None, the column allows NULL.
                lines.append(
                    f"    {c['dt_opt']}: Mapped[datetime] = mapped_column(DateTime, nullable=True)"
                    "  #!DBC300:annotation-disagrees"
                )
            else:
                lines.append(f"    {c['dt_opt']}: Mapped[{opt('datetime')}]")
            lines.append(f"    {c['str_req']}: Mapped[str] = mapped_column(String(64), index=True)")
            lines.append(f"    {c['str_opt']}: Mapped[{opt('str')}] = mapped_column(Text)")
            lines.append(f"    {c['int_req']}: Mapped[int] = mapped_column(default=0)")
            lines.append(
                f"    {c['json']}: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)"
            )
            lines.append(
                f"    {c['json_mut']}: Mapped[dict[str, Any]] = mapped_column(\n"
                "        MutableDict.as_mutable(JSON), default=dict\n"
                "    )"
            )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- utils.py

UTILS = dedent('''
    """$package helpers that know nothing about the database."""
    from __future__ import annotations

    import functools
    import logging
    import time
    from dataclasses import dataclass, field
    from datetime import datetime, timedelta
    from typing import Any, Callable, Optional, TypeVar

    log = logging.getLogger(__name__)
    T = TypeVar("T")


    @dataclass
    class Window:
        """A time window; shares column names with models but is a plain dataclass."""

        started_at: Optional[datetime] = None
        closed_at: Optional[datetime] = None
        payload: dict[str, Any] = field(default_factory=dict)

        def duration(self) -> Optional[timedelta]:
            if self.started_at is None or self.closed_at is None:
                return None
            return self.closed_at - self.started_at


    def retry(
        times: int = 3, delay: float = $delay
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorate(func: Callable[..., T]) -> Callable[..., T]:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> T:
                last: Optional[BaseException] = None
                for attempt in range(1, times + 1):
                    try:
                        return func(*args, **kwargs)
                    except ConnectionError as exc:
                        last = exc
                        log.warning("attempt %d of %s failed: %s", attempt, func.__name__, exc)
                        time.sleep(delay * attempt)
                assert last is not None
                raise last
            return wrapper
        return decorate


    def merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
        merged = dict(base)
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = merge_settings(merged[key], value)
            elif value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged


    def format_duration(seconds: float) -> str:
        if seconds < 0:
            raise ValueError("negative duration")
        minutes, secs = divmod(int(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return f"{hours}h{minutes:02d}m"
        if minutes:
            return f"{minutes}m{secs:02d}s"
        return f"{secs}s"


    class BoundedCache:
        """Tiny LRU used by the report builders."""

        def __init__(self, size: int = $cache_size) -> None:
            self.size = size
            self._data: dict[str, Any] = {}

        def get(self, key: str) -> Any:
            value = self._data.pop(key, None)
            if value is not None:
                self._data[key] = value
            return value

        def put(self, key: str, value: Any) -> None:
            self._data.pop(key, None)
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.pop(next(iter(self._data)))
    ''')


# --------------------------------------------------------------------------- service blocks


@dataclasses.dataclass(frozen=True)
class Block:
    name: str
    template: str
    imports: frozenset
    needs: Callable[[Model], bool] = lambda m: True
    dead: bool = False


def block(
    name: str,
    template: str,
    imports: str,
    needs: Callable[[Model], bool] = lambda m: True,
    dead: bool = False,
) -> Block:
    return Block(name, dedent(template), frozenset(imports.split()), needs, dead)


DEAD_BLOCKS = (
    # SEMANTICS.md 2 and 3: a parameter annotated with the model is a stored row.
    block(
        "describe",
        '''
        def describe_$s($v: $M) -> str:
            """Human readable state of a $s."""
            if $v.$dt_req is None:  #!DBC101:param-is-none
                return "$s not started"
            return f"$s since {$v.$dt_req:%Y-%m-%d}"
        ''',
        "",
        dead=True,
    ),
    block(
        "age",
        """
        def $s_age_seconds(session: Session, $s_id: int) -> float:
            $v = session.get($M, $s_id)
            if $v is None:  #!ok:get-result-is-none
                raise LookupError(f"no $s {$s_id}")
            if $v.$dt_req is not None:  #!DBC101:get-is-not-none
                return (utcnow() - $v.$dt_req).total_seconds()
            return 0.0
        """,
        "Session utcnow",
        dead=True,
    ),
    block(
        "require",
        """
        def require_$s_$str_req($v: $M) -> str:
            if $v.$str_req == None:  #!DBC101:string-eq-none
                raise ValueError("$s has no $str_req")
            return $v.$str_req.strip()
        """,
        "",
        dead=True,
    ),
    block(
        "bump",
        """
        def bump_$s_$int_req(session: Session, $s_id: int) -> int:
            $v = session.scalars(select($M).where($M.id == $s_id)).one()
            if $v.$int_req is None:  #!DBC101:integer-is-none-select-one
                $v.$int_req = 0
            $v.$int_req += 1
            session.commit()
            return $v.$int_req
        """,
        "Session select",
        dead=True,
    ),
    block(
        "created",
        """
        def $s_created_label($v: $M) -> str:
            if $v.created_at is None:  #!DBC101:mixin-is-none
                return "unknown"
            return $v.created_at.isoformat(timespec="minutes")
        """,
        "",
        needs=lambda m: m.mixin,
        dead=True,
    ),
    block(
        "format",
        """
        def format_$s_$dt_req($v: $M) -> str:
            if $v.$dt_req:  #!DBC100:if-else
                return $v.$dt_req.strftime("%d %b %Y")
            else:
                return "-"
        """,
        "",
        dead=True,
    ),
    block(
        "or_now",
        """
        def $s_$dt_req_or_now(session: Session, $s_id: int) -> datetime:
            $v = session.get($M, $s_id)
            if $v is None:
                return utcnow()
            when = $v.$dt_req or utcnow()  #!DBC100:or-default
            return when
        """,
        "Session utcnow datetime",
        dead=True,
    ),
    block(
        "state",
        """
        def $s_state($v: $M) -> str:
            state = "scheduled" if $v.$dt_req else "draft"  #!DBC100:ternary
            if $v.$dt_opt is not None:  #!ok:nullable-is-not-none
                state = "done"
            return state
        """,
        "",
        dead=True,
    ),
    block(
        "not_started",
        """
        def ensure_$s_started($v: $M) -> None:
            if not $v.$dt_req:  #!DBC100:not
                raise ValueError("$s was never started")
            log.debug("%s started at %s", $v.id, $v.$dt_req)
        """,
        "log",
        dead=True,
    ),
    block(
        "set_key",
        """
        def set_$s_$json(session: Session, $s_id: int, key: str, value: Any) -> None:
            $v = session.get($M, $s_id)
            if $v is None:
                raise LookupError($s_id)
            $v.$json[key] = value  #!DBC200:setitem
            session.commit()
        """,
        "Session Any",
        dead=True,
    ),
    block(
        "merge",
        """
        def merge_$s_$json(session: Session, $s_id: int, changes: dict[str, Any]) -> bool:
            $v = session.get($M, $s_id)
            if $v is None:
                return False
            $v.$json.update(changes)  #!DBC200:update
            session.commit()
            return True
        """,
        "Session Any",
        dead=True,
    ),
    block(
        "forget",
        """
        def forget_$s_key(session: Session, $s_id: int, key: str) -> None:
            $v = session.get($M, $s_id)
            if $v is None or key not in $v.$json:
                return
            del $v.$json[key]  #!DBC200:delitem
            session.commit()
        """,
        "Session",
        dead=True,
    ),
)

SILENT_BLOCKS = (
    block(
        "is_open",
        """
        def $s_is_open($v: $M) -> bool:
            if $v.$dt_opt is None:  #!ok:nullable-is-none
                return True
            return $v.$dt_opt > utcnow()
        """,
        "utcnow",
    ),
    block(
        "closed_label",
        """
        def $s_closed_label($v: $M) -> str:
            if $v.$dt_opt:  #!ok:nullable-truthiness
                return $v.$dt_opt.strftime("%Y-%m-%d")
            else:
                return "open"
        """,
        "",
    ),
    block(
        "count_label",
        """
        def $s_$int_req_label($v: $M) -> str:
            if $v.$int_req:  #!ok:integer-truthiness
                return f"{$v.$int_req} x"
            else:
                return "none"
        """,
        "",
    ),
    block(
        "display",
        """
        def $s_display_name($v: $M) -> str:
            label = $v.$str_req or "unnamed"  #!ok:string-or-default
            if $v.$str_opt:  #!ok:nullable-string-truthiness
                label = f"{label} ({$v.$str_opt})"
            return label
        """,
        "",
    ),
    block(
        "json_view",
        """
        def $s_$json_view($v: $M) -> dict[str, Any]:
            if $v.$json is None:  #!ok:json-is-none
                return {}
            if not $v.$json:  #!ok:json-truthiness
                return {"empty": True}
            return dict($v.$json)
        """,
        "Any",
    ),
    block(
        "create",
        """
        def create_$s(session: Session, $str_req: str) -> $M:
            $v = $M($str_req=$str_req, $json={}, $json_mut={})
            if $v.$dt_req is None:  #!ok:transient-is-none
                $v.$dt_req = utcnow()
            $v.$json["source"] = "api"  #!ok:transient-json-setitem
            session.add($v)
            session.flush()
            if $v.id is None:  #!ok:primary-key-is-none
                raise RuntimeError("flush assigned no id")
            return $v
        """,
        "Session utcnow",
    ),
    block(
        "stale",
        """
        def $s_is_stale(record, now: datetime) -> bool:
            if record.$dt_req is None:  #!ok:unannotated-receiver
                return True
            return now - record.$dt_req > timedelta(days=30)
        """,
        "datetime timedelta",
    ),
    block(
        "any_receiver",
        """
        def $s_summary(obj: Any) -> str:
            when = obj.$dt_req or "never"  #!ok:any-receiver
            return f"{obj!r} at {when}"
        """,
        "Any",
    ),
    block(
        "open_list",
        """
        def list_open_$s(session: Session, limit: int = 50) -> list[$M]:
            stmt = (
                select($M)
                .where($M.$dt_opt.is_(None))  #!ok:class-level-is
                .where($M.$dt_req.isnot(None))  #!ok:class-level-isnot
                .order_by($M.$dt_req.desc())
                .limit(limit)
            )
            return list(session.scalars(stmt))
        """,
        "Session select",
    ),
    block(
        "tag",
        """
        def tag_$s(session: Session, $s_id: int, tag: str) -> None:
            $v = session.get($M, $s_id)
            if $v is None:
                raise LookupError($s_id)
            $v.$json_mut[tag] = True  #!ok:mutable-dict-setitem
            session.commit()
        """,
        "Session",
    ),
    block(
        "flagged",
        """
        def record_$s_$json(session: Session, $s_id: int, key: str, value: Any) -> None:
            $v = session.get($M, $s_id)
            if $v is None:
                raise LookupError($s_id)
            $v.$json[key] = value  #!ok:flag-modified-after
            flag_modified($v, "$json")
            session.commit()
        """,
        "Session Any flag_modified",
    ),
    block(
        "rebuild",
        """
        def annotate_$s(session: Session, $s_id: int, key: str, value: Any) -> None:
            $v = session.get($M, $s_id)
            if $v is None:
                raise LookupError($s_id)
            $v.$json = {**$v.$json, key: value}  #!ok:new-value
            session.commit()
        """,
        "Session Any",
    ),
    block(
        "scalar",
        """
        def $s_$dt_req_of(session: Session, $s_id: int) -> Optional[datetime]:
            value = session.scalar(select($M.$dt_req).where($M.id == $s_id))
            if value is None:  #!ok:scalar-query-result
                log.info("no $s %s", $s_id)
            return value
        """,
        "Session select Optional datetime log",
    ),
    block(
        "last_operand",
        """
        def $s_since($v: $M, include: bool) -> Optional[datetime]:
            if include and $v.$dt_req:  #!ok:and-not-dead
                log.debug("including %s", $v.id)
            else:
                log.debug("skipping %s", $v.id)
            return include and $v.$dt_req  #!ok:value-context-last-operand
        """,
        "Optional datetime log",
    ),
    block(
        "window",
        """
        def $s_window_label(window: Window) -> str:
            if window.started_at is None:  #!ok:dataclass-lookalike
                return "unbounded"
            window.payload["seen"] = True  #!ok:dataclass-dict-setitem
            return window.started_at.isoformat()
        """,
        "Window",
    ),
)

UTILITY_BLOCKS = (
    block(
        "page",
        """
        def paginate(items: list[Any], page: int, per_page: int = 25) -> dict[str, Any]:
            if page < 1:
                raise ValueError("page starts at 1")
            start = (page - 1) * per_page
            chunk = items[start:start + per_page]
            return {
                "items": chunk,
                "page": page,
                "pages": max((len(items) + per_page - 1) // per_page, 1),
                "has_next": start + per_page < len(items),
            }
        """,
        "Any",
    ),
    block(
        "headers",
        """
        def parse_headers(raw: str) -> dict[str, str]:
            headers: dict[str, str] = {}
            for line in raw.splitlines():
                if not line.strip() or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in headers:
                    headers[key] = f"{headers[key]}, {value.strip()}"
                else:
                    headers[key] = value.strip()
            return headers
        """,
        "",
    ),
    block(
        "buckets",
        """
        def bucket_by_day(stamps: list[datetime]) -> dict[str, int]:
            counts: dict[str, int] = {}
            for stamp in sorted(stamps):
                day = stamp.strftime("%Y-%m-%d")
                counts[day] = counts.get(day, 0) + 1
            return counts
        """,
        "datetime",
    ),
    block(
        "env",
        """
        def read_limits(env: dict[str, str]) -> tuple[int, float]:
            try:
                batch = int(env.get("BATCH_SIZE", "100"))
            except ValueError:
                log.warning("bad BATCH_SIZE %r, using 100", env.get("BATCH_SIZE"))
                batch = 100
            timeout = float(env.get("TIMEOUT", "2.5") or 2.5)
            return max(batch, 1), timeout
        """,
        "log",
    ),
)


def render_service(
    package: str, module: str, own: list[Model], other: list[Model] | None, rng: random.Random
) -> str:
    """One service module: 1-3 dead blocks, 4-7 silent blocks, 1-2 utilities, shuffled."""
    chosen: list[tuple[Block, Model | None]] = []

    def pick_model(b: Block) -> Model:
        pool = [m for m in own if b.needs(m)]
        if other and rng.random() < 0.2:
            pool = [m for m in other if b.needs(m)] or pool
        return rng.choice(pool)

    for b in rng.sample(DEAD_BLOCKS, rng.randint(1, 3)):
        chosen.append((b, pick_model(b)))
    for b in rng.sample(SILENT_BLOCKS, rng.randint(4, 7)):
        chosen.append((b, pick_model(b)))
    for b in rng.sample(UTILITY_BLOCKS, rng.randint(1, 2)):
        chosen.append((b, None))
    rng.shuffle(chosen)

    imports: set[str] = set()
    used_models: dict[str, set[str]] = collections.defaultdict(set)
    bodies = []
    seen_functions: set[str] = set()
    for b, model in chosen:
        mapping = {}
        if model is not None:
            mapping = dict(model.cols)
            mapping.update(M=model.name, v=model.var, s=model.var)
        text = substitute(b.template, mapping)
        name = re.match(r"def (\w+)", text)[1]
        if name in seen_functions:  # same block on the same model twice: keep one
            continue
        seen_functions.add(name)
        if model is not None and "$M" in b.template:
            used_models[model.package].add(model.name)
        imports |= b.imports
        bodies.append(text)

    head = [f'"""{module.capitalize()} of {package}."""', "from __future__ import annotations", ""]
    stdlib = ["import logging"]
    dt_names = sorted(n for n in ("datetime", "timedelta") if n in imports)
    if dt_names:
        stdlib.append(f"from datetime import {', '.join(dt_names)}")
    typing_names = sorted(n for n in ("Any", "Optional") if n in imports)
    if typing_names:
        stdlib.append(f"from typing import {', '.join(typing_names)}")
    head += stdlib + [""]
    third = []
    if "select" in imports:
        third.append("from sqlalchemy import select")
    if "Session" in imports:
        third.append("from sqlalchemy.orm import Session")
    if "flag_modified" in imports:
        third.append("from sqlalchemy.orm.attributes import flag_modified")
    if third:
        head += third + [""]
    local = []
    if "utcnow" in imports:
        local.append("from common.db import utcnow")
    for pkg in sorted(used_models):
        local.append(f"from {pkg}.models import {', '.join(sorted(used_models[pkg]))}")
    if "Window" in imports:
        local.append(f"from {package}.utils import Window")
    head += local + ["", "log = logging.getLogger(__name__)"]
    return "\n".join(head) + "\n\n\n" + "\n\n".join(bodies)


# --------------------------------------------------------------------------- driver


def generate(
    out: str | os.PathLike[str], packages: int = 100, seed: str = DEFAULT_SEED
) -> Manifest:
    """Write the tree into ``out`` (emptied first) and return its manifest."""
    root = pathlib.Path(out).expanduser().resolve()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    manifest = Manifest(root=root, packages=packages, seed=seed)
    writer = Writer(root, manifest)
    writer.write("common/__init__.py", COMMON_INIT)
    writer.write("common/db.py", COMMON_DB)
    writer.write("common/text.py", COMMON_TEXT)

    previous: list[Model] | None = None
    for index in range(packages):
        package = f"pkg{index:03d}"
        rng = random.Random(f"{seed}:{package}")
        models = make_models(package, index, rng)
        manifest.models += len(models)
        writer.write(
            f"{package}/__init__.py",
            f'"""{package}: the {DOMAINS[index % len(DOMAINS)][0]} package."""\n',
        )
        writer.write(f"{package}/models.py", render_models(package, index, models))
        writer.write(
            f"{package}/utils.py",
            substitute(
                UTILS,
                dict(
                    package=package,
                    delay=f"{0.1 + (index % 7) / 10:.1f}",
                    cache_size=64 + index % 5 * 32,
                ),
            ),
        )
        for module in SERVICE_MODULES:
            writer.write(
                f"{package}/{module}.py", render_service(package, module, models, previous, rng)
            )
        previous = models
    (root / "expected.json").write_text(
        json.dumps(manifest.to_json(), indent=1) + "\n", encoding="utf-8"
    )
    return manifest


def precommit_files(manifest: Manifest, count: int = 3) -> list[str]:
    """A pre-commit-sized change: ``count`` service files of the last package, preferring
    files that between them expect every code."""
    last = f"pkg{manifest.packages - 1:03d}/"
    by_path: dict[str, set[str]] = collections.defaultdict(set)
    for e in manifest.expected:
        if e.path.startswith(last):
            by_path[e.path].add(e.code)
    candidates = sorted(by_path, key=lambda p: (-len(by_path[p]), p))
    chosen: list[str] = []
    covered: set[str] = set()
    for path in candidates:  # first the files that add a code not yet covered
        if len(chosen) < count and by_path[path] - covered:
            chosen.append(path)
            covered |= by_path[path]
    for path in candidates + [f"{last}{module}.py" for module in SERVICE_MODULES]:
        if len(chosen) < count and path not in chosen:
            chosen.append(path)
    return sorted(chosen)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--packages", type=int, default=100, help="number of packages (default: 100)"
    )
    parser.add_argument("--out", required=True, help="directory to write (emptied first)")
    parser.add_argument(
        "--seed", default=DEFAULT_SEED, help=f"generator seed (default: {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)
    if args.packages < 1:
        parser.error("--packages must be at least 1")
    manifest = generate(args.out, args.packages, args.seed)
    counts = manifest.counts()
    print(
        f"wrote {manifest.root}: {args.packages} packages, {manifest.modules} modules, "
        f"{manifest.lines} lines, {manifest.models} models"
    )
    print(
        "expected findings: "
        + ", ".join(f"{code} {n}" for code, n in counts.items())
        + f" (total {sum(counts.values())})"
    )
    by_category = collections.Counter(f"{e.code} {e.category}" for e in manifest.expected)
    for key, n in sorted(by_category.items()):
        print(f"  {key:<40} {n:>5}")
    print(
        f"silent look-alikes: {len(manifest.silent)}"
        " (listed with the expectations in expected.json)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
