"""Split the plugin's cold cost into reading models and checking files, in one process.

    python benchmarks/phases.py [FOLDER]    # default: the 100-package benchmark monorepo
    python benchmarks/phases.py --baseline  # also time flake8 alone: the 1.15x budget

flake8 hands files to its workers one at a time, in order, so with ``--jobs=2`` both
workers check files of every package and each reads every model module. This script
shows what that costs: it checks every file of FOLDER twice in one process, as
flake8 hands them (tree and lines, the result cache off), timing only the plugin.
The first pass reads the models and checks; the second finds the models in memory
and only checks. Their difference is what each worker pays for the models, whatever
the number of workers; the second pass is shared among them.

The difference is split further: the stdlib parser on model and helper modules, the
collections before each freeze of their trees (``memory.note_long_lived``), and the
modules the first pass imports (SQLAlchemy's ``orm``, astroid for ``modutils``), timed
again in a fresh interpreter. Parsing and importing are what any plugin that reads
models statically with SQLAlchemy's own classes pays in every worker, however it is
written; ``--baseline`` sets them against the cold target (flake8 with the plugin at
most 1.15x flake8 alone), which one worker must meet alone since all run at once.
It also prints what one worker would pay if the workers shared the reading of models
perfectly (each reading its share, handed the rest for free): the bound of any design
that shares a model index among workers but still imports SQLAlchemy in each.

Nothing here is imported by the tests; the figures go to the README's Performance
section.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import pathlib
import statistics
import subprocess
import sys
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


class Timed:
    """Seconds and calls spent in one function, wrapped where the plugin calls it."""

    def __init__(self, function):
        self.function, self.seconds, self.calls, self.units = function, 0.0, 0, 0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1
            self.units += len(args[0]) if args and isinstance(args[0], (bytes, str)) else 0


class _AstWithTimedParse:
    """The ``ast`` module as the loader sees it, with ``parse`` timed."""

    def __init__(self, parse: Timed) -> None:
        self.parse = parse

    def __getattr__(self, name: str):
        return getattr(ast, name)


def import_seconds(modules: list[str]) -> float:
    """Seconds a fresh interpreter takes to import ``modules`` after SQLAlchemy."""
    code = (
        "import time, importlib, sqlalchemy\n"
        "start = time.perf_counter()\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(time.perf_counter() - start)\n"
    )
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3)]
    return min(runs)


def flake8_alone(folder: str, jobs: int, repeat: int = 3) -> float:
    """Median wall seconds of flake8 without the plugin on ``folder``, as run.py runs it."""
    launcher = pathlib.Path(__file__).with_name("_flake8_without_plugin.py")
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, str(launcher), "--without-plugin", "--isolated", "--exit-zero",
                        f"--jobs={jobs}", "."], cwd=folder, stdout=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT))
    parser.add_argument("--jobs", type=int, default=2, help="flake8 workers sharing the checks (default: 2)")
    parser.add_argument("--baseline", action="store_true",
                        help="also time flake8 alone with --jobs on FOLDER and print the 1.15x budget")
    args = parser.parse_args()
    os.chdir(args.folder)
    files = sorted(pathlib.Path(".").rglob("*.py"))

    start = time.perf_counter()
    import sqlalchemy  # noqa: F401  (the first column type classified imports it)

    imports = time.perf_counter() - start
    from flake8_dbconstraints import loader
    from flake8_dbconstraints.plugin import DBConstraintsChecker
    from flake8_dbconstraints.settings import Settings

    DBConstraintsChecker.settings = dataclasses.replace(Settings(), cache_dir=None)
    parse = Timed(ast.parse)
    freeze = Timed(loader.note_long_lived)
    loader.ast, loader.note_long_lived = _AstWithTimedParse(parse), freeze
    already = set(sys.modules)
    first, found = check_all(files)
    imported = sorted(name for name in set(sys.modules) - already - {"__mp_main__"}
                      if not name.startswith("flake8_dbconstraints"))
    loader.ast, loader.note_long_lived = ast, freeze.function
    second, found_again = check_all(files)
    assert found == found_again, (found, found_again)
    reading = first - second
    later_imports = import_seconds(imported)
    rest = reading - parse.seconds - freeze.seconds - later_imports
    print(f"{len(files)} files, {found} findings")
    print(f"import sqlalchemy:             {imports:6.2f} s  (once per worker)")
    print(f"first pass (models + checks):  {first:6.2f} s")
    print(f"second pass (checks only):     {second:6.2f} s  (shared among workers)")
    print(f"reading models:                {reading:6.2f} s  (paid by every worker), of which")
    print(f"  parsing {parse.calls} modules ({parse.units / 1e6:.2f} MB): {parse.seconds:6.2f} s")
    print(f"  freezing their trees (gc):   {freeze.seconds:6.2f} s")
    print(f"  importing {len(imported)} more modules:  {later_imports:6.2f} s  (a fresh interpreter, after sqlalchemy)")
    print(f"  the rest (building models):  {rest:6.2f} s")
    worker = imports + reading + second / args.jobs
    unavoidable = imports + later_imports + parse.seconds
    print(f"one worker of {args.jobs}: {imports:.2f} + {reading:.2f} + {second:.2f} / {args.jobs} = {worker:.2f} s; "
          f"importing and parsing alone: {unavoidable:.2f} s")
    # The bound of any sharing among workers: each imports what it uses, but reads only
    # its share of the models, as if the others handed it theirs for free.
    shared = imports + later_imports + (reading - later_imports) / args.jobs + second / args.jobs
    print(f"one worker if the {args.jobs} workers shared the reading of models for free: "
          f"{imports:.2f} + {later_imports:.2f} + {reading - later_imports:.2f} / {args.jobs} + "
          f"{second:.2f} / {args.jobs} = {shared:.2f} s")
    if args.baseline:
        alone = flake8_alone(".", args.jobs)
        budget = 0.15 * alone
        print(f"flake8 alone, --jobs={args.jobs} (median of 3): {alone:.2f} s; 15% of it: {budget:.2f} s; "
              f"left after importing and parsing: {budget - unavoidable:.2f} s for the checks "
              f"({second / args.jobs:.2f} s today) and everything else "
              f"({reading - parse.seconds - later_imports:.2f} s); "
              f"with free sharing, {shared:.2f} s: {'under' if shared <= budget else 'over'} the budget "
              f"by {abs(budget - shared):.2f} s")


if __name__ == "__main__":
    main()
