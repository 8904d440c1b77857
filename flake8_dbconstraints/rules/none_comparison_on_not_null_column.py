"""DBC101 none-comparison-on-not-null-column.

What it does: finds ``x.col is None``, ``is not None``, ``== None`` and ``!= None``
where ``x`` is a stored row and ``col`` a NOT NULL column whose stored value can
never read as None.

Why it matters: the comparison is decided by the schema; one branch never runs.

Stays silent on JSON/JSONB (JSON ``null`` reads back as None, SEMANTICS 4), on
custom types whose ``process_result_value`` may return None (SEMANTICS 2), and on
primary keys unless the object provably came from a query (``obj.id is None`` is
the "is it new?" idiom, SEMANTICS 3). On such objects it also stays silent on an
``if`` or ternary whose branch for None reads something of the same object other
than a column (``if visit.patient_id is None: ... visit.patient.id``): a foreign
key set through its relationship reads None until the first flush. A receiver
annotated with the union of a model and other classes (``run: DagRun |
DagRunPydantic``) is decided only when each of those classes declares the field
with a type that excludes None (``dag_id: str``).
"""
from __future__ import annotations

import ast
from typing import Iterator, Optional

from flake8_dbconstraints import codes
from flake8_dbconstraints.checker import Finding
from flake8_dbconstraints.scopes import walk

CODE = codes.NONE_COMPARISON_ON_NOT_NULL_COLUMN
NAME = CODE.name
NODE_TYPES = (ast.Compare,)
ALWAYS_FALSE = (ast.Is, ast.Eq)
ALWAYS_TRUE = (ast.IsNot, ast.NotEq)


def check(node: ast.Compare, scope, checker) -> Iterator[Finding]:
    if len(node.ops) != 1 or not isinstance(node.ops[0], ALWAYS_FALSE + ALWAYS_TRUE):
        return
    left, right = node.left, node.comparators[0]
    if _is_none(right):
        attribute = left
    elif _is_none(left):
        attribute = right
    else:
        return
    use = checker.column_use(attribute, scope, none_test=True)
    if use is None:
        return
    column = use.column
    if not use.never_null or column.facts.may_read_none:
        return
    always_false = isinstance(node.ops[0], ALWAYS_FALSE)
    branches = _branches(node, checker.statement)
    # ``if visit.patient_id is None: ... visit.patient.id``: written for new objects
    if branches is not None and checker.falls_back_to_object(use, branches[0] if always_false else branches[1]):
        return
    value = "False" if always_false else "True"
    yield Finding(
        node.lineno,
        node.col_offset,
        CODE.format(
            expr=checker.unparse(node),
            value=value,
            model=use.model.name,
            attr=column.key,
            type=column.declared_type,
            declared_at=column.declared_at,
            also="".join(
                f" and {field.member}.{field.key} is declared {field.annotation} ({field.declared_at})"
                for field in use.alternatives
            ),
            also_object="".join(f" or an instance of {field.member}" for field in use.alternatives),
        ),
    )


def _branches(test: ast.Compare, statement: ast.AST) -> Optional[tuple[list, list]]:
    """(body, else) of the ``if`` statement or ternary whose whole test is ``test``.
    Searched only when a finding is about to be made."""
    if isinstance(statement, ast.If) and statement.test is test:
        return statement.body, statement.orelse
    for owner in walk(statement):
        if isinstance(owner, ast.IfExp) and owner.test is test:
            return [owner.body], [owner.orelse]
    return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
