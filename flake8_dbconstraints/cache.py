"""The on-disk cache: each checked file's findings and the model modules they rest on.

An entry is served only when the checked file's text is the same, every model
module consulted for it is unchanged (same ``st_mtime_ns`` and size), every module
name that was looked up still resolves to the same file (or still to none: a model
module added later is noticed), and the plugin version, SQLAlchemy version,
Python version, settings and current directory are the same.

There is one entry per checked file (named after a hash of its path), so the cache
stays as large as the project. Entries are written to a temporary file and moved
into place with ``os.replace``, so parallel flake8 processes and interrupted runs
never leave a half-written entry; an unreadable or foreign entry is ignored and
rewritten, never trusted. The folder is safe to delete.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile
from typing import Iterable, Optional

from flake8_dbconstraints import __version__
from flake8_dbconstraints.loader import ProjectLoader, file_stamp
from flake8_dbconstraints.safety import LOG
from flake8_dbconstraints.settings import Settings

FORMAT = "flake8-dbconstraints-cache-1"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by flake8-dbconstraints.\n"
)


def installed_sqlalchemy_version() -> str:
    """Read from the installed metadata: importing SQLAlchemy would cost a warm run
    more than checking every file (measured: 0.37 s of 1.0 s on indico)."""
    try:
        return importlib.metadata.version("sqlalchemy")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def settings_salt(settings: Settings) -> str:
    parts = [
        FORMAT,
        __version__,
        installed_sqlalchemy_version(),
        sys.version,
        os.getcwd(),
        repr(settings.model_paths),
        repr(settings.truthy_types),
        repr(settings.json_types),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class ResultCache:
    def __init__(self, directory: str, settings: Settings) -> None:
        self.directory = directory
        self.salt = settings_salt(settings)

    def _entry_path(self, filename: str) -> str:
        digest = hashlib.sha256(f"{self.salt}\0{os.path.abspath(filename)}".encode()).hexdigest()
        return os.path.join(self.directory, "v1", digest[:2], digest + ".json")

    @staticmethod
    def source_digest(source: str) -> str:
        return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

    def load(self, filename: str, source: str, loader: ProjectLoader) -> Optional[list]:
        """The cached findings, or None when absent, stale, unreadable or foreign."""
        path = self._entry_path(filename)
        try:
            with open(path, encoding="utf-8") as handle:
                entry = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            LOG.info("flake8-dbconstraints: ignored unreadable cache entry %s: %s", path, exc)
            return None
        try:
            if entry["format"] != FORMAT or entry["salt"] != self.salt:
                return None
            if entry["source"] != self.source_digest(source):
                return None
            for modname, module_path, stamp in entry["deps"]:
                if loader.find_file(modname) != module_path:
                    return None
                if module_path is not None and list(file_stamp(module_path)) != stamp:
                    return None
            return [(int(line), int(col), str(message)) for line, col, message in entry["findings"]]
        except (KeyError, TypeError, ValueError, OSError) as exc:
            LOG.info("flake8-dbconstraints: ignored foreign cache entry %s: %r", path, exc)
            return None

    def store(self, filename: str, source: str, findings: Iterable[tuple], deps: Iterable[tuple]) -> None:
        try:
            dependencies = []
            for modname, module_path in sorted(deps, key=lambda dep: (dep[0], dep[1] or "")):
                stamp = list(file_stamp(module_path)) if module_path is not None else None
                dependencies.append([modname, module_path, stamp])
            entry = {
                "format": FORMAT,
                "salt": self.salt,
                "source": self.source_digest(source),
                "deps": dependencies,
                "findings": [list(finding) for finding in findings],
            }
            path = self._entry_path(filename)
            self._prepare(os.path.dirname(path))
            handle = tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=os.path.dirname(path), suffix=".tmp", delete=False
            )
            try:
                with handle:
                    json.dump(entry, handle)
                os.replace(handle.name, path)
            except BaseException:
                os.unlink(handle.name)
                raise
        except OSError as exc:
            # A read-only or full disk costs the cache, never the run.
            LOG.info("flake8-dbconstraints: could not write the cache in %s: %s", self.directory, exc)

    def _prepare(self, folder: str) -> None:
        if os.path.isdir(folder):
            return
        os.makedirs(folder, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "# created by flake8-dbconstraints\n*\n")):
            marker = os.path.join(self.directory, name)
            if not os.path.exists(marker):
                with open(marker, "w", encoding="utf-8") as handle:
                    handle.write(text)
