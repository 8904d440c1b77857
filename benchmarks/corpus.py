"""Real SQLAlchemy applications to benchmark and measure the plugin on.

Downloads pinned wheels from PyPI with pip into a cache folder outside the repository
and unpacks each into its own folder. Everything is idempotent: a wheel already
downloaded is not fetched again and a wheel already unpacked is not unpacked again.

    python benchmarks/corpus.py                      # all projects, then a summary
    python benchmarks/corpus.py jupyterhub ckan      # only these
    python benchmarks/corpus.py --cache-dir /tmp/c   # or DBC_CORPUS_DIR=/tmp/c

Other scripts use ``ensure_corpus()``, ``python_files()``, ``count_python()`` and
``scan_models()``. Standard library only (pip is run as ``python -m pip``).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import fnmatch
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from typing import Iterable, Iterator, Sequence

# Pinned versions, all seen to download as wheels (the first nine on 2026-11-25, five
# more on 2026-12-01, apache-airflow and zenml on 2026-12-02, and ten on the evening of
# 2026-12-02: fittrackee, faradaysec, calibreweb, freqtrade, privacyidea, aim,
# invenio-rdm-records, lemur, keystone and ironic). Ordered by lines of Python
# (21k .. 397k), smallest first, so that --max-projects N takes the cheapest N.
PINNED: tuple[tuple[str, str], ...] = (
    ("Flask-AppBuilder", "5.3.0"),
    ("bodhi-server", "26.4.0"),
    ("aim", "3.29.1"),
    ("fittrackee", "1.3.6"),
    ("invenio-rdm-records", "36.0.0"),
    ("faradaysec", "5.25.2"),
    ("calibreweb", "0.6.27"),
    ("lemur", "1.9.3"),
    ("jupyterhub", "6.1.1"),
    ("freqtrade", "2026.9"),
    ("flexget", "3.22.8"),
    ("privacyidea", "3.14"),
    ("open-webui", "0.12.4"),
    ("apache-airflow", "2.10.5"),
    ("ethyca-fides", "2.78.2"),
    ("ckan", "2.12.0"),
    ("indico", "3.2.9"),
    ("arize-phoenix", "20.26.1"),
    ("keystone", "30.0.0"),
    ("langflow-base", "1.13.0"),
    ("apache-superset", "6.1.0"),
    ("prefect", "3.9.1"),
    ("pgadmin4", "9.18"),
    ("zenml", "0.80.0"),
    ("ironic", "39.0.0"),
    ("mlflow", "3.18.0"),
)

DEFAULT_CACHE_DIR = pathlib.Path("~/.cache/flake8-dbconstraints/corpus")
UNPACKED_MARKER = ".dbc_unpacked"

# flake8's default --exclude, so that file and line counts match what flake8 checks.
FLAKE8_DEFAULT_EXCLUDE = (
    ".svn",
    "CVS",
    ".bzr",
    ".hg",
    ".git",
    "__pycache__",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg",
)


@dataclasses.dataclass(frozen=True)
class Project:
    name: str
    version: str
    root: pathlib.Path

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclasses.dataclass(frozen=True)
class SourceStats:
    files: int
    lines: int
    parse_failures: int


@dataclasses.dataclass(frozen=True)
class ModelScan:
    """What a plain ``ast`` walk finds, independent of the plugin's own reader."""

    files_with_models: int
    tablename_classes: int  # classes that assign __tablename__ in their body
    table_true_classes: int  # classes with a table=True keyword (SQLModel) and no __tablename__
    column_calls: int  # Column(...) / db.Column(...) / sa.Column(...)
    mapped_column_calls: int  # mapped_column(...) / orm.mapped_column(...)

    @property
    def models(self) -> int:
        return self.tablename_classes + self.table_true_classes


def normalize_name(name: str) -> str:
    """PEP 503 normalisation, in the underscore form used in wheel file names."""
    return re.sub(r"[-_.]+", "_", name).lower()


def cache_dir(override: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """--cache-dir, else $DBC_CORPUS_DIR, else ~/.cache/flake8-dbconstraints/corpus."""
    raw = override or os.environ.get("DBC_CORPUS_DIR") or DEFAULT_CACHE_DIR
    return pathlib.Path(raw).expanduser().resolve()


def select_pinned(
    names: Iterable[str] | None = None, max_projects: int | None = None
) -> list[tuple[str, str]]:
    """Pinned (name, version) pairs, filtered by name (any spelling) and capped in number."""
    pinned = list(PINNED)
    if names:
        wanted = {normalize_name(n) for n in names}
        unknown = wanted - {normalize_name(n) for n, _ in pinned}
        if unknown:
            raise SystemExit(
                f"unknown corpus project(s): {', '.join(sorted(unknown))}; "
                f"known: {', '.join(n for n, _ in PINNED)}"
            )
        pinned = [(n, v) for n, v in pinned if normalize_name(n) in wanted]
    if max_projects is not None:
        pinned = pinned[:max_projects]
    return pinned


def _find_wheel(wheels_dir: pathlib.Path, name: str, version: str) -> pathlib.Path | None:
    for wheel in sorted(wheels_dir.glob("*.whl")):
        parts = wheel.name.split("-")
        if (
            len(parts) >= 2
            and normalize_name(parts[0]) == normalize_name(name)
            and parts[1] == version
        ):
            return wheel
    return None


def download_wheel(
    name: str, version: str, wheels_dir: pathlib.Path, python: str = sys.executable
) -> pathlib.Path:
    wheel = _find_wheel(wheels_dir, name, version)
    if wheel is not None:
        return wheel
    wheels_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        python,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--disable-pip-version-check",
        "--quiet",
        f"{name}=={version}",
        "-d",
        str(wheels_dir),
    ]
    print(f"  downloading {name}=={version} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"pip download failed for {name}=={version} (exit {proc.returncode}):\n"
            + proc.stderr.strip()
        )
    wheel = _find_wheel(wheels_dir, name, version)
    if wheel is None:
        raise RuntimeError(
            f"pip download of {name}=={version} left no matching wheel in {wheels_dir}"
        )
    return wheel


def unpack_wheel(wheel: pathlib.Path, dest: pathlib.Path) -> pathlib.Path:
    """Unpack into dest (atomically, through a temporary sibling); skip if already there."""
    if (dest / UNPACKED_MARKER).is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        (tmp / UNPACKED_MARKER).write_text(f"{wheel.name}\n", encoding="utf-8")
        if dest.exists():  # a half-finished earlier attempt
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def ensure_corpus(
    names: Iterable[str] | None = None,
    *,
    cache: str | os.PathLike[str] | None = None,
    max_projects: int | None = None,
    python: str = sys.executable,
) -> list[Project]:
    """Download and unpack the selected pinned projects; return them, smallest first."""
    base = cache_dir(cache)
    projects = []
    for name, version in select_pinned(names, max_projects):
        root = base / "src" / f"{normalize_name(name)}-{version}"
        if not (root / UNPACKED_MARKER).is_file():
            wheel = download_wheel(name, version, base / "wheels", python=python)
            unpack_wheel(wheel, root)
        projects.append(Project(name, version, root))
    return projects


def _excluded(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def python_files(
    root: pathlib.Path, exclude: Sequence[str] = FLAKE8_DEFAULT_EXCLUDE
) -> Iterator[pathlib.Path]:
    """The *.py files flake8 would check when given ``root`` (default excludes applied)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _excluded(d, exclude))
        for filename in sorted(filenames):
            if filename.endswith(".py") and not _excluded(filename, exclude):
                yield pathlib.Path(dirpath, filename)


def _parse(path: pathlib.Path) -> ast.AST | None:
    try:
        source = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes in old code
            return ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None


def count_python(paths: Iterable[pathlib.Path]) -> SourceStats:
    """Files, physical lines and files that the running Python's ast cannot parse."""
    files = lines = failures = 0
    for path in paths:
        files += 1
        data = path.read_bytes()
        lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        if _parse(path) is None:
            failures += 1
    return SourceStats(files, lines, failures)


def _callee_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def scan_models(paths: Iterable[pathlib.Path]) -> ModelScan:
    """Independent model-coverage scan with plain ``ast``: no imports, no inference.

    Counts classes that assign ``__tablename__`` (plain or annotated assignment in the
    class body), classes with a ``table=True`` keyword, and every call whose callee is
    named ``Column`` or ``mapped_column`` (bare or as an attribute, e.g. ``db.Column``).
    It over-counts (``Column`` in ``Table(...)`` or in mixins) and under-counts (models
    built dynamically); it is a yardstick for the plugin's reader, not a truth.
    """
    files_with = tablename = table_true = columns = mapped = 0
    for path in paths:
        tree = _parse(path)
        if tree is None:
            continue
        found = False
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                named = False
                for stmt in node.body:
                    targets: list[ast.expr] = []
                    if isinstance(stmt, ast.Assign):
                        targets = stmt.targets
                    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                        targets = [stmt.target]
                    if any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in targets):
                        tablename += 1
                        found = named = True
                        break
                # A SQLModel table that also names its table is one class, counted once.
                if not named and any(
                    kw.arg == "table"
                    and isinstance(kw.value, ast.Constant)
                    and kw.value.value is True
                    for kw in node.keywords
                ):
                    table_true += 1
                    found = True
            elif isinstance(node, ast.Call):
                callee = _callee_name(node.func)
                if callee == "Column":
                    columns += 1
                    found = True
                elif callee == "mapped_column":
                    mapped += 1
                    found = True
        files_with += found
    return ModelScan(files_with, tablename, table_true, columns, mapped)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="projects to fetch (default: all pinned)")
    parser.add_argument(
        "--cache-dir",
        help=f"where wheels and sources go (default: $DBC_CORPUS_DIR or {DEFAULT_CACHE_DIR})",
    )
    parser.add_argument(
        "--max-projects", type=int, help="only the first N pinned projects (smallest first)"
    )
    parser.add_argument("--no-scan", action="store_true", help="skip the model-coverage scan")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    projects = ensure_corpus(
        args.names or None, cache=args.cache_dir, max_projects=args.max_projects
    )
    print(f"corpus in {cache_dir(args.cache_dir)} ({time.perf_counter() - start:.1f}s)")
    header = f"{'project':<26} {'files':>6} {'lines':>9} {'no-parse':>8}"
    if not args.no_scan:
        header += f" {'models':>6} {'Column(':>7} {'mapped_column(':>14} {'model files':>11}"
    print(header)
    total_files = total_lines = total_fail = 0
    for project in projects:
        files = list(python_files(project.root))
        stats = count_python(files)
        total_files += stats.files
        total_lines += stats.lines
        total_fail += stats.parse_failures
        row = f"{project.label:<26} {stats.files:>6} {stats.lines:>9} {stats.parse_failures:>8}"
        if not args.no_scan:
            scan = scan_models(files)
            row += f" {scan.models:>6} {scan.column_calls:>7} {scan.mapped_column_calls:>14}"
            row += f" {scan.files_with_models:>11}"
        print(row)
    print(f"{'total':<26} {total_files:>6} {total_lines:>9} {total_fail:>8}")
    print(f"(python {sys.version.split()[0]}; 'no-parse' = files its ast cannot parse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
