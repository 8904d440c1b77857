"""Every rule has a doc page with the house sections; its Example triggers the rule with
the exact message shown, and its How-to-fix block does not (pylint's tested docs)."""
import os
import re
import sqlite3

import pytest

from flake8_dbconstraints import codes
from tests.project_builder import run_flake8

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTIONS = [
    "## What it does", "## Why it matters", "## Example", "## How to fix", "## When it stays silent", "## Options",
]
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def page(code):
    with open(os.path.join(ROOT, "docs", "rules", f"{code}.md"), encoding="utf-8") as handle:
        return handle.read()


def section(text, title):
    start = text.index(title)
    following = [text.index(other) for other in SECTIONS if text.find(other) > start]
    return text[start:min(following) if following else len(text)]


def lint(tmp_path, source, sql=None):
    """flake8 on the block; with the page's SQL, against a SQLite database built from it."""
    (tmp_path / "example.py").write_text(source, encoding="utf-8")
    options = []
    if sql:
        connection = sqlite3.connect(str(tmp_path / "db.sqlite"))
        connection.executescript(sql)
        connection.close()
        options.append("--dbc-database-url=sqlite:///db.sqlite")
    result = run_flake8(tmp_path, "--isolated", "--select=DBC", "--dbc-no-cache", *options, "example.py")
    return result.stdout.splitlines()


def sql_of(text):
    return "".join(body for language, body in BLOCK.findall(section(text, "## Example")) if language == "sql")


@pytest.mark.parametrize("code", [code.code for code in codes.ALL_CODES])
def test_rule_page_has_the_sections_in_order(code):
    text = page(code)
    assert text.startswith(f"# `{codes.BY_CODE[code].name}` ({code})")
    positions = [text.index(title) for title in SECTIONS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("code", [code.code for code in codes.ALL_CODES])
def test_example_triggers_the_rule_with_the_message_shown(code, tmp_path):
    example = section(page(code), "## Example")
    blocks = BLOCK.findall(example)
    source = next(body for language, body in blocks if language == "python")
    shown = [line for language, body in blocks if language == "text" for line in body.splitlines() if line]
    output = lint(tmp_path, source, sql_of(page(code)))
    assert any(f" {code} " in line for line in output)
    assert shown and set(shown) <= set(output)


@pytest.mark.parametrize("code", [code.code for code in codes.ALL_CODES])
def test_how_to_fix_does_not_trigger_it(code, tmp_path):
    fix = section(page(code), "## How to fix")
    source = next(body for language, body in BLOCK.findall(fix) if language == "python")
    findings = lint(tmp_path, source, sql_of(page(code)))
    assert [line for line in findings if f" {code} " in line] == []
