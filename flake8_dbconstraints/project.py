"""The per-process model index of one project, shared by every file flake8 checks.

flake8 builds a new checker per file and shares files among worker processes in no
fixed order, so what one file learns about models is kept here, per process, keyed
by the project roots and settings. Answers depend only on what is on disk and on the
settings, never on which files a worker saw first.
"""
from __future__ import annotations

import functools
import os

from typing import TYPE_CHECKING, Optional

from flake8_dbconstraints.cache import ResultCache
from flake8_dbconstraints.loader import ProjectLoader, find_package_root
from flake8_dbconstraints.settings import Settings

if TYPE_CHECKING:  # imported where the index is built
    from flake8_dbconstraints.registry import ModelRegistry


@functools.lru_cache(maxsize=16)
def loader_for(roots: tuple[str, ...]) -> ProjectLoader:
    """The module loader of these roots; the cache checks its entries with it."""
    return ProjectLoader(roots)


@functools.lru_cache(maxsize=16)
def registry_for(roots: tuple[str, ...], settings: Settings) -> ModelRegistry:
    # Imported here: a warm run answers every file from the cache without them
    # (0.1 s of imports per flake8 worker).
    from flake8_dbconstraints.column_types import TypeClassifier
    from flake8_dbconstraints.names import NameResolver
    from flake8_dbconstraints.registry import ModelRegistry

    resolver = NameResolver(loader_for(roots))
    classifier = TypeClassifier(resolver, settings.truthy_types, settings.json_types)
    return ModelRegistry(resolver, classifier)


@functools.lru_cache(maxsize=16)
def cache_for(settings: Settings) -> Optional[ResultCache]:
    """The result cache of this process, or None when switched off."""
    if settings.cache_dir is None:
        return None
    return ResultCache(settings.cache_dir, settings)


def roots_for(filename: str, settings: Settings) -> tuple[str, ...]:
    """Where the checked file's imports are looked up: its package root, the current
    directory, then ``--dbc-model-paths``."""
    roots = []
    if filename not in ("stdin", "-", ""):
        roots.append(find_package_root(filename))
    roots.append(os.getcwd())
    roots.extend(settings.model_paths)
    return tuple(dict.fromkeys(os.path.abspath(root) for root in roots))


def clear_caches() -> None:
    """Forget everything learned in this process (tests; a changed project)."""
    import importlib

    import astroid

    from flake8_dbconstraints import cache, column_types, loader, names
    from flake8_dbconstraints.rules import json_column_mutated_in_place

    cache.flush_pending()  # what this process computed, as a process ending would write it
    astroid.MANAGER.clear_cache()  # also its module-location caches
    importlib.invalidate_caches()
    registry_for.cache_clear()
    loader_for.cache_clear()
    cache_for.cache_clear()
    loader._load_file_cached.cache_clear()
    loader.forget_loaded_modules()
    loader._package_root_of.cache_clear()
    loader.module_name_for_file.cache_clear()
    names._imported.clear()
    column_types._classify_by_python_type.cache_clear()
    column_types._ASSIGNMENTS_CACHE.clear()
    json_column_mutated_in_place._EVENTS_CACHE.clear()
