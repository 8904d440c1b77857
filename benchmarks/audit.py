"""Real-world audit: what flake8-dbconstraints reports on real SQLAlchemy projects.

    /tmp/venv/bin/python benchmarks/audit.py                 # every pinned project
    /tmp/venv/bin/python benchmarks/audit.py ckan indico     # only these
    /tmp/venv/bin/python benchmarks/audit.py --findings      # also print every finding
    /tmp/venv/bin/python benchmarks/audit.py --json out.json # machine-readable results

Run it with the Python of the environment where flake8 and the plugin are installed;
flake8 is started as ``<that python> -m flake8``. For each project of the corpus
(``benchmarks/corpus.py`` downloads and unpacks the pinned wheels):

1. ``flake8 --select DBC --jobs=2 .`` with cwd = the unpacked root (so that the
   project's top-level packages import), timed; findings are counted per code.
2. The same with ``DBC_STRICT=1``: the plugin's safety net re-raises, so internal
   errors show as tracebacks on stderr (the default run must show none).
3. Lines of Python and an independent ``ast`` scan (``corpus.scan_models``):
   ``__tablename__`` / ``table=True`` classes and ``Column(`` / ``mapped_column(``
   call sites, a yardstick for the plugin's model reader.
4. What the plugin's reader sees: in a child process (cwd = project root), every
   class of every project module is handed to ``ModelRegistry.model_for_class``
   the way the plugin does; mapped classes and their columns are counted.

Standard library only (step 4 imports flake8_dbconstraints in the child process).
"""
from __future__ import annotations

import argparse
import ast
import collections
import dataclasses
import functools
import json
import os
import pathlib
import re
import subprocess
import sys
import time
from typing import Optional, Sequence

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

FINDING_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>DBC\d+) (?P<message>.*)$")
CODES = ("DBC100", "DBC101", "DBC200")
TIMEOUT = 600  # seconds per flake8 run; more than ~180 s is worth telling the lead


@dataclasses.dataclass
class FlakeRun:
    seconds: float
    returncode: Optional[int]
    findings: list
    stderr: str
    timed_out: bool = False

    @property
    def tracebacks(self) -> list[str]:
        """Traceback blocks (and flake8's own plugin-failure lines) on stderr."""
        blocks = []
        lines = self.stderr.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("Traceback (most recent call last)"):
                j = i + 1
                while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                    j += 1
                blocks.append("\n".join(lines[i: j + 1]))
                i = j + 1
                continue
            if "PluginExecutionFailed" in line or "flake8-dbconstraints" in line and "failed" in line:
                blocks.append(line)
            i += 1
        return blocks


@functools.lru_cache(maxsize=1)
def no_cache_options() -> tuple[str, ...]:
    """``--dbc-no-cache`` when the plugin has a disk cache: every run must do the work
    (a cached result would hide crashes from the DBC_STRICT=1 run and skew timings),
    and nothing is written into the corpus folders."""
    proc = subprocess.run([sys.executable, "-m", "flake8", "--help"], capture_output=True, text=True)
    return ("--dbc-no-cache",) if "--dbc-no-cache" in proc.stdout else ()


# The project's own column types that SEMANTICS section 2 makes "unknown" (TypeDecorators
# with process_result_value) but whose non-None values are always truthy (datetime, UUID)
# or are JSON-like values tracked by nobody, as a user would configure them. Read from
# each project's source: every one returns None only for None.
CONFIGURED: dict[str, tuple[str, ...]] = {
    "indico": ("--dbc-truthy-types=indico.core.db.sqlalchemy.custom.utcdatetime.UTCDateTime",),
    "bodhi_server": ("--dbc-truthy-types=bodhi.server.models.TZDateTime",),
    "prefect": ("--dbc-truthy-types=prefect.server.utilities.database.Timestamp,"
                "prefect.server.utilities.database.UUID",
                "--dbc-json-types=prefect.server.utilities.database.JSON"),
    "jupyterhub": ("--dbc-json-types=jupyterhub.orm.JSONDict",),
}

# Installed packages a project's models derive from, as in the project's own environment:
# superset's models sit on flask_appbuilder.Model, some through superset_core's abstract
# classes. Their wheels are unpacked into a site-packages folder put on PYTHONPATH for
# every run of that project (the plugin reads the bases' source; nothing is imported).
# Pinned to the versions superset 6.1.0 accepts, seen to download on 2026-12-01.
INSTALLED: dict[str, tuple[tuple[str, str], ...]] = {
    "apache_superset": (("Flask-AppBuilder", "5.3.0"), ("apache-superset-core", "0.1.0")),
}


def site_packages(project: corpus.Project) -> Optional[pathlib.Path]:
    """The project's site-packages folder of INSTALLED packages, made once; or None."""
    pinned = INSTALLED.get(corpus.normalize_name(project.name))
    if not pinned:
        return None
    base = project.root.parent.parent
    site = base / "site" / corpus.normalize_name(project.name) / "site-packages"
    for name, version in pinned:
        unpacked = base / "site" / "unpacked" / f"{corpus.normalize_name(name)}-{version}"
        if not (unpacked / corpus.UNPACKED_MARKER).is_file():
            corpus.unpack_wheel(corpus.download_wheel(name, version, base / "wheels"), unpacked)
        for entry in unpacked.iterdir():
            target = site / entry.name
            if entry.name != corpus.UNPACKED_MARKER and not target.exists():
                site.mkdir(parents=True, exist_ok=True)
                target.symlink_to(entry, target_is_directory=entry.is_dir())
    return site


def environment(site: Optional[pathlib.Path], strict: bool = False) -> dict:
    env = dict(os.environ)
    env.pop("DBC_STRICT", None)
    if strict:
        env["DBC_STRICT"] = "1"
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    return env


def configured_options(project: corpus.Project) -> tuple[str, ...]:
    return CONFIGURED.get(corpus.normalize_name(project.name), ())


def flake8_command(jobs: int, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "flake8", "--isolated", *no_cache_options(), *extra,
            "--select", "DBC", f"--jobs={jobs}", "."]


def run_flake8(root: pathlib.Path, strict: bool, jobs: int, extra: Sequence[str] = (),
               site: Optional[pathlib.Path] = None) -> FlakeRun:
    env = environment(site, strict)
    cmd = flake8_command(jobs, extra)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return FlakeRun(time.perf_counter() - start, None, _parse(out), err, timed_out=True)
    return FlakeRun(time.perf_counter() - start, proc.returncode, _parse(proc.stdout), proc.stderr)


def _parse(stdout: str) -> list[dict]:
    findings = []
    for line in stdout.splitlines():
        match = FINDING_RE.match(line)
        if match:
            item = match.groupdict()
            item["path"] = os.path.normpath(item["path"])
            item["line"] = int(item["line"])
            item["col"] = int(item["col"])
            findings.append(item)
    return findings


# -- step 4: the plugin's own model reader, in a child process --------------------------

CHILD_CODE = r'''
import ast, json, os, sys, time
root = os.path.abspath(sys.argv[1])
os.chdir(root)
sys.path.insert(0, sys.argv[2])
import corpus
from flake8_dbconstraints import loader, names
from flake8_dbconstraints.project import registry_for, roots_for
from flake8_dbconstraints.settings import Settings

settings = Settings(cache_dir=None) if "cache_dir" in Settings.__dataclass_fields__ else Settings()
start = time.perf_counter()
seen = set()
models = columns = not_null = truthy = untracked = unknown = 0
decls = set()
decls_unknown = set()
unknown_types = {}
errors = []
for path in corpus.python_files(__import__("pathlib").Path(root)):
    filename = str(path)
    try:
        with open(filename, "rb") as handle:
            if b"class " not in handle.read():
                continue
        roots = roots_for(filename, settings)
        registry = registry_for(roots, settings)
        modname = loader.module_name_for_file(filename, roots)
        if modname is None:  # e.g. alembic versions/2022-04-01_...py: read as the checked file is
            module = loader.load_file(os.path.abspath(filename), "")
        else:
            module = registry.resolver.loader.load(modname)
        if module is None:
            continue
        if hasattr(module, "tree"):  # stdlib-ast loader: classes are ClassRef(module, node)
            classes = [names.ClassRef(module, node) for node in ast.walk(module.tree) if isinstance(node, ast.ClassDef)]
            where = lambda c: (module.path, c.node.lineno, c.node.name)
        else:  # astroid loader
            from astroid import nodes
            classes = list(module.nodes_of_class(nodes.ClassDef))
            where = lambda c: (module.file, c.lineno, c.name)
        for cls in classes:
            key = where(cls)
            if key in seen:
                continue
            seen.add(key)
            model = registry.model_for_class(cls)
            if model is None:
                continue
            models += 1
            for column in model.columns.values():
                columns += 1
                decls.add(column.declared_at)
                if column.not_null:
                    not_null += 1
                    if column.facts.always_truthy:
                        truthy += 1
                    unknown_type = column.facts.may_read_none and not column.facts.mutable
                    if unknown_type and column.declared_at not in decls_unknown:
                        decls_unknown.add(column.declared_at)
                        unknown += 1
                        label = column.declared_type.split("(")[0]
                        unknown_types[label] = unknown_types.get(label, 0) + 1
                if column.facts.mutable == "untracked":
                    untracked += 1
    except Exception as exc:  # report, never stop the count
        errors.append(f"{filename}: {type(exc).__name__}: {exc}")
print(json.dumps({
    "models": models, "columns": columns, "column_declarations": len(decls),
    "not_null": not_null, "not_null_always_truthy": truthy, "untracked_mutable": untracked,
    "not_null_unknown_type_declarations": unknown,
    "unknown_types_top": sorted(unknown_types.items(), key=lambda kv: -kv[1])[:8],
    "errors": errors, "seconds": time.perf_counter() - start,
}))
'''


CRASH_CODE = r'''
import ast, json, os, sys, traceback
root = os.path.abspath(sys.argv[1])
os.chdir(root)
os.environ["DBC_STRICT"] = "1"
sys.path.insert(0, sys.argv[2])
import corpus
from flake8_dbconstraints.plugin import DBConstraintsChecker
from flake8_dbconstraints.settings import build_settings
settings = build_settings(no_cache=True)
crashes = []
for path in corpus.python_files(__import__("pathlib").Path(".")):
    filename = "./" + str(path)
    try:
        with open(filename, "rb") as handle:
            tree = ast.parse(handle.read())
        with open(filename, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    except Exception:
        continue  # flake8 reports unparsable files itself (E999)
    checker = DBConstraintsChecker(tree, filename, lines)
    checker.settings = settings
    try:
        list(checker.run())
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        crashes.append({"file": filename, "error": f"{type(exc).__name__}: {exc}", "raised_at": where})
print(json.dumps(crashes))
'''


def locate_crashes(root: pathlib.Path, site: Optional[pathlib.Path] = None) -> list[dict]:
    """The files whose check raises under DBC_STRICT=1, one checker per file in-process
    (flake8's worker tracebacks do not name the file)."""
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_CODE, str(root), str(HERE)],
        capture_output=True, text=True, timeout=TIMEOUT * 3, env=environment(site),
    )
    if proc.returncode != 0:
        error = (proc.stderr.strip().splitlines() or ["crash locator failed"])[-1]
        return [{"file": "?", "error": error, "raised_at": "?"}]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def plugin_models(root: pathlib.Path, site: Optional[pathlib.Path] = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD_CODE, str(root), str(HERE)],
        capture_output=True, text=True, timeout=TIMEOUT, env=environment(site),
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def audit(project: corpus.Project, jobs: int, strict: bool, configured: bool = False) -> dict:
    files = list(corpus.python_files(project.root))
    stats = corpus.count_python(files)
    scan = corpus.scan_models(files)
    site = site_packages(project)
    default = run_flake8(project.root, strict=False, jobs=jobs, site=site)
    strict_run = run_flake8(project.root, strict=True, jobs=jobs, site=site) if strict else None
    reader = plugin_models(project.root, site)
    body_columns = table_columns = 0
    for path in files:
        tree = corpus._parse(path)
        if tree is not None:
            for column in scan_columns(path, tree, project.root):
                if column.model.startswith("Table("):
                    table_columns += 1
                else:
                    body_columns += 1
    per_code = collections.Counter(f["code"] for f in default.findings)
    result = {
        "project": project.name,
        "version": project.version,
        "root": str(project.root),
        "installed": [f"{name} {version}" for name, version in INSTALLED.get(corpus.normalize_name(project.name), ())],
        "files": stats.files,
        "lines": stats.lines,
        "scan": dataclasses.asdict(scan),
        "scan_models": scan.models,
        "scan_columns": scan.column_calls + scan.mapped_column_calls,
        "scan_body_columns": body_columns,  # class-body declarations (Column, mapped_column, Mapped[], Field)
        "scan_table_columns": table_columns,  # Column("key", ...) inside Table(...)
        "plugin": reader,
        "seconds": round(default.seconds, 1),
        "returncode": default.returncode,
        "timed_out": default.timed_out,
        "findings": default.findings,
        "per_code": {code: per_code.get(code, 0) for code in sorted(set(CODES) | set(per_code))},
        "default_tracebacks": default.tracebacks,
        "default_stderr_tail": default.stderr.strip().splitlines()[-5:],
    }
    extra = configured_options(project)
    if configured and extra:
        configured_run = run_flake8(project.root, strict=False, jobs=jobs, extra=extra, site=site)
        result["configured_options"] = list(extra)
        result["configured_findings"] = configured_run.findings
        result["configured_seconds"] = round(configured_run.seconds, 1)
        result["configured_tracebacks"] = configured_run.tracebacks
    if strict_run is not None:
        result.update({
            "strict_seconds": round(strict_run.seconds, 1),
            "strict_returncode": strict_run.returncode,
            "strict_timed_out": strict_run.timed_out,
            "strict_tracebacks": strict_run.tracebacks,
            "strict_findings": len(strict_run.findings),
            "strict_stderr_tail": strict_run.stderr.strip().splitlines()[-15:],
            "crashes": (locate_crashes(project.root, site)
                        if strict_run.tracebacks or strict_run.returncode not in (0, 1) else []),
        })
    return result


# -- recall sample: guards on NOT NULL columns, found without the plugin ----------------

TRUTHY_TYPE_WORDS = ("DateTime", "Date", "Time", "UUID", "Uuid", "Enum", "datetime", "date", "time")
FALSY_TYPE_WORDS = ("JSON", "Pickle", "ARRAY", "HSTORE", "Boolean", "Integer", "String", "Text", "Unicode",
                    "Numeric", "Float", "Interval", "Binary", "bool", "int", "str", "float", "Decimal",
                    "dict", "list", "IntEnum", "StrEnum", "IntFlag")
QUERY_WORDS = frozenset({"query", "get", "first", "one", "scalars", "all", "one_or_none", "scalar_one", "scalar"})
SKIP_DIRS = ("migrations", "_migrations", "alembic", "versions")


@dataclasses.dataclass(frozen=True)
class ScannedColumn:
    model: str
    key: str
    not_null: bool
    primary_key: bool
    type_text: str
    where: str


def _kw(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _const(node) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _callee(node) -> Optional[str]:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _optional(annotation) -> bool:
    text = ast.unparse(annotation) if annotation is not None else ""
    return "Optional[" in text or "None" in text.replace("NoneType", "None").split("[", 1)[-1] or "| None" in text


def _type_text(call: Optional[ast.Call], annotation) -> str:
    """The declared type, as written: the first positional type argument, else the Mapped[...] inner."""
    if call is not None:
        for arg in call.args:
            if isinstance(arg, ast.Constant):
                continue
            name = _callee(arg.func) if isinstance(arg, ast.Call) else _callee(arg)
            if name in ("ForeignKey", "Sequence", "Identity", "Computed"):
                continue
            return ast.unparse(arg)
        sa_type = _kw(call, "sa_type") or _kw(call, "type_")
        if sa_type is not None:
            return ast.unparse(sa_type)
    if annotation is not None:
        text = ast.unparse(annotation)
        return text[len("Mapped["):-1] if text.startswith("Mapped[") else text
    return ""


def scan_columns(path: pathlib.Path, tree: ast.AST, root: pathlib.Path) -> list[ScannedColumn]:
    """Class-body column declarations, read with plain ast and SEMANTICS section 1's rules
    (no name resolution: ``Column``/``mapped_column``/``Field`` are recognised by name)."""
    found = []
    for table in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and _callee(n.func) == "Table"):
        # Table("name", metadata, Column("key", Type, ...)): mapped imperatively or via __table__
        table_name = _const(table.args[0]) if table.args else None
        for call in table.args[1:]:
            if (isinstance(call, ast.Call) and _callee(call.func) == "Column" and call.args
                    and isinstance(_const(call.args[0]), str)):
                nullable = _const(_kw(call, "nullable"))
                primary_key = _const(_kw(call, "primary_key")) is True
                rest = ast.Call(call.func, call.args[1:], call.keywords)
                found.append(ScannedColumn(f"Table({table_name})", call.args[0].value,
                                           nullable is False or (primary_key and nullable is not True), primary_key,
                                           _type_text(rest, None), f"{path.relative_to(root)}:{call.lineno}"))
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        table_true = any(kw.arg == "table" and _const(kw.value) is True for kw in cls.keywords)
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                key, annotation, value = stmt.targets[0].id, None, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                key, annotation, value = stmt.target.id, stmt.annotation, stmt.value
            else:
                continue
            call = value if isinstance(value, ast.Call) else None
            callee = _callee(call.func) if call is not None else None
            mapped = annotation is not None and ast.unparse(annotation).startswith(
                ("Mapped[", "orm.Mapped[", "sa.orm.Mapped["))
            nullable = _const(_kw(call, "nullable")) if call is not None else None
            primary_key = (_const(_kw(call, "primary_key")) is True) if call is not None else False
            if callee == "Column":
                not_null = nullable is False or (primary_key and nullable is not True)
            elif callee == "mapped_column" or (mapped and value is None):
                not_null = nullable is False or (nullable is None and (primary_key or not _optional(annotation)))
                if nullable is None and primary_key and _optional(annotation):
                    not_null = False
            elif table_true and annotation is not None and (
                    value is None or callee == "Field" or not isinstance(value, ast.Call)):
                if call is not None and _kw(call, "sa_column") is not None:
                    continue
                not_null = nullable is False or (nullable is None and (primary_key or not _optional(annotation)))
            else:
                continue
            found.append(ScannedColumn(cls.name, key, bool(not_null), primary_key, _type_text(call, annotation),
                                       f"{path.relative_to(root)}:{stmt.lineno}"))
    return found


def _kind_of_type(type_text: str) -> str:
    head = re.split(r"[\[(]", type_text, maxsplit=1)[0].split(".")[-1]
    if any(word in type_text for word in ("JSON", "Pickle", "ARRAY", "HSTORE", "Json")):
        return "json"
    if head in ("DateTime", "Date", "Time", "UTCDateTime", "datetime", "date", "time", "UUID", "Uuid", "TIMESTAMP"):
        return "truthy?"
    if "Enum" in head and "Int" not in head and "Str" not in head:
        return "truthy?"
    return "other"


@dataclasses.dataclass
class Guard:
    path: str
    line: int
    kind: str  # "none" or "truthy"
    text: str
    attr: str
    receiver: str
    column_types: str
    tier: str = "unambiguous"


def _guard_tests(node: ast.AST):
    """(kind, Attribute node, whole expression) for None comparisons and truthiness tests
    made by ``node`` itself (not its children)."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = node.left, node.comparators[0]
        if isinstance(node.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
            if isinstance(left, ast.Attribute) and isinstance(right, ast.Constant) and right.value is None:
                yield "none", left, node
            elif isinstance(right, ast.Attribute) and isinstance(left, ast.Constant) and left.value is None:
                yield "none", right, node
    tests = []
    if isinstance(node, (ast.If, ast.While, ast.IfExp)):
        tests.append(node.test)
    elif isinstance(node, ast.comprehension):
        tests.extend(node.ifs)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        tests.append(node.operand)
    elif isinstance(node, ast.BoolOp):
        tests.extend(node.values[:-1])
    for test in tests:
        if isinstance(test, ast.BoolOp):
            tests.extend(test.values)
        elif isinstance(test, ast.Attribute):
            yield "truthy", test, test


def _guard_nodes(tree: ast.AST):
    """Guards with their enclosing class and function (``self`` and parameter annotations)."""
    stack = [(tree, None, None)]
    while stack:
        node, cls, func = stack.pop()
        for kind, attribute, whole in _guard_tests(node):
            yield kind, attribute, whole, cls, func
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                stack.append((child, child, None))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append((child, cls if func is None else None, child))
            else:
                stack.append((child, cls, func))


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def _receiver_models(receiver: ast.expr, cls, func, models: dict) -> list[str]:
    """Model names the receiver plausibly is, from ``self``, a parameter annotation or
    the variable's name (``run`` ~ ``SqlRun``, ``regform`` ~ nothing): a heuristic for
    drawing the sample, never a verdict (each guard is then read by hand)."""
    if isinstance(receiver, ast.Name) and receiver.id == "self" and cls is not None:
        return [cls.name] if cls.name in models else []
    name = (receiver.id if isinstance(receiver, ast.Name)
            else receiver.attr if isinstance(receiver, ast.Attribute) else None)
    if name is None:
        return []
    if func is not None and isinstance(receiver, ast.Name):
        for arg in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
            if arg.arg == name and arg.annotation is not None:
                text = ast.unparse(arg.annotation).strip("'\"")
                last = re.split(r"[\[\]|, .]+", text.replace("Optional[", "").replace("None", ""))
                hits = [part for part in last if part in models]
                if hits:
                    return hits[:1]
    if func is not None and isinstance(receiver, ast.Name):
        # ``x = <...M...>.first()`` / ``for x in <...M...>``: a model named in the value's call chain
        for node in ast.walk(func):
            value = None
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                value = node.value
            elif (isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension))
                  and isinstance(node.target, ast.Name) and node.target.id == name):
                value = node.iter
            if value is None or not isinstance(value, (ast.Call, ast.Await)):
                continue
            named = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)} | \
                    {n.attr for n in ast.walk(value) if isinstance(n, ast.Attribute)}
            hits = [m for m in named if m in models and any(
                isinstance(n, ast.Attribute) and n.attr in QUERY_WORDS
                for n in ast.walk(value))]
            if len(hits) == 1:
                return hits
    key = _norm(name)
    if len(key) < 3:
        return []
    exact = [m for m in models if _norm(m) == key]
    if exact:
        return exact
    return [m for m in models if _norm(m).endswith(key) and len(key) >= 4 or _norm(m) == "sql" + key]


def find_guards(root: pathlib.Path) -> tuple[list[Guard], dict]:
    files = [p for p in corpus.python_files(root) if not any(part in SKIP_DIRS for part in p.relative_to(root).parts)]
    trees = {}
    columns: dict[str, list[ScannedColumn]] = collections.defaultdict(list)
    models: dict[str, dict[str, ScannedColumn]] = collections.defaultdict(dict)
    for path in files:
        tree = corpus._parse(path)
        if tree is None:
            continue
        trees[path] = tree
        for column in scan_columns(path, tree, root):
            columns[column.key].append(column)
            models[column.model].setdefault(column.key, column)
    guards = []
    for path, tree in trees.items():
        for kind, attribute, whole, cls, func in _guard_nodes(tree):
            declared = columns.get(attribute.attr)
            if not declared:
                continue
            receiver = ast.unparse(attribute.value)
            if receiver[:1].isupper() or receiver in ("cls",):
                continue  # class-level access builds SQL

            def fits(c: ScannedColumn) -> bool:
                return (c.not_null and not c.primary_key and _kind_of_type(c.type_text) != "json"
                        and (kind == "none" or _kind_of_type(c.type_text) == "truthy?"))

            guessed = [models[m][attribute.attr] for m in _receiver_models(attribute.value, cls, func, models)
                       if attribute.attr in models[m]]
            if guessed:
                if not all(fits(c) for c in guessed):
                    continue  # the receiver's model says nullable / JSON / falsy type
                tier, shown = "matched", guessed
            else:
                # Names NOT NULL (not a primary key, not JSON) in at least one scanned model;
                # "unambiguous" when in every model that declares them.
                candidates = [c for c in declared if fits(c)]
                if not candidates:
                    continue
                tier = "unambiguous" if len(candidates) == len(declared) else "ambiguous"
                shown = candidates + [c for c in declared if c not in candidates]
            types = "; ".join(f"{c.model}.{c.key}: {c.type_text or '?'}{'' if c.not_null else ' NULLABLE'}"
                              f"{' PK' if c.primary_key else ''} ({c.where})" for c in shown[:3])
            if len(shown) > 3:
                types += f"; +{len(shown) - 3} more"
            guards.append(Guard(str(path.relative_to(root)), whole.lineno, kind, ast.unparse(whole)[:100],
                                attribute.attr, receiver, types, tier))
    stats = {"scanned_columns": sum(len(v) for v in columns.values()),
             "scanned_not_null": sum(c.not_null for v in columns.values() for c in v)}
    return guards, stats


def sample_guards(results: list[dict], per_project: int, seed: int) -> None:
    """Per project, up to ``per_project`` guards drawn with a fixed seed: those whose
    receiver's name, annotation or ``self`` points at a model declaring the column NOT
    NULL ("matched") first, then unambiguous (truthiness and None guards alternately), then ambiguous ones, listed in
    draw order so that a reviewer takes them from the top (skipping, and saying so, the
    ones whose receiver is not a model instance at all)."""
    import random

    total = 0
    for r in results:
        rng = random.Random(f"{seed}-{r['project']}")
        root = pathlib.Path(r["root"])
        guards, stats = find_guards(root)
        reported = {(os.path.normpath(f["path"]), f["line"]) for f in r["findings"]}
        picked: list[Guard] = []
        counts = {}
        for tier in ("matched", "unambiguous", "ambiguous"):
            pools = [[g for g in guards if g.tier == tier and g.kind == kind] for kind in ("truthy", "none")]
            counts[tier] = {"truthy": len(pools[0]), "none": len(pools[1])}
            for pool in pools:
                rng.shuffle(pool)
            while len(picked) < per_project and any(pools):
                for pool in pools:
                    if pool and len(picked) < per_project:
                        picked.append(pool.pop())
        print(f"\n## {r['project']} {r['version']}: guard candidates {counts}; scan {stats}; sampled {len(picked)}")
        for number, g in enumerate(picked, start=1):  # in draw order: review from the top
            flag = "REPORTED" if (os.path.normpath(g.path), g.line) in reported else "silent"
            print(f"{number:>3}. [{flag}] [{g.tier}] {g.path}:{g.line} ({g.kind}) `{g.text}`  -- {g.column_types}")
        total += len(picked)
    print(f"\n{total} guards sampled (seed {seed})")


def print_table(results: list[dict]) -> None:
    header = (f"{'project':<24} {'lines':>7} {'models scan/plugin':>18} {'col sites/body/Table/plugin':>27} "
              f"{'DBC100':>6} {'DBC101':>6} {'DBC200':>6} {'other':>10} {'time s':>6} {'strict s':>8} "
              f"{'tracebacks':>10}")
    print(header)
    print("-" * len(header))
    for r in results:
        plugin = r["plugin"]
        models = f"{r['scan_models']}/{plugin.get('models', '?')}"
        columns = (f"{r['scan_columns']}/{r.get('scan_body_columns', '?')}/{r.get('scan_table_columns', '?')}"
                   f"/{plugin.get('column_declarations', '?')}")
        time_s = f"{r['seconds']}" + ("!" if r["timed_out"] else "")
        strict_s = f"{r.get('strict_seconds', '-')}" + ("!" if r.get("strict_timed_out") else "")
        tracebacks = len(r["default_tracebacks"]) + len(r.get("strict_tracebacks", []))
        print(f"{r['project'] + ' ' + r['version']:<24} {r['lines']:>7} {models:>18} {columns:>27} "
              f"{r['per_code']['DBC100']:>6} {r['per_code']['DBC101']:>6} {r['per_code']['DBC200']:>6} "
              f"{' '.join(f'{c}:{n}' for c, n in r['per_code'].items() if c not in CODES and n) or '-':>10} "
              f"{time_s:>6} {strict_s:>8} {tracebacks:>10}")
    print()
    print("models scan = classes assigning __tablename__ or declared table=True (plain ast);")
    print("models plugin = classes ModelRegistry.model_for_class maps. Columns: sites = every")
    print("Column( / mapped_column( call; body = class-body declarations (Column, mapped_column,")
    print("Mapped[] alone, SQLModel fields); Table = Column('key', ...) inside Table(...);")
    print("plugin = distinct column declarations the plugin read.")
    print("'!' = timed out. tracebacks = in the default run + in the DBC_STRICT=1 run.")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="projects (default: all pinned)")
    parser.add_argument("--cache-dir", help="corpus cache (default: corpus.py's)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-strict", action="store_true", help="skip the DBC_STRICT=1 run")
    parser.add_argument("--findings", action="store_true", help="print every finding")
    parser.add_argument("--json", help="write the full results to this file")
    parser.add_argument("--guards", type=int, metavar="N",
                        help="also sample up to N guards per project for the recall study")
    parser.add_argument("--configured", action="store_true",
                        help="also run with the CONFIGURED --dbc-*-types options of each project")
    parser.add_argument("--from-json", metavar="FILE", help="use the results saved by --json instead of running")
    parser.add_argument("--seed", type=int, default=20261125, help="seed of the guard sample")
    args = parser.parse_args(argv)

    projects = corpus.ensure_corpus(args.names or None, cache=args.cache_dir)
    results = []
    if args.from_json:  # re-print / re-sample a saved run without running flake8 again
        with open(args.from_json, encoding="utf-8") as handle:
            saved = {(r["project"], r["version"]): r for r in json.load(handle)}
        results = [saved[(p.name, p.version)] for p in projects if (p.name, p.version) in saved]
    for project in projects if not args.from_json else ():
        print(f"... {project.label}", file=sys.stderr, flush=True)
        results.append(audit(project, args.jobs, strict=not args.no_strict, configured=args.configured))
    print_table(results)
    for r in results:
        plugin = r["plugin"]
        print(f"\n{r['project']} {r['version']}: plugin reader: {plugin}")
        for block in r["default_tracebacks"]:
            print(f"  TRACEBACK in the default run (must never happen):\n{block}")
        if r.get("strict_tracebacks"):
            last = sorted({block.strip().splitlines()[-1] for block in r["strict_tracebacks"]})
            print(f"  DBC_STRICT=1 run: {len(r['strict_tracebacks'])} traceback block(s), ending: {last}")
        for crash in r.get("crashes", []):
            print(f"  crash: {crash['file']}: {crash['error']} (raised at {crash['raised_at']})")
        if args.findings:
            for f in r["findings"]:
                print(f"  {f['path']}:{f['line']}:{f['col']}: {f['code']} {f['message']}")
        if "configured_findings" in r:
            per_code = collections.Counter(f["code"] for f in r["configured_findings"])
            print(f"  configured run ({' '.join(r['configured_options'])}): "
                  f"{dict(sorted(per_code.items()))} in {r['configured_seconds']}s")
            for block in r.get("configured_tracebacks", []):
                print(f"  TRACEBACK in the configured run:\n{block}")
            if args.findings:
                for f in r["configured_findings"]:
                    print(f"    {f['path']}:{f['line']}:{f['col']}: {f['code']} {f['message']}")
    if args.guards:
        sample_guards(results, args.guards, args.seed)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
