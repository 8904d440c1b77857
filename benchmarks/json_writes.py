"""Candidate in-place JSON writes in the real corpus, found without the plugin.

For DBC200's recall (docs/real-world.md, "DBC200 across the corpus"): per project, the
names of columns declared with a JSON-like type (by plain ``ast`` and text, never the
plugin's reader), then every item assignment, augmented assignment, ``del`` and
mutating dict/list method call on an attribute of such a name, outside migrations.
Each printed site is then read by a person: is it a lost write on a stored row?

    python benchmarks/json_writes.py                 # every project
    python benchmarks/json_writes.py indico ckan     # only these
    python benchmarks/json_writes.py --with-tests    # test modules too
    python benchmarks/json_writes.py --mutants       # recall on protected writes
    python benchmarks/json_writes.py --unwrapped     # recall on tracked columns, untracked
    python benchmarks/json_writes.py --mutants --folder /tmp/apps   # unpacked wheels in /tmp/apps

``--mutants`` measures recall on writes the projects protect themselves: for every
``flag_modified(obj, "col")`` statement that follows in-place changes of ``obj.col``
in the same function, the function's module is checked once more with that one
statement replaced by ``pass``, which makes those changes lost writes (SEMANTICS 6),
and the plugin's DBC200 findings on them are counted. The mutant is handed to the
plugin as flake8 hands a file (tree and lines); nothing on disk changes.

``--unwrapped`` measures recall on the writes of columns the projects declare
tracked: a copy of each project's Python files is made in a temporary folder with
every ``X.as_mutable(T)`` replaced by ``T`` (``MutableDict.as_mutable(JSONB)``
becomes a plain ``JSONB``), and the plugin is run on the copy's modules that change
such a column's name in place. Each printed site is then read by a person: on a
stored row whose value is not replaced first, the change is now a lost write.
"""
from __future__ import annotations

import argparse
import ast
import pathlib
import sys
from typing import Iterator, Sequence

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

JSON_WORDS = ("JSON", "ARRAY", "PickleType", "HSTORE", "MutableDict", "MutableList")
CONTAINER_ANNOTATIONS = ("Mapped[dict", "Mapped[Dict", "Mapped[list", "Mapped[List",
                         "Mapped[Optional[dict", "Mapped[Optional[Dict", "Mapped[Optional[list",
                         "Mapped[Optional[List")
NOT_COLUMNS = ("relationship(", "relation(", "association_proxy", "backref")
MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "append", "extend", "insert",
                      "remove", "sort", "reverse"})
# Objects that share names with JSON columns and are never rows: not worth a reader's time.
NEVER_ROWS = ("app.config", ".config[", ".config.", "proto", "cookies")


def _text(node: ast.AST | None) -> str:
    return ast.unparse(node) if node is not None else ""


def json_column_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, text = statement.targets[0], _text(statement.value)
                elif isinstance(statement, ast.AnnAssign):
                    target, text = statement.target, f"{_text(statement.value)} {_text(statement.annotation)}"
                else:
                    continue
                if not isinstance(target, ast.Name) or any(word in text for word in NOT_COLUMNS):
                    continue
                declared = "Column(" in text or "mapped_column(" in text or "Mapped[" in text
                if declared and any(word in text for word in JSON_WORDS) or any(
                    prefix in text for prefix in CONTAINER_ANNOTATIONS
                ):
                    names.add(target.id)
        elif (
            isinstance(node, ast.Call)
            and _text(node.func).endswith("Column")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and any(word in _text(node) for word in JSON_WORDS)
        ):
            names.add(node.args[0].value)
    return names


def _changed_attribute(target: ast.expr) -> ast.Attribute | None:
    base = target
    while isinstance(base, ast.Subscript):
        base = base.value
    return base if isinstance(base, ast.Attribute) and base is not target else None


def mutation_sites(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.Attribute]]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.Delete)):
            for target in node.targets:
                attribute = _changed_attribute(target)
                if attribute is not None:
                    yield node, attribute
        elif isinstance(node, ast.AugAssign):
            attribute = node.target if isinstance(node.target, ast.Attribute) else _changed_attribute(node.target)
            if attribute is not None:
                yield node, attribute
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            base = node.func.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Attribute):
                yield node, base


def _in_migrations(relative: str) -> bool:
    return "migration" in relative or "alembic" in relative


def _dbc200_lines(tree: ast.AST, relative: str, lines: list[str]) -> set[int]:
    """Lines of the plugin's DBC200 findings on a module, handed over as flake8 does."""
    from flake8_dbconstraints.plugin import DBConstraintsChecker
    from flake8_dbconstraints.settings import build_settings

    checker = DBConstraintsChecker(tree, relative, lines)
    checker.settings = build_settings(no_cache=True)
    return {line for line, _col, message, _type in checker.run() if message.startswith("DBC200")}


def scan(project: corpus.Project, with_tests: bool) -> tuple[set[str], list[tuple[str, int, str]]]:
    trees = {}
    for path in corpus.python_files(project.root):
        relative = str(path.relative_to(project.root))
        if _in_migrations(relative):
            continue
        if not with_tests and ("/tests/" in relative or relative.endswith("_test.py")):
            continue
        try:
            trees[relative] = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
    names: set[str] = set()
    for tree in trees.values():
        names |= json_column_names(tree)
    sites = []
    for relative, tree in sorted(trees.items()):
        for node, attribute in mutation_sites(tree):
            text = _text(node)
            if attribute.attr in names and not any(word in text for word in NEVER_ROWS):
                sites.append((relative, node.lineno, text[:110]))
    return names, sorted(sites)


def _functions(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def protected_writes(tree: ast.AST) -> Iterator[tuple[ast.stmt, list[int]]]:
    """(the ``flag_modified(obj, "col")`` statement, lines of the in-place changes of
    ``obj.col`` before it in the same function)."""
    for function in _functions(tree):
        for statement in ast.walk(function):
            call = statement.value if isinstance(statement, ast.Expr) else None
            if not (isinstance(call, ast.Call) and _text(call.func).rpartition(".")[2] == "flag_modified"
                    and len(call.args) == 2 and isinstance(call.args[1], ast.Constant)):
                continue
            changed = f"{_text(call.args[0])}.{call.args[1].value}"
            lines = sorted({node.lineno for node, attribute in mutation_sites(function)
                            if _text(attribute) == changed and node.lineno < statement.lineno})
            if lines:
                yield statement, lines


def mutants(project: corpus.Project) -> list[tuple[str, int, list[int], list[int]]]:
    """Per protected write: (file, flag_modified line, change lines, lines reported)."""
    import os

    from flake8_dbconstraints.project import clear_caches

    os.chdir(project.root)
    clear_caches()
    results = []
    for path in corpus.python_files(project.root):
        relative = str(path.relative_to(project.root))
        if _in_migrations(relative) or "/tests/" in relative:
            continue
        source = path.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for statement, lines in protected_writes(tree):
            mutated = source.splitlines(keepends=True)
            first = mutated[statement.lineno - 1]
            mutated[statement.lineno - 1] = first[: len(first) - len(first.lstrip())] + "pass\n"
            for extra in range(statement.lineno, statement.end_lineno or statement.lineno):
                mutated[extra] = "\n"
            reported = sorted(_dbc200_lines(ast.parse("".join(mutated)), relative, mutated).intersection(lines))
            results.append((relative, statement.lineno, lines, reported))
    return results


def _unwrap_mutable(source: bytes) -> tuple[bytes, set[str]]:
    """``source`` with every ``X.as_mutable(T)`` replaced by ``T``, and the names of the
    columns declared with one (class attributes, ``Column("name", ...)``)."""
    tree = ast.parse(source)
    calls = [node for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "as_mutable" and len(node.args) == 1 and not node.keywords]
    # Module-level aliases (mlflow: ``MutableJSON = MutableDict.as_mutable(JSON)``).
    aliases = {target.id for node in tree.body if isinstance(node, ast.Assign)
               and any(call in calls for call in ast.walk(node.value))
               for target in node.targets if isinstance(target, ast.Name)}

    def unwrapped_here(value: ast.AST) -> bool:
        return any(item in calls or (isinstance(item, ast.Name) and item.id in aliases) for item in ast.walk(value))

    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and unwrapped_here(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
        elif (isinstance(node, ast.Call) and _text(node.func).endswith("Column") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and unwrapped_here(node)):
            names.add(node.args[0].value)
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + col  # ast columns are UTF-8 byte offsets

    edits = []
    for call in calls:
        inner = call.args[0]
        edits.append((offset(call.lineno, call.col_offset), offset(call.end_lineno, call.end_col_offset),
                      source[offset(inner.lineno, inner.col_offset):offset(inner.end_lineno, inner.end_col_offset)]))
    result = source
    # Outermost first would shift inner offsets: apply from the end, skipping nested calls.
    for start, end, replacement in sorted(edits, reverse=True):
        if any(other_start <= start and end <= other_end and (other_start, other_end) != (start, end)
               for other_start, other_end, _ in edits):
            continue
        result = result[:start] + replacement + result[end:]
    return result, names


def unwrapped(project: corpus.Project) -> list[tuple[str, int, str, bool]]:
    """Per in-place change of an unwrapped column's name: (file, line, text, reported)."""
    import os
    import tempfile

    from flake8_dbconstraints.project import clear_caches

    results = []
    with tempfile.TemporaryDirectory(prefix="dbc-unwrapped-") as copy:
        names: set[str] = set()
        sources = {}
        for path in corpus.python_files(project.root):
            relative = str(path.relative_to(project.root))
            source = path.read_bytes()
            try:
                source, unwrapped_names = _unwrap_mutable(source)
            except (SyntaxError, ValueError):
                pass
            else:
                names |= unwrapped_names
            target = pathlib.Path(copy, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source)
            if not (_in_migrations(relative) or "/tests/" in relative):
                sources[relative] = source
        here = os.getcwd()
        os.chdir(copy)
        try:
            clear_caches()
            for relative, source in sorted(sources.items()):
                try:
                    tree = ast.parse(source)
                except (SyntaxError, ValueError):
                    continue
                sites = [(node, attribute) for node, attribute in mutation_sites(tree)
                         if attribute.attr in names and not any(word in _text(node) for word in NEVER_ROWS)]
                if not sites:
                    continue
                reported = _dbc200_lines(tree, relative, source.decode("utf-8", "replace").splitlines(keepends=True))
                for node, _attribute in sites:
                    results.append((relative, node.lineno, _text(node)[:100], node.lineno in reported))
        finally:
            clear_caches()
            os.chdir(here)
    return sorted(set(results))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", help="pinned project names (default: all)")
    parser.add_argument("--with-tests", action="store_true", help="scan test modules too")
    parser.add_argument("--cache-dir", help="corpus cache (default: $DBC_CORPUS_DIR or ~/.cache/...)")
    parser.add_argument("--mutants", action="store_true",
                        help="recall on protected writes with their flag_modified removed")
    parser.add_argument("--unwrapped", action="store_true",
                        help="recall on tracked columns with their MutableDict/MutableList removed")
    parser.add_argument("--folder",
                        help="read each subfolder of FOLDER (an unpacked wheel) as a project, not the pinned corpus")
    args = parser.parse_args(argv)
    if args.folder:
        projects = [corpus.Project(path.name, "(unpinned)", path.resolve())
                    for path in sorted(pathlib.Path(args.folder).iterdir()) if path.is_dir()]
    else:
        projects = corpus.ensure_corpus(args.projects or None, cache=args.cache_dir)
    if args.unwrapped:
        sites = found = 0
        for project in projects:
            for relative, line, text, reported in unwrapped(project):
                sites += 1
                found += reported
                print(f"   {project.label} {relative}:{line} {'reported' if reported else 'silent  '}  {text}")
        print(f"{found} of {sites} sites reported once the columns are untracked")
        return 0
    if args.mutants:
        changes = found = 0
        for project in projects:
            for relative, line, lines, reported in mutants(project):
                changes += len(lines)
                found += len(reported)
                print(f"   {project.label} {relative}:{line} without flag_modified: changes at {lines},"
                      f" reported {reported}")
        print(f"{found} of {changes} in-place changes reported once their flag_modified is removed")
        return 0
    total = 0
    for project in projects:
        names, sites = scan(project, args.with_tests)
        total += len(sites)
        print(f"== {project.label}: {len(names)} JSON-like column names, {len(sites)} candidate sites")
        for relative, line, text in sites:
            print(f"   {relative}:{line}  {text}")
    print(f"{total} candidate sites")
    return 0


if __name__ == "__main__":
    sys.exit(main())
