"""The on-disk cache: each checked file's findings and the model modules they rest on.

An entry is served only when the checked file's text is the same, every model
module consulted for it is unchanged (same ``st_mtime_ns`` and size), every module
name that was looked up still resolves to the same file (or still to none: a model
module added later is noticed), and the plugin version, SQLAlchemy version,
Python version, settings and current directory are the same.

Entries live in packs, one file per flake8 process that computed something: a
process reads every pack of its settings once, and when it ends writes one pack of
the entries it computed; the newest entry of a file wins. Once ``COMPACT_AT`` packs
have piled up, the process that finds them writes every entry it read instead, its
own replacing theirs, and removes the packs it merged. (Rewriting every entry on
every run cost each worker of a run after one edited model module 35 ms, and left
each worker's pack holding all entries: 1 MB twice on the 100-package monorepo.) One
file per checked file cost a file creation each, measured at 1.8 ms a file, more
than checking most files. A pack is written to a temporary file and
moved into place with ``os.replace``, so parallel flake8 processes and interrupted
runs never leave a half-written pack; a pack written meanwhile by another process
is left alone and read next time; an unreadable or foreign pack is ignored and
replaced, never trusted. The folder is safe to delete.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.metadata
import json
import multiprocessing.util
import os
import secrets
import sys
import tempfile
import time
from typing import Iterable, Optional

from flake8_dbconstraints import __version__
from flake8_dbconstraints.loader import ProjectLoader, file_stamp
from flake8_dbconstraints.memory import note_long_lived
from flake8_dbconstraints.safety import LOG
from flake8_dbconstraints.settings import Settings

FORMAT = "flake8-dbconstraints-cache-2"
PACKS = "v2"
COMPACT_AT = 8  # packs read before a process merges them into one
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
        self._entries: Optional[dict] = None  # absolute path -> entry, read on first use
        self._read_packs: list[str] = []  # merged into ours when we write
        self._computed: set[str] = set()  # files whose entries this process computed, not written yet
        self._unreadable: list[str] = []  # packs to replace, never to trust
        self._pid = os.getpid()

    @property
    def packs_folder(self) -> str:
        return os.path.join(self.directory, PACKS)

    def _pack_pattern(self) -> str:
        # The salt in the name: another configuration's packs are never read or removed.
        return os.path.join(self.packs_folder, f"{self.salt[:16]}-*.json")

    @staticmethod
    def source_digest(source: str) -> str:
        return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

    def _load_packs(self) -> dict:
        if self._entries is not None and self._pid == os.getpid():
            return self._entries
        # First use in this process (a forked worker starts afresh: what the parent
        # read is not what it will have to write).
        self._entries, self._read_packs, self._pid = {}, [], os.getpid()
        self._computed, self._unreadable = set(), []
        stamped: dict[str, float] = {}
        for path in sorted(glob.glob(self._pack_pattern())):
            self._read_packs.append(path)
            pack, size = self._read_pack(path)
            for filename, entry in pack.items():
                written = entry.get("at", 0) if isinstance(entry, dict) else 0
                if isinstance(written, (int, float)) and written >= stamped.get(filename, -1.0):
                    self._entries[filename], stamped[filename] = entry, written
            # The entries live as long as the process; unfrozen, every full collection
            # walks them (measured: +0.25 s per warm worker on the 100-package monorepo).
            note_long_lived(size)
        return self._entries

    def _read_pack(self, path: str) -> tuple[dict, int]:
        """The pack's entries and its size in bytes ({} when unreadable or foreign)."""
        try:
            with open(path, encoding="utf-8") as handle:
                pack = json.load(handle)
                size = os.fstat(handle.fileno()).st_size
            if pack["format"] != FORMAT or pack["salt"] != self.salt or not isinstance(pack["entries"], dict):
                raise ValueError("not a pack of this plugin version and settings")
            return pack["entries"], size
        except FileNotFoundError:
            return {}, 0  # merged and removed by another process meanwhile
        except (OSError, ValueError, KeyError, TypeError) as exc:
            LOG.info("flake8-dbconstraints: ignored unreadable cache pack %s: %r", path, exc)
            self._unreadable.append(path)
            return {}, 0

    def load(self, filename: str, source: str, loader: ProjectLoader) -> Optional[list]:
        """The cached findings, or None when absent, stale, unreadable or foreign."""
        entry = self._load_packs().get(os.path.abspath(filename))
        if entry is None:
            return None
        try:
            if entry["source"] != self.source_digest(source):
                return None
            for modname, module_path, stamp in entry["deps"]:
                if loader.find_file(modname) != module_path:
                    return None
                if module_path is not None and list(file_stamp(module_path)) != stamp:
                    return None
            return [(int(line), int(col), str(message)) for line, col, message in entry["findings"]]
        except (KeyError, TypeError, ValueError, OSError) as exc:
            LOG.info("flake8-dbconstraints: ignored foreign cache entry for %s: %r", filename, exc)
            return None

    def store(self, filename: str, source: str, findings: Iterable[tuple], deps: Iterable[tuple]) -> None:
        """Keep the entry in memory; the process writes its pack when it ends."""
        try:
            dependencies = []
            for modname, module_path in sorted(deps, key=lambda dep: (dep[0], dep[1] or "")):
                stamp = list(file_stamp(module_path)) if module_path is not None else None
                dependencies.append([modname, module_path, stamp])
        except OSError:
            return  # a model module vanished meanwhile: nothing trustworthy to keep
        path = os.path.abspath(filename)
        # Read the packs first: a process's first use starts its bookkeeping afresh.
        self._load_packs()[path] = {
            "at": time.time(),
            "source": self.source_digest(source),
            "deps": dependencies,
            "findings": [list(finding) for finding in findings],
        }
        if not self._computed:
            _PENDING.add(self)
            _register_exit_flush()
        self._computed.add(path)

    def flush(self) -> None:
        """Write this process's pack, if it computed anything (and, when compacting,
        remove the packs it merged); a read-only or full disk costs the cache, never
        the run."""
        if not self._computed or self._pid != os.getpid():
            return
        assert self._entries is not None
        compact = len(self._read_packs) >= COMPACT_AT
        computed, self._computed = self._computed, set()
        # Files deleted since are dropped, so the cache stays as large as the project.
        entries = {
            path: entry for path, entry in self._entries.items()
            if (compact or path in computed) and os.path.exists(path)
        }
        try:
            self._prepare()
            name = f"{self.salt[:16]}-{os.getpid()}-{secrets.token_hex(4)}.json"
            handle = tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self.packs_folder, suffix=".tmp", delete=False
            )
            try:
                with handle:
                    json.dump({"format": FORMAT, "salt": self.salt, "entries": entries}, handle)
                os.replace(handle.name, os.path.join(self.packs_folder, name))
            except BaseException:
                os.unlink(handle.name)
                raise
            written = os.path.join(self.packs_folder, name)
            if compact:
                merged, self._read_packs = self._read_packs, [written]
            else:
                merged = self._unreadable
                self._read_packs = [path for path in self._read_packs if path not in merged] + [written]
            self._unreadable = []
            for path in merged:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass  # another process merged it too
        except OSError as exc:
            LOG.info("flake8-dbconstraints: could not write the cache in %s: %s", self.directory, exc)

    def _prepare(self) -> None:
        if os.path.isdir(self.packs_folder):
            return
        os.makedirs(self.packs_folder, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "# created by flake8-dbconstraints\n*\n")):
            marker = os.path.join(self.directory, name)
            if not os.path.exists(marker):
                with open(marker, "w", encoding="utf-8") as handle:
                    handle.write(text)


# Caches holding entries not yet written, and the process that registered the exit hook.
_PENDING: set = set()
_REGISTERED_IN: list[int] = []


def flush_pending() -> None:
    """Write every pending pack of this process (at its end; tests call it directly)."""
    for cache in list(_PENDING):
        _PENDING.discard(cache)
        cache.flush()


def _register_exit_flush() -> None:
    """Once per process: multiprocessing runs its finalizers when a pool worker ends
    normally and, through atexit, when the main process does (flake8 --jobs=1)."""
    if _REGISTERED_IN and _REGISTERED_IN[-1] == os.getpid():
        return
    _REGISTERED_IN.append(os.getpid())
    multiprocessing.util.Finalize(None, flush_pending, exitpriority=100)
