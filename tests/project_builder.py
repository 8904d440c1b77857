"""Small on-disk projects for integration tests, and a way to run real flake8 on them."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

MODELS = '''\
import datetime
from typing import Optional

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Visit(Base):
    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    note: Mapped[Optional[str]] = mapped_column(String(200))
    extra: Mapped[dict] = mapped_column(JSON)
'''

SERVICE = '''\
from app.models import Visit


def describe(visit: Visit) -> str:
    if visit.started_at:
        return "started"
    return "never"


def missing(visit: Visit) -> bool:
    return visit.started_at is None


def tag(visit: Visit) -> None:
    visit.extra["k"] = 1
'''


def write_project(root, files: dict) -> str:
    for relative, content in files.items():
        path = os.path.join(str(root), relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(textwrap.dedent(content))
    return str(root)


def default_project(root) -> str:
    return write_project(root, {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/services.py": SERVICE,
    })


def run_flake8(cwd, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("DBC_STRICT", None)  # real runs use the safety net
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        cwd=str(cwd),
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
