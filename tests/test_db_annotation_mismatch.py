"""DBC300 is proved on the real mapped classes: every reported column's nullability, as
SQLAlchemy computes it, disagrees with its annotation; every silent one agrees (or has
no annotation or no explicit nullable=)."""
import typing

import pytest

from tests.fixture_runner import run_checker

sqlalchemy = pytest.importorskip("sqlalchemy", minversion="2.0")
models = pytest.importorskip("tests.fixtures.models.annotation_mismatch")
FIXTURE = "tests/fixtures/dbc3xx/annotation_mismatch.py"


def annotation_allows_none(model, key) -> bool:
    hints = typing.get_type_hints(model, include_extras=False)
    hint = hints[key]
    if typing.get_origin(hint) is sqlalchemy.orm.Mapped:
        hint = typing.get_args(hint)[0]
    return type(None) in typing.get_args(hint)


def reported_keys(in_repo_root):
    findings = run_checker(FIXTURE)
    return {message.split(" ")[1].split(".")[1] for _, _, message in findings}


@pytest.mark.parametrize("model", [models.Visit, models.Reading])
def test_reported_columns_really_disagree(model, in_repo_root):
    columns = sqlalchemy.inspect(model).columns
    reported = reported_keys(in_repo_root)
    for key in ("started_at", "ended_at", "taken_at", "checked_at", "step_config"):
        if key in columns:
            assert key in reported
            assert columns[key].nullable != annotation_allows_none(model, key)


def test_silent_columns_agree_or_are_not_annotated(in_repo_root):
    reported = reported_keys(in_repo_root)
    columns = sqlalchemy.inspect(models.Visit).columns
    for key in ("note", "code", "plain"):
        assert key not in reported
        assert columns[key].nullable == annotation_allows_none(models.Visit, key)
    assert "legacy" not in reported
    assert sqlalchemy.inspect(models.Reading).columns["value"].nullable is True
    reading = sqlalchemy.inspect(models.Reading).columns
    assert "step_note" not in reported  # sa_column=Column(..., nullable=True) on Optional[str]
    # sa_column=Column(..., nullable=False) on Optional[str]: they disagree, but the
    # annotation is the Python object's, and a new one reads None until its INSERT.
    assert "step_code" not in reported
    assert reading["step_code"].nullable is False and annotation_allows_none(models.Reading, "step_code")
    pending = models.Reading()
    assert pending.step_code is None
    assert reading["step_note"].nullable == annotation_allows_none(models.Reading, "step_note")
    # No literal nullable=: silent by the rule's scope, though Column's default (nullable)
    # differs from the str annotation.
    assert "step_text" not in reported
    assert reading["step_text"].nullable is True


def test_the_plain_schema_is_not_a_table():
    assert not hasattr(models.ReadingSchema, "__table__")
