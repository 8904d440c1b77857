"""The safety net (``safety.guarded``), option validation (``settings``) and the code
table (``codes``)."""
from __future__ import annotations

import logging
import os
import re

import pytest

from flake8_dbconstraints import codes, rules, safety
from flake8_dbconstraints.rules import none_comparison_on_not_null_column
from flake8_dbconstraints.settings import DEFAULT_CACHE_DIR, Settings, SettingsError, build_settings
from flake8_dbconstraints.project import clear_caches
from tests.test_resolution import CHECKED, LAYOUT, Project, expected

LOGGER = "flake8.dbconstraints"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield Project(str(tmp_path))
    clear_caches()


# -- safety.guarded ------------------------------------------------------------------------
@pytest.mark.parametrize("value, strict", [("1", True), ("0", False), ("true", False), ("", False), (None, False)])
def test_strict_mode_is_switched_on_by_dbc_strict_1_only(monkeypatch, value, strict):
    if value is None:
        monkeypatch.delenv("DBC_STRICT", raising=False)
    else:
        monkeypatch.setenv("DBC_STRICT", value)
    assert safety.is_strict() is strict


def test_guarded_re_raises_in_strict_mode(monkeypatch):
    monkeypatch.setenv("DBC_STRICT", "1")
    with pytest.raises(ValueError, match="odd node"):
        with safety.guarded("the unit"):
            raise ValueError("odd node")


def test_guarded_logs_and_swallows_when_not_strict(monkeypatch, caplog):
    monkeypatch.delenv("DBC_STRICT", raising=False)
    reached = []
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with safety.guarded("class Visit in app/models.py"):
            raise ValueError("odd node")
            reached.append("rest of the block")  # pragma: no cover - never runs
        reached.append("after the block")
    assert reached == ["after the block"]
    (record,) = caplog.records
    assert record.name == LOGGER and record.levelno == logging.INFO
    assert record.getMessage() == (
        "flake8-dbconstraints: could not read class Visit in app/models.py: ValueError('odd node')"
    )


@pytest.mark.parametrize("strict", ["1", ""])
@pytest.mark.parametrize("error", [RecursionError, MemoryError])
def test_guarded_never_re_raises_exhaustion(monkeypatch, caplog, strict, error):
    monkeypatch.setenv("DBC_STRICT", strict)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with safety.guarded("a deeply nested guard"):
            raise error()
    (record,) = caplog.records
    assert record.getMessage() == f"flake8-dbconstraints: gave up on a deeply nested guard: {error.__name__}"


@pytest.mark.parametrize("strict", ["1", ""])
def test_guarded_lets_interrupts_through(monkeypatch, strict):
    monkeypatch.setenv("DBC_STRICT", strict)
    with pytest.raises(KeyboardInterrupt):
        with safety.guarded("the unit"):
            raise KeyboardInterrupt


def test_guarded_block_that_succeeds_logs_nothing(caplog):
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        with safety.guarded("the unit"):
            value = 1
    assert value == 1 and caplog.records == []


GUARDS = """\
from app.models.visits import Visit


def check(visit: Visit):
    if visit.started_at:  # expect: DBC100
        pass
    return visit.started_at is None
"""


def failing_rule(node, scope, checker):
    raise ValueError("rule bug")
    yield  # pragma: no cover - makes this a generator like a real rule


def test_a_failing_rule_costs_its_own_findings_only(project, monkeypatch, caplog):
    monkeypatch.delenv("DBC_STRICT", raising=False)
    monkeypatch.setattr(none_comparison_on_not_null_column, "check", failing_rule)
    project.write({**LAYOUT, CHECKED: GUARDS})
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert project.check() == expected(GUARDS)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["flake8-dbconstraints: could not read DBC101 at line 7: ValueError('rule bug')"]


def test_a_failing_rule_raises_in_strict_mode(project, monkeypatch):
    monkeypatch.setattr(none_comparison_on_not_null_column, "check", failing_rule)
    project.write({**LAYOUT, CHECKED: GUARDS})
    with pytest.raises(ValueError, match="rule bug"):
        project.check()


# -- settings ---------------------------------------------------------------------------------
def test_default_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DBC_DATABASE_URL", raising=False)
    assert Settings().cache_dir == DEFAULT_CACHE_DIR  # relative until built from options
    assert build_settings() == Settings(cache_dir=os.path.join(str(tmp_path), DEFAULT_CACHE_DIR))


@pytest.mark.parametrize(
    "values, names",
    [
        ("arrow.ArrowType", ("arrow.ArrowType",)),
        ("arrow.ArrowType, app.types.Stamp", ("arrow.ArrowType", "app.types.Stamp")),
        (" arrow.ArrowType ,, ", ("arrow.ArrowType",)),
        (["arrow.ArrowType", " ", "", "app.types.Stamp "], ("arrow.ArrowType", "app.types.Stamp")),
        ("", ()),
    ],
)
def test_type_lists_accept_comma_separated_strings_and_lists(values, names):
    assert build_settings(truthy_types=values, no_cache=True).truthy_types == names
    assert build_settings(json_types=values, no_cache=True).json_types == names


def test_model_paths_are_made_absolute(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    (tmp_path / "shared").mkdir()
    monkeypatch.chdir(tmp_path)
    settings = build_settings(model_paths="models, shared", no_cache=True)
    assert settings.model_paths == (str(tmp_path / "models"), str(tmp_path / "shared"))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"model_paths": ["missing"]}, "--dbc-model-paths: '{tmp}/missing' is not a directory"),
        ({"model_paths": ["a_file"]}, "--dbc-model-paths: '{tmp}/a_file' is not a directory"),
        ({"truthy_types": ["ArrowType"]}, "--dbc-truthy-types: 'ArrowType' is not a dotted name"),
        ({"json_types": ["app..JSONish"]}, "--dbc-json-types: 'app..JSONish' is not a dotted name"),
        ({"json_types": ["1app.Type"]}, "--dbc-json-types: '1app.Type' is not a dotted name"),
        ({"truthy_types": "a.B, c.D", "json_types": "c.D,a.B"},
         "--dbc-truthy-types and --dbc-json-types both name a.B, c.D"),
        ({"cache_dir": "a_file"}, "--dbc-cache-dir: '{tmp}/a_file' exists and is not a directory"),
        ({"database_url": "db.sqlite"}, "--dbc-database-url: expected a SQLAlchemy URL"),
    ],
)
def test_bad_option_values_are_rejected_naming_the_option(tmp_path, monkeypatch, options, message):
    (tmp_path / "a_file").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=re.escape(message.format(tmp=tmp_path))):
        build_settings(**options)


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


@pytest.mark.parametrize(
    "options, cache_dir",
    [
        ({}, "{tmp}/.dbc_cache"),
        ({"cache_dir": "cache"}, "{tmp}/cache"),
        ({"cache_dir": "existing"}, "{tmp}/existing"),
        ({"cache_dir": ""}, None),
        ({"cache_dir": None}, None),
        ({"no_cache": True}, None),
        ({"no_cache": True, "cache_dir": "a_file"}, None),
        ({"database_url": "sqlite:///db.sqlite"}, None),
    ],
)
def test_cache_directory(tmp_path, monkeypatch, options, cache_dir):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "existing").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DBC_DATABASE_URL", raising=False)
    expected_dir = cache_dir.format(tmp=tmp_path) if cache_dir else None
    assert build_settings(**options).cache_dir == expected_dir


@pytest.mark.parametrize(
    "option, environment, url",
    [
        (None, None, None),
        ("  ", None, None),
        ("sqlite:///a.db", None, "sqlite:///a.db"),
        (None, " postgresql://u@h/db ", "postgresql://u@h/db"),
        ("sqlite:///a.db", "postgresql://u@h/db", "sqlite:///a.db"),
    ],
)
def test_database_url_from_the_option_or_the_environment(monkeypatch, option, environment, url):
    if environment is None:
        monkeypatch.delenv("DBC_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DBC_DATABASE_URL", environment)
    assert build_settings(database_url=option, no_cache=True).database_url == url


def test_settings_are_frozen_and_hashable():
    settings = build_settings(truthy_types="a.B", no_cache=True)
    with pytest.raises(AttributeError):
        settings.truthy_types = ()
    assert {settings: 1}[build_settings(truthy_types=["a.B"], no_cache=True)] == 1


# -- the code table -----------------------------------------------------------------------------
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("code", codes.ALL_CODES, ids=[code.code for code in codes.ALL_CODES])
def test_every_code_has_a_doc_page_and_a_valid_shape(code):
    assert re.fullmatch(r"DBC\d{3}", code.code)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+", code.name)
    assert code.status in ("stable", "preview", "deprecated", "removed")
    assert code.doc_page == f"docs/rules/{code.code}.md"
    assert os.path.isfile(os.path.join(ROOT, code.doc_page))
    assert codes.BY_CODE[code.code] is code


def test_codes_are_unique_and_in_order():
    numbers = [code.code for code in codes.ALL_CODES]
    assert numbers == sorted(set(numbers))
    assert len({code.name for code in codes.ALL_CODES}) == len(numbers)


def test_message_starts_with_the_code():
    message = codes.NONE_COMPARISON_ON_NOT_NULL_COLUMN.format(
        expr="v.a is None", value="False", model="V", attr="a", type="Date", declared_at="m.py:3",
        also="", also_object="",
    )
    assert message.startswith("DBC101 'v.a is None' is always False: V.a is NOT NULL (Date, declared at m.py:3)")


def test_every_rule_module_names_its_code_in_code_order():
    for rule in rules.ALL_RULES:
        assert rule.CODE in codes.ALL_CODES and rule.NAME == rule.CODE.name
    numbers = [rule.CODE.code for rule in rules.ALL_RULES]
    assert numbers == sorted(numbers)
