"""Time flake8 with and without flake8-dbconstraints on the same files.

    python benchmarks/run.py --quick   # jupyterhub, 10-package monorepo, pre-commit
    python benchmarks/run.py           # all: real corpus, monorepo 10/30/100, pre-commit
    python benchmarks/run.py --corpus monorepo --packages 100 --repeat 5 --markdown

Run it with the Python of the environment where flake8 and the plugin are installed
(e.g. /tmp/venv/bin/python); flake8 is started with that same interpreter.

For every corpus and cache mode the two arms alternate (with, without, without, with,
... ``--repeat`` times each, so that a drift of the machine's speed favours neither)
after one unmeasured warm-up run, and the table shows medians. Both arms run the
default flake8 checks (``--isolated --exit-zero --jobs=J``) through
``_flake8_without_plugin.py``, which drops the plugin from flake8's plugin finder
for the "without" arm. Per run: wall time; CPU time = user + sys of flake8 and
every worker it reaped (``os.wait4``); peak RSS = ``ru_maxrss`` of that same tree,
which is the largest single process (not a sum over the workers, and shared pages
count in each). Commands are started from a small spawner process, so that
this script's own size is not counted as their peak (see ``SPAWNER``). Findings =
output lines containing " DBC" in the "with" arm.

Cache modes, if ``flake8 --help`` lists ``--dbc-cache-dir``: "cold" empties the cache
dir before every "with" run, "warm" fills it once (unmeasured) and then changes
nothing; "nocache" passes ``--dbc-no-cache``. Without that option there is one mode, "-".
``--corpus edited`` measures the case of the speed issue where one model module changed
between runs: mode "edited" fills the cache once, then appends a comment line to the
middle package's ``models.py`` before every "with" run (so its dependants are checked
again, the rest comes from the cache); its companion row is a cold run of that module's
dependants alone (the module and every file that imports it), the cost it is compared
with. The module is restored afterwards.

Checks printed after the table: on the monorepo the findings must equal what the
generator planted (the report lists misses and extras by category); every corpus: the
"with" runs must agree with each other (cold, warm and repeats), and the non-DBC
findings must be the same with and without the plugin.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import pathlib
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from typing import Sequence

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
import monorepo  # noqa: E402
from _flake8_without_plugin import DISTRIBUTION  # noqa: E402

LAUNCHER = HERE / "_flake8_without_plugin.py"
DEFAULT_WORK_DIR = pathlib.Path("~/.cache/flake8-dbconstraints/bench")
QUICK_PROJECT = "jupyterhub"
FINDING_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) ")
MB = 1024 * 1024
RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux


@dataclasses.dataclass
class Case:
    corpus: str  # label in the table
    slug: str  # folder-safe name
    cwd: pathlib.Path
    targets: list[str]
    files: int
    lines: int
    manifest: monorepo.Manifest | None = None  # for the monorepo check
    checked_paths: list[str] | None = None  # restrict the check to these files
    modes: list[str] | None = None  # measured in these modes only (default: --modes)
    edited_module: str | None = None  # mode "edited": the model module changed before each run


@dataclasses.dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    status: int
    dbc: collections.Counter  # (path, line, code) -> n
    other: collections.Counter  # non-DBC findings: (path, line, col, code) -> n
    output: pathlib.Path
    others: float | None  # share of the machine's CPUs other processes used during the run


@dataclasses.dataclass
class Row:
    case: Case
    mode: str
    with_runs: list[Run]
    without_runs: list[Run]
    cache_written: bool | None = None  # did the plugin put anything in --dbc-cache-dir?

    def med(self, arm: str, field: str) -> float:
        runs = self.with_runs if arm == "with" else self.without_runs
        return statistics.median(getattr(r, field) for r in runs)

    @property
    def findings(self) -> int:
        return sum(self.with_runs[0].dbc.values())

    def pair_ratios(self) -> list[float]:
        """with / without wall time of each pair of runs made one after the other: on a
        machine whose speed drifts, their spread shows the noise the medians hide."""
        return [w.wall / o.wall for w, o in zip(self.with_runs, self.without_runs) if o.wall]


# --------------------------------------------------------------------------- running flake8


def flake8_command(python: str, with_plugin: bool, extra: Sequence[str]) -> list[str]:
    return [python, str(LAUNCHER), "--with-plugin" if with_plugin else "--without-plugin", *extra]


COMPILE_PLUGIN = (
    "import compileall, os, flake8_dbconstraints as p; "
    "compileall.compile_dir(os.path.dirname(p.__file__), quiet=1)"
)

# Runs every measured command, in a small interpreter of its own. Linux starts a new
# process's ``ru_maxrss`` at the resident size of the process that forked it (it is
# kept across exec), so commands started from this script, whose memory grows with
# every output it parses, reported this script's size as their peak: 139-168 MB for
# flake8 alone on the later real-corpus rows. Forked from this spawner, a command's
# floor is the spawner's own size (about 12 MB).
SPAWNER = r"""
import json, os, signal, subprocess, sys, threading, time

def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

for line in sys.stdin:
    job = json.loads(line)
    with open(job["out"], "wb") as out, open(job["err"], "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(job["cmd"], cwd=job["cwd"], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        timer = threading.Timer(job["timeout"], kill_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 already
    print(json.dumps([wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode]), flush=True)
"""
_spawner: list = []


def run_once(
    cmd: list[str], cwd: pathlib.Path, output: pathlib.Path, timeout: float
) -> tuple[float, float, float, int]:
    """Run cmd with stdout/stderr to files; return (wall s, cpu s, peak rss MB, exit status)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if not _spawner:
        _spawner.append(subprocess.Popen([sys.executable, "-c", SPAWNER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True))
    spawner = _spawner[0]
    job = {"cmd": cmd, "cwd": str(cwd), "out": str(output), "err": str(output.with_suffix(".err")),
           "timeout": timeout}
    spawner.stdin.write(json.dumps(job) + "\n")
    spawner.stdin.flush()
    wall, cpu, maxrss, status = json.loads(spawner.stdout.readline())
    return wall, cpu, maxrss * RSS_UNIT / MB, status


def machine_busy_seconds() -> float | None:
    """CPU-seconds all CPUs spent busy since boot (Linux /proc/stat), else None."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait
        return busy / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def noise_note(rows: list[Row]) -> str:
    """How much of the machine other processes took while flake8 was being timed."""
    shares = [
        (r.others, row)
        for row in rows
        for r in row.with_runs + row.without_runs
        if r.others is not None
    ]
    if not shares:
        return "other processes' CPU use was not measured (no /proc/stat)"
    worst, worst_row = max(shares, key=lambda item: item[0])
    median = statistics.median(share for share, _ in shares)
    note = (
        f"other processes used {median:.0%} of the CPUs during a median run "
        f"(worst {worst:.0%}, {worst_row.case.corpus} [{worst_row.mode}])"
    )
    if median > 0.05 or worst > 0.25:
        note += ": WARNING, the machine was not idle; timings are noisy"
    return note


def parse_output(path: pathlib.Path) -> tuple[collections.Counter, collections.Counter]:
    dbc: collections.Counter = collections.Counter()
    other: collections.Counter = collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            match = FINDING_RE.match(line)
            if match is None:
                if " DBC" in line:  # not flake8's default format: count it all the same
                    dbc[(line.strip(), 0, "DBC?")] += 1
                continue
            path = os.path.normpath(match["path"]).replace(os.sep, "/")
            if match["code"].startswith("DBC"):
                dbc[(path, int(match["line"]), match["code"])] += 1
            else:
                other[(path, match["line"], match["col"], match["code"])] += 1
    return dbc, other


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.python = args.python
        self.work = pathlib.Path(args.work_dir).expanduser().resolve()
        self.common = ["--isolated", "--exit-zero", f"--jobs={args.jobs}"]
        self.cache_supported = False

    def preflight(self) -> None:
        """The filter must drop the plugin, and only the plugin; find the cache options."""

        def version(with_plugin: bool) -> str:
            proc = subprocess.run(
                flake8_command(self.python, with_plugin, ["--version"]),
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                raise SystemExit(f"flake8 did not start with {self.python}:\n{proc.stderr}")
            return " ".join(proc.stdout.split())

        # As pip does when it installs a wheel: without it, an editable install under
        # PYTHONDONTWRITEBYTECODE=1 (set on this workplace's machines) compiled the
        # plugin's source in every flake8 process, 0.03 s a worker that no installed
        # copy pays; flake8 and the other plugins come with their bytecode.
        subprocess.run([self.python, "-c", COMPILE_PLUGIN], check=True)
        with_v, without_v = version(True), version(False)
        if DISTRIBUTION not in with_v:
            raise SystemExit(f"flake8-dbconstraints is not loaded by flake8 here: {with_v}")
        if DISTRIBUTION in without_v:
            raise SystemExit(f"the launcher failed to drop flake8-dbconstraints: {without_v}")
        self.versions = with_v
        help_text = subprocess.run(
            flake8_command(self.python, True, ["--help"]), capture_output=True, text=True
        ).stdout
        self.cache_supported = "--dbc-cache-dir" in help_text
        self.no_cache_supported = "--dbc-no-cache" in help_text

    def monorepo_database(self, case: Case) -> pathlib.Path:
        """A SQLite database created from the monorepo's own models (importing them is
        the benchmark's doing, never the plugin's): what --dbc-database-url costs."""
        path = self.work / "db" / f"{case.slug}.sqlite"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([self.python, "-c", CREATE_MONOREPO_DATABASE, str(path)], cwd=case.cwd, check=True)
        return path

    def modes(self) -> list[str]:
        if not self.cache_supported:
            return ["-"]
        wanted = [m.strip() for m in self.args.modes.split(",") if m.strip()]
        if "nocache" in wanted and not self.no_cache_supported:
            print("note: --dbc-no-cache is not supported; skipping mode nocache", file=sys.stderr)
            wanted.remove("nocache")
        return wanted

    def measure(self, case: Case, mode: str) -> Row:
        cache = self.work / "dbc-cache" / case.slug
        plugin_opts: list[str] = []
        if mode in ("cold", "warm", "edited"):
            plugin_opts = [f"--dbc-cache-dir={cache}"]
        elif mode == "nocache":
            plugin_opts = ["--dbc-no-cache"]
        elif mode == "database":
            plugin_opts = [f"--dbc-database-url=sqlite:///{self.monorepo_database(case)}"]
        with_cmd = flake8_command(self.python, True, [*self.common, *plugin_opts, *case.targets])
        without_cmd = flake8_command(self.python, False, [*self.common, *case.targets])
        out_dir = self.work / "out" / case.slug / mode.replace("-", "default")

        def clear_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(case.cwd / ".dbc_cache", ignore_errors=True)  # the plugin's default place

        edited = case.cwd / case.edited_module if case.edited_module and mode == "edited" else None
        original = edited.read_bytes() if edited else b""

        def one(arm: str, cmd: list[str], index: int) -> Run:
            if arm == "with" and mode in ("cold", "-"):
                clear_cache()
            if arm == "with" and edited is not None:
                edited.write_bytes(original + f"# edited before run {index}\n".encode())
            output = out_dir / f"{arm}-{index}.txt"
            busy_before = machine_busy_seconds()
            wall, cpu, rss, status = run_once(cmd, case.cwd, output, self.args.timeout)
            busy_after = machine_busy_seconds()
            others = None
            if busy_before is not None and busy_after is not None:
                others = max(busy_after - busy_before - cpu, 0.0) / (wall * (os.cpu_count() or 1))
            dbc, other = parse_output(output)
            run = Run(wall, cpu, rss, status, dbc, other, output, others)
            print(
                f"  [{case.corpus} {mode}] {arm:<7} {index}/{self.args.repeat}: "
                f"wall {wall:6.2f}s  cpu {cpu:6.2f}s  "
                f"rss {rss:6.0f} MB  DBC {sum(dbc.values())}"
                + (f"  others {others:4.0%}" if others is not None else "")
                + (f"  EXIT {status} (see {output.with_suffix('.err')})" if status else ""),
                file=sys.stderr,
                flush=True,
            )
            return run

        print(
            f"[{case.corpus} {mode}] cwd={case.cwd}\n  with:    {shlex.join(with_cmd)}\n"
            f"  without: {shlex.join(without_cmd)}",
            file=sys.stderr,
        )
        # Warm-up (unmeasured): fills the OS page cache, and the plugin cache for "warm".
        clear_cache()
        run_once(
            with_cmd if mode in ("warm", "edited") else without_cmd,
            case.cwd,
            out_dir / "warmup.txt",
            self.args.timeout,
        )
        with_runs, without_runs = [], []
        try:
            for index in range(1, self.args.repeat + 1):
                # with, without, without, with, ...: a machine that speeds up or slows
                # down during the measurement favours neither arm.
                if index % 2:
                    with_runs.append(one("with", with_cmd, index))
                    without_runs.append(one("without", without_cmd, index))
                else:
                    without_runs.append(one("without", without_cmd, index))
                    with_runs.append(one("with", with_cmd, index))
        finally:
            if edited is not None:
                edited.write_bytes(original)
        written = None
        if mode in ("cold", "warm", "edited"):
            written = cache.is_dir() and any(cache.iterdir())
        return Row(case, mode, with_runs, without_runs, written)


# --------------------------------------------------------------------------- cases


def real_cases(args: argparse.Namespace) -> list[Case]:
    names = args.projects or ([QUICK_PROJECT] if args.quick else None)
    projects = corpus.ensure_corpus(
        names, cache=args.cache_dir, max_projects=args.max_projects, python=args.python
    )
    cases = []
    for project in projects:
        stats = corpus.count_python(corpus.python_files(project.root))
        cases.append(
            Case(
                project.label,
                corpus.normalize_name(project.name),
                project.root,
                ["."],
                stats.files,
                stats.lines,
            )
        )
    return cases


def monorepo_case(
    work: pathlib.Path, packages: int, cache: dict[int, monorepo.Manifest]
) -> monorepo.Manifest:
    if packages not in cache:
        cache[packages] = monorepo.generate(work / f"monorepo-{packages}", packages)
    return cache[packages]


def edited_cases(manifest: monorepo.Manifest) -> list[Case]:
    """The 100-package monorepo with its middle package's models.py edited before each
    run, and a cold run of that module's dependants alone, to compare with."""
    package = f"pkg{manifest.packages // 2:03d}"
    module = f"{package}/models.py"
    dotted = re.compile(rf"\b{package}\.models\b|from {package} import models\b")
    dependants = [module] + sorted(
        str(path.relative_to(manifest.root))
        for path in manifest.root.rglob("*.py")
        if dotted.search(path.read_text(encoding="utf-8"))
    )
    lines = sum((manifest.root / f).read_text(encoding="utf-8").count("\n") for f in dependants)
    return [
        Case(
            f"monorepo {manifest.packages} pkgs, {module} edited",
            f"edited-{manifest.packages}",
            manifest.root,
            ["."],
            manifest.modules,
            manifest.lines,
            manifest,
            modes=["warm", "edited"],
            edited_module=module,
        ),
        Case(
            f"its {len(dependants)} dependants alone",
            f"dependants-{manifest.packages}",
            manifest.root,
            dependants,
            len(dependants),
            lines,
            manifest,
            dependants,
            modes=["cold"],
        ),
    ]


def edited_summary(rows: list[Row]) -> list[str]:
    """The edited run's extra time over a warm run of the same tree, against a cold
    run of the dependants alone."""
    edited = [r for r in rows if r.mode == "edited"]
    warm = [r for r in rows if r.mode == "warm" and r.case.edited_module]
    dependants = [r for r in rows if r.case.slug.startswith("dependants-")]
    if not edited or not warm or not dependants:
        return []

    def extra(row: Row) -> float:
        return row.med("with", "wall") - row.med("without", "wall")

    direct = edited[0].med("with", "wall") - warm[0].med("with", "wall")
    return [
        f"one model module edited: {extra(edited[0]):+.2f} s over flake8 alone on the whole "
        f"tree, {extra(edited[0]) - extra(warm[0]):+.2f} s over the warm run ({direct:+.2f} s "
        "between the two rows' runs with the plugin, which shares no baseline's noise); a "
        f"cold run of its {dependants[0].case.files} dependants alone: "
        f"{extra(dependants[0]):+.2f} s over flake8 alone on them"
    ]


def build_cases(args: argparse.Namespace, work: pathlib.Path) -> list[Case]:
    wanted = {"all": ("real", "monorepo", "precommit", "edited")}.get(args.corpus, (args.corpus,))
    packages = (
        [10]
        if args.quick and not args.packages_given
        else [int(p) for p in args.packages.split(",")]
    )
    manifests: dict[int, monorepo.Manifest] = {}
    cases: list[Case] = []
    if "real" in wanted:
        cases += real_cases(args)
    if "monorepo" in wanted:
        for n in packages:
            m = monorepo_case(work, n, manifests)
            cases.append(
                Case(f"monorepo {n} pkgs", f"monorepo-{n}", m.root, ["."], m.modules, m.lines, m)
            )
    if "precommit" in wanted:
        m = monorepo_case(work, 100, manifests)
        files = monorepo.precommit_files(m, 3)
        lines = sum((m.root / f).read_text(encoding="utf-8").count("\n") for f in files)
        cases.append(
            Case(
                "pre-commit (3 files of 100 pkgs)",
                "precommit",
                m.root,
                files,
                len(files),
                lines,
                m,
                files,
            )
        )
    if "edited" in wanted and not (args.quick and args.corpus == "all"):
        cases += edited_cases(monorepo_case(work, 100, manifests))
    return cases


# --------------------------------------------------------------------------- checks


def check_expected(row: Row) -> tuple[str, list[str]]:
    """Compare the first "with" run against the generator's expectations."""
    manifest = row.case.manifest
    assert manifest is not None
    paths = set(row.case.checked_paths) if row.case.checked_paths else None
    expected = collections.Counter()
    category = {}
    for e in manifest.expected:
        if paths is None or e.path in paths:
            expected[(e.path, e.line, e.code)] += 1
            category[(e.path, e.line, e.code)] = e.category
    silent = {(s.path, s.line): s.category for s in manifest.silent}
    found = row.with_runs[0].dbc
    missing = expected - found
    extra = found - expected
    counts_e = collections.Counter(k[2] for k in expected.elements())
    counts_f = collections.Counter(k[2] for k in found.elements())
    codes = sorted(set(counts_e) | set(counts_f) | {"DBC100", "DBC101", "DBC200"})
    summary = ", ".join(f"{c} {counts_f.get(c, 0)}/{counts_e.get(c, 0)}" for c in codes)
    verdict = "OK" if not missing and not extra else "MISMATCH"
    lines = [f"{row.case.corpus} [{row.mode}]: {verdict} (found/expected: {summary})"]
    if missing:
        by_cat = collections.Counter(f"{k[2]} {category[k]}" for k in missing.elements())
        lines.append(
            f"  missed {sum(missing.values())}: "
            + ", ".join(f"{k} x{n}" for k, n in sorted(by_cat.items()))
        )
        lines += [f"    {p}:{ln} {c} ({category[(p, ln, c)]})" for p, ln, c in sorted(missing)[:5]]
    if extra:
        by_cat = collections.Counter(
            f"{k[2]} on {silent.get(k[:2], 'unmarked line')}" for k in extra.elements()
        )
        lines.append(
            f"  unexpected {sum(extra.values())}: "
            + ", ".join(f"{k} x{n}" for k, n in sorted(by_cat.items()))
        )
        lines += [
            f"    {p}:{ln} {c} ({silent.get((p, ln), 'unmarked line')})"
            for p, ln, c in sorted(extra)[:5]
        ]
    return verdict, lines


def check_consistency(rows: list[Row]) -> tuple[list[str], list[str]]:
    """(problems, notes): crashes and disagreements, then facts worth knowing."""
    problems, notes = [], []
    by_case: dict[str, list[Row]] = collections.defaultdict(list)
    for row in rows:
        by_case[row.case.corpus].append(row)
        for run in row.with_runs + row.without_runs:
            if run.status != 0:
                problems.append(
                    f"{row.case.corpus} [{row.mode}]: flake8 exited {run.status}; "
                    f"see {run.output.with_suffix('.err')}"
                )
        reference = row.with_runs[0].dbc
        if any(r.dbc != reference for r in row.with_runs[1:]):
            problems.append(f"{row.case.corpus} [{row.mode}]: DBC findings differ between repeats")
        if any(r.dbc for r in row.without_runs):
            problems.append(
                f"{row.case.corpus} [{row.mode}]: DBC findings in the run WITHOUT the plugin"
            )
        if row.mode == "warm" and row.cache_written is False:
            notes.append(
                f"note: {row.case.corpus}: the plugin wrote nothing to --dbc-cache-dir, "
                "so warm measures the same as cold"
            )
        if row.with_runs[0].other != row.without_runs[0].other:
            diff = (row.with_runs[0].other - row.without_runs[0].other) + (
                row.without_runs[0].other - row.with_runs[0].other
            )
            problems.append(
                f"{row.case.corpus} [{row.mode}]: non-DBC findings differ with the plugin "
                f"({sum(diff.values())} lines)"
            )
    for corpus_name, case_rows in by_case.items():
        if len({frozenset(r.with_runs[0].dbc.items()) for r in case_rows}) > 1:
            problems.append(
                f"{corpus_name}: DBC findings differ between cache modes "
                f"({', '.join(r.mode for r in case_rows)})"
            )
    return problems, notes


# --------------------------------------------------------------------------- table

HEADERS = [
    "corpus",
    "files",
    "lines",
    "mode",
    "wall w/o",
    "wall with",
    "ratio",
    "pairs: median (range)",
    "extra per file",
    "CPU w/o",
    "CPU with",
    "RSS w/o MB",
    "RSS with MB",
    "DBC findings",
    "check",
]


def _per_file(extra_seconds: float, files: int) -> str:
    """The plugin's wall time per checked file: flat scaling keeps it from growing."""
    return f"{extra_seconds / files * 1000:.1f} ms" if files else "-"


def _pairs(ratios: list[float]) -> str:
    if not ratios:
        return "-"
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)"


def table_rows(rows: list[Row], verdicts: dict[int, str]) -> list[list[str]]:
    out = []
    for i, row in enumerate(rows):
        wo, wi = row.med("without", "wall"), row.med("with", "wall")
        out.append(
            [
                row.case.corpus,
                str(row.case.files),
                str(row.case.lines),
                row.mode,
                f"{wo:.2f}s",
                f"{wi:.2f}s",
                f"{wi / wo:.2f}x" if wo else "-",
                _pairs(row.pair_ratios()),
                _per_file(wi - wo, row.case.files),
                f"{row.med('without', 'cpu'):.2f}s",
                f"{row.med('with', 'cpu'):.2f}s",
                f"{row.med('without', 'rss_mb'):.0f}",
                f"{row.med('with', 'rss_mb'):.0f}",
                str(row.findings),
                verdicts.get(i, "-"),
            ]
        )
    real = [r for r in rows if r.case.manifest is None]
    for mode in dict.fromkeys(r.mode for r in real):
        group = [r for r in real if r.mode == mode]
        if len(group) < 2:
            continue
        wo = sum(r.med("without", "wall") for r in group)
        wi = sum(r.med("with", "wall") for r in group)
        out.append(
            [
                f"real corpus, {len(group)} projects (sum)",
                str(sum(r.case.files for r in group)),
                str(sum(r.case.lines for r in group)),
                mode,
                f"{wo:.2f}s",
                f"{wi:.2f}s",
                f"{wi / wo:.2f}x" if wo else "-",
                "-",
                _per_file(wi - wo, sum(r.case.files for r in group)),
                f"{sum(r.med('without', 'cpu') for r in group):.2f}s",
                f"{sum(r.med('with', 'cpu') for r in group):.2f}s",
                f"{max(r.med('without', 'rss_mb') for r in group):.0f}",
                f"{max(r.med('with', 'rss_mb') for r in group):.0f}",
                str(sum(r.findings for r in group)),
                "-",
            ]
        )
    return out


def format_table(cells: list[list[str]], markdown: bool) -> str:
    numeric = [False, True, True, False] + [True] * 9 + [False]
    if markdown:
        lines = [
            "| " + " | ".join(HEADERS) + " |",
            "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(HEADERS)]

    def fmt(row: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric)
        ).rstrip()

    return "\n".join([fmt(HEADERS), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells])


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", choices=("real", "monorepo", "precommit", "edited", "all"), default="all"
    )
    parser.add_argument(
        "--packages",
        default=None,
        help="monorepo sizes, comma-separated (default: 10,30,100; 10 with --quick)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per arm (default: 3)")
    parser.add_argument("--jobs", type=int, default=2, help="flake8 --jobs (default: 2)")
    parser.add_argument(
        "--modes",
        default="cold,warm",
        help="cache modes when the plugin has --dbc-cache-dir: cold,warm,nocache, and database "
        "(monorepo only: --dbc-database-url on a SQLite database created from its models)"
        " (default: cold,warm)",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"only {QUICK_PROJECT} from the real corpus and the 10-package monorepo",
    )
    parser.add_argument(
        "--max-projects", type=int, help="only the first N real projects (smallest first)"
    )
    parser.add_argument("--projects", nargs="+", metavar="NAME", help="only these real projects")
    parser.add_argument(
        "--cache-dir",
        help="corpus cache (default: $DBC_CORPUS_DIR or ~/.cache/flake8-dbconstraints/corpus)",
    )
    parser.add_argument(
        "--work-dir",
        default=str(DEFAULT_WORK_DIR),
        help=f"monorepos, plugin caches and outputs (default: {DEFAULT_WORK_DIR})",
    )
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter that runs flake8 (default: this one)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds before one flake8 run is killed (default: 1800)",
    )
    args = parser.parse_args(argv)
    args.packages_given = args.packages is not None
    if args.packages is None:
        args.packages = "10,30,100"
    if args.repeat < 1 or args.jobs < 1:
        parser.error("--repeat and --jobs must be at least 1")
    return args


CREATE_MONOREPO_DATABASE = """
import importlib, pathlib, sys
sys.path.insert(0, ".")
from sqlalchemy import create_engine
engine = create_engine("sqlite:///" + sys.argv[1])
metadatas = {}
for models in sorted(pathlib.Path(".").glob("pkg*/models.py")):
    module = importlib.import_module(models.parent.name + ".models")
    for value in list(vars(module).values()):
        metadata = getattr(value, "metadata", None)
        if hasattr(metadata, "create_all"):
            metadatas[id(metadata)] = metadata
for metadata in metadatas.values():  # after every package added its tables
    metadata.create_all(engine)
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    bench.preflight()
    cases = build_cases(args, bench.work)
    modes = bench.modes()
    if not bench.cache_supported:
        print(
            "note: the plugin has no --dbc-cache-dir yet: one row per corpus, mode '-'",
            file=sys.stderr,
        )

    rows: list[Row] = []
    for case in cases:
        for mode in case.modes or modes:
            if mode == "database" and case.manifest is None:
                continue  # only the monorepo's models can be created as a database here
            rows.append(bench.measure(case, mode))

    verdicts: dict[int, str] = {}
    report: list[str] = []
    for i, row in enumerate(rows):
        if row.case.manifest is not None:
            verdicts[i], lines = check_expected(row)
            report += lines
    problems, notes = check_consistency(rows)

    command = " ".join(
        ["python benchmarks/run.py", shlex.join(sys.argv[1:] if argv is None else argv)]
    ).strip()
    print(f"\n$ {command}")
    print(
        f"flake8 {bench.versions}; --jobs={args.jobs}, "
        f"median of {args.repeat} alternating runs per arm; "
        f"{os.cpu_count()} CPUs, {platform.platform(terse=True)}"
    )
    print(format_table(table_rows(rows, verdicts), args.markdown))
    print(
        "CPU = user+sys of flake8 and its workers; "
        "RSS = peak of the largest single process (ru_maxrss)."
    )
    print(noise_note(rows))
    for line in edited_summary(rows) + report + problems + notes:
        print(line)
    if not problems:
        print(
            "consistency: OK (no crash; same findings across repeats and cache modes; "
            "non-DBC findings unchanged)"
        )
    return 1 if any("exited" in p for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
