"""The flake8 entry point (stub while the core is written)."""
from __future__ import annotations

import ast
from typing import Iterator

from flake8_dbconstraints import __version__


class DBConstraintsChecker:
    name = "flake8-dbconstraints"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str = "stdin", lines: list[str] | None = None) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        return iter(())
