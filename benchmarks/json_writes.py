"""Candidate in-place JSON writes in the real corpus, found without the plugin.

For DBC200's recall (docs/real-world.md, "DBC200 across the corpus"): per project, the
names of columns declared with a JSON-like type (by plain ``ast`` and text, never the
plugin's reader), then every item assignment, augmented assignment, ``del`` and
mutating dict/list method call on an attribute of such a name, outside migrations.
Each printed site is then read by a person: is it a lost write on a stored row?

    python benchmarks/json_writes.py                 # every project
    python benchmarks/json_writes.py indico ckan     # only these
    python benchmarks/json_writes.py --with-tests    # test modules too
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


def scan(project: corpus.Project, with_tests: bool) -> tuple[set[str], list[tuple[str, int, str]]]:
    trees = {}
    for path in corpus.python_files(project.root):
        relative = str(path.relative_to(project.root))
        if "migration" in relative or "alembic" in relative:
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", help="pinned project names (default: all)")
    parser.add_argument("--with-tests", action="store_true", help="scan test modules too")
    parser.add_argument("--cache-dir", help="corpus cache (default: $DBC_CORPUS_DIR or ~/.cache/...)")
    args = parser.parse_args(argv)
    total = 0
    for project in corpus.ensure_corpus(args.projects or None, cache=args.cache_dir):
        names, sites = scan(project, args.with_tests)
        total += len(sites)
        print(f"== {project.label}: {len(names)} JSON-like column names, {len(sites)} candidate sites")
        for relative, line, text in sites:
            print(f"   {relative}:{line}  {text}")
    print(f"{total} candidate sites")
    return 0


if __name__ == "__main__":
    sys.exit(main())
