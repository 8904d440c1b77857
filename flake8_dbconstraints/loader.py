"""Finding and loading the project's own modules with astroid, never importing them.

astroid resolves a dotted module name to a file (``modutils.file_info_from_modpath``)
and builds a module tree from it (``AstroidManager.ast_from_file``) without running
any code. We only ever load modules that live under the project's roots: the
package root of the checked file, the current directory and ``--dbc-model-paths``.
Third-party and standard-library modules are never parsed; names imported from
them stay dotted strings (see ``names.py``).
"""
from __future__ import annotations

import functools
import os
from typing import Optional, Sequence

from flake8_dbconstraints.safety import LOG, guarded

# A model module larger than this is not read: it bounds one module's cost.
MAX_MODULE_BYTES = 2_000_000


def find_package_root(filename: str) -> str:
    """The directory from which ``filename``'s package is importable."""
    directory = os.path.dirname(os.path.abspath(filename))
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return directory


@functools.lru_cache(maxsize=4096)
def module_name_for_file(filename: str, roots: tuple[str, ...]) -> Optional[str]:
    """The dotted name under which ``filename`` is importable from ``roots``."""
    path = os.path.abspath(filename)
    for root in roots:
        relative = os.path.relpath(path, root)
        if relative.startswith(os.pardir) or not relative.endswith(".py"):
            continue
        parts = relative[: -len(".py")].split(os.sep)
        if parts[-1] == "__init__":
            parts.pop()
        if parts and all(part.isidentifier() for part in parts):
            return ".".join(parts)
    return None


class ProjectLoader:
    """Loads project modules by dotted name, each once per process."""

    def __init__(self, roots: Sequence[str]) -> None:
        self.roots = tuple(dict.fromkeys(os.path.abspath(root) for root in roots))
        self._files: dict[str, Optional[str]] = {}

    def find_file(self, modname: str) -> Optional[str]:
        """The ``.py`` file of a project module, or None if it is not the project's."""
        if modname in self._files:
            return self._files[modname]
        found = None
        with guarded(f"the location of module {modname}"):
            found = self._locate(modname)
        self._files[modname] = found
        return found

    def _locate(self, modname: str) -> Optional[str]:
        from astroid import modutils

        try:
            spec = modutils.file_info_from_modpath(modname.split("."), path=list(self.roots))
        except (ImportError, SyntaxError, ValueError):
            return None
        location = spec.location
        if not location or not location.endswith(".py"):
            return None
        location = os.path.abspath(location)
        if not any(location.startswith(root + os.sep) for root in self.roots):
            return None
        return location

    def load(self, modname: str):
        """The astroid module for a project module, or None."""
        filename = self.find_file(modname)
        if filename is None:
            return None
        return load_file(filename, modname)


@functools.lru_cache(maxsize=1)
def _builder_class():
    from astroid.builder import AstroidBuilder

    class SyntaxOnlyBuilder(AstroidBuilder):
        """astroid's builder without the steps that infer while building.

        Brain transforms (the enum one infers every class's ancestors), instance
        attribute collection and star-import expansion would make astroid parse
        SQLAlchemy and every module they touch: measured at 14 s for one small
        model module. We only need the tree and scope lookup; star imports of
        project modules are followed by ``names.py`` when a name is asked for.
        """

        def add_from_names_to_locals(self, node, global_names=None):
            if node.names and node.names[0][0] == "*":
                return None
            return super().add_from_names_to_locals(node, global_names)

        def delayed_assattr(self, node):
            return None

    return SyntaxOnlyBuilder


def _build(filename: str, modname: str):
    import astroid

    builder = _builder_class()(astroid.MANAGER, apply_transforms=False)
    return builder.file_build(filename, modname)


@functools.lru_cache(maxsize=8192)
def _load_file_cached(filename: str, modname: str, stamp: tuple[int, int]):
    if stamp[1] > MAX_MODULE_BYTES:
        LOG.info("flake8-dbconstraints: skipped %s: larger than %d bytes", filename, MAX_MODULE_BYTES)
        return None
    module = None
    with guarded(f"model module {filename}"):
        module = _build(filename, modname)
    return module


def file_stamp(filename: str) -> tuple[int, int]:
    stat = os.stat(filename)
    return (stat.st_mtime_ns, stat.st_size)


def load_file(filename: str, modname: str):
    try:
        stamp = file_stamp(filename)
    except OSError:
        return None
    return _load_file_cached(filename, modname, stamp)


def parse_source(source: str, modname: str, filename: str):
    """An astroid module built from flake8's ``lines`` (stdin and unsaved buffers)."""
    import astroid

    builder = _builder_class()(astroid.MANAGER, apply_transforms=False)
    return builder.string_build(source, modname, filename)
