"""Reads fixture files with inline expectation markers and runs the checker on them.

Markers (the bugbear/pylint hybrid described in docs/contributing.md):

* ``# expect: DBC100`` marks the line; ``# expect: DBC100:8`` also pins the 0-based column;
* ``# expect+1: DBC200`` points at the next line;
* a ``# options: dbc_truthy_types=a.B, dbc_json_types=c.D`` header sets options.

Every unmarked line must stay silent.
"""
from __future__ import annotations

import ast
import dataclasses
import os
import re
from typing import Optional

from flake8_dbconstraints.plugin import DBConstraintsChecker
from flake8_dbconstraints.settings import build_settings

MARKER = re.compile(r"#.*?\bexpect(?P<offset>[+-]\d+)?:\s*(?P<codes>DBC\d{3}(?::\d+)?(?:\s*,\s*DBC\d{3}(?::\d+)?)*)")
OPTIONS = re.compile(r"^#\s*options:\s*(?P<options>.*)$")


@dataclasses.dataclass(frozen=True)
class Expected:
    line: int
    code: str
    col: Optional[int]


def read_expectations(source: str) -> list[Expected]:
    expected = []
    for number, text in enumerate(source.splitlines(), start=1):
        match = MARKER.search(text)
        if not match:
            continue
        line = number + int(match.group("offset") or 0)
        for item in match.group("codes").split(","):
            code, _, col = item.strip().partition(":")
            expected.append(Expected(line, code, int(col) if col else None))
    return expected


def read_options(source: str) -> dict:
    options: dict = {}
    for text in source.splitlines()[:5]:
        match = OPTIONS.match(text.strip())
        if match:
            for item in match.group("options").split(";"):
                key, _, value = item.partition("=")
                options[key.strip()] = [v.strip() for v in value.split(",") if v.strip()]
    return options


def run_checker(path: str, source: Optional[str] = None) -> list[tuple[int, int, str]]:
    if source is None:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    options = read_options(source)
    settings = build_settings(
        model_paths=options.get("dbc_model_paths", ()),
        truthy_types=options.get("dbc_truthy_types", ()),
        json_types=options.get("dbc_json_types", ()),
        no_cache=True,
    )
    checker = DBConstraintsChecker(ast.parse(source), path, source.splitlines(keepends=True))
    checker.settings = settings
    return [(line, col, message) for line, col, message, _ in checker.run()]


def compare(path: str) -> tuple[list, list]:
    """(missing expectations, unexpected findings) for one fixture file."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    expected = read_expectations(source)
    found = run_checker(os.path.relpath(path), source)
    missing = []
    remaining = list(found)
    for item in expected:
        match = next(
            (
                f for f in remaining
                if f[0] == item.line and f[2].startswith(item.code + " ")
                and (item.col is None or f[1] == item.col)
            ),
            None,
        )
        if match is None:
            missing.append(item)
        else:
            remaining.remove(match)
    return missing, remaining
