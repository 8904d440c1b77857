"""Settings built once from flake8's options; the defaults work without flake8."""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Iterable, Optional

DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
DEFAULT_CACHE_DIR = ".dbc_cache"
DATABASE_URL_VARIABLE = "DBC_DATABASE_URL"


class SettingsError(ValueError):
    """A bad option value; the message names the option."""


@dataclasses.dataclass(frozen=True)
class Settings:
    model_paths: tuple[str, ...] = ()
    truthy_types: tuple[str, ...] = ()
    json_types: tuple[str, ...] = ()
    cache_dir: Optional[str] = DEFAULT_CACHE_DIR  # None: no disk cache
    database_url: Optional[str] = None  # opt-in: check models against a live database


def build_settings(
    model_paths: Iterable[str] = (),
    truthy_types: Iterable[str] = (),
    json_types: Iterable[str] = (),
    cache_dir: Optional[str] = DEFAULT_CACHE_DIR,
    no_cache: bool = False,
    database_url: Optional[str] = None,
) -> Settings:
    """Validate option values; raise SettingsError naming the option on a bad one."""
    paths = tuple(os.path.abspath(path) for path in _clean(model_paths))
    for path in paths:
        if not os.path.isdir(path):
            raise SettingsError(f"--dbc-model-paths: {path!r} is not a directory")
    truthy = _dotted(truthy_types, "--dbc-truthy-types")
    json = _dotted(json_types, "--dbc-json-types")
    overlap = set(truthy) & set(json)
    if overlap:
        raise SettingsError(
            f"--dbc-truthy-types and --dbc-json-types both name {', '.join(sorted(overlap))}"
        )
    if no_cache or not cache_dir:
        cache = None
    else:
        cache = os.path.abspath(cache_dir)
        if os.path.exists(cache) and not os.path.isdir(cache):
            raise SettingsError(f"--dbc-cache-dir: {cache!r} exists and is not a directory")
    url = (database_url or os.environ.get(DATABASE_URL_VARIABLE) or "").strip() or None
    if url is not None and "://" not in url:
        raise SettingsError("--dbc-database-url: expected a SQLAlchemy URL such as postgresql://user@host/db")
    if url is not None:
        cache = None  # findings then depend on the database, which the cache cannot see change
    return Settings(model_paths=paths, truthy_types=truthy, json_types=json, cache_dir=cache, database_url=url)


def _clean(values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        values = values.split(",")
    return [value.strip() for value in values if value and value.strip()]


def _dotted(values: Iterable[str], option: str) -> tuple[str, ...]:
    names = _clean(values)
    for name in names:
        if not DOTTED_NAME.match(name):
            raise SettingsError(
                f"{option}: {name!r} is not a dotted name such as 'sqlalchemy_utils.ArrowType'"
            )
    return tuple(names)
