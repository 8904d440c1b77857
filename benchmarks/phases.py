"""Split the plugin's cold cost into reading models and checking files, in one process.

    python benchmarks/phases.py [FOLDER]    # default: the 100-package benchmark monorepo

flake8 hands files to its workers one at a time, in order, so with ``--jobs=2`` both
workers check files of every package and each reads every model module. This script
shows what that costs: it checks every file of FOLDER twice in one process, as
flake8 hands them (tree and lines, the result cache off), timing only the plugin.
The first pass reads the models and checks; the second finds the models in memory
and only checks. Their difference is what each worker pays for the models, whatever
the number of workers; the second pass is shared among them.

Nothing here is imported by the tests; the figures go to the README's Performance
section.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import pathlib
import time

DEFAULT = pathlib.Path.home() / ".cache" / "flake8-dbconstraints" / "bench" / "monorepo-100"


def check_all(files: list[pathlib.Path]) -> tuple[float, int]:
    """Seconds spent in the plugin over every file, and its findings."""
    from flake8_dbconstraints.plugin import DBConstraintsChecker

    spent, findings = 0.0, 0
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines(True)
        tree = ast.parse("".join(lines))
        start = time.perf_counter()
        findings += len(list(DBConstraintsChecker(tree, str(path), lines).run()))
        spent += time.perf_counter() - start
    return spent, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT))
    args = parser.parse_args()
    os.chdir(args.folder)
    files = sorted(pathlib.Path(".").rglob("*.py"))

    start = time.perf_counter()
    import sqlalchemy  # noqa: F401  (the first column type classified imports it)

    imports = time.perf_counter() - start
    from flake8_dbconstraints.plugin import DBConstraintsChecker
    from flake8_dbconstraints.settings import Settings

    DBConstraintsChecker.settings = dataclasses.replace(Settings(), cache_dir=None)
    first, found = check_all(files)
    second, found_again = check_all(files)
    assert found == found_again, (found, found_again)
    print(f"{len(files)} files, {found} findings")
    print(f"import sqlalchemy:             {imports:6.2f} s  (once per worker)")
    print(f"first pass (models + checks):  {first:6.2f} s")
    print(f"second pass (checks only):     {second:6.2f} s  (shared among workers)")
    print(f"reading models:                {first - second:6.2f} s  (paid by every worker)")


if __name__ == "__main__":
    main()
