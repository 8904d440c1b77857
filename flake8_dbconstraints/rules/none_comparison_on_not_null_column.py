"""DBC101 none-comparison-on-not-null-column.

What it does: finds ``x.col is None``, ``is not None``, ``== None`` and ``!= None``
where ``x`` is a stored row and ``col`` a NOT NULL column whose stored value can
never read as None.

Why it matters: the comparison is decided by the schema; one branch never runs.

Stays silent on JSON/JSONB (JSON ``null`` reads back as None, SEMANTICS 4), on
custom types whose ``process_result_value`` may return None (SEMANTICS 2), and on
primary keys unless the object provably came from a query (``obj.id is None`` is
the "is it new?" idiom, SEMANTICS 3). A receiver annotated with the union of a
model and other classes (``run: DagRun | DagRunPydantic``) is decided only when each
of those classes declares the field with a type that excludes None (``dag_id: str``).
"""
from __future__ import annotations

import ast
from typing import Iterator

from flake8_dbconstraints import codes
from flake8_dbconstraints.checker import Finding

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
    value = "False" if isinstance(node.ops[0], ALWAYS_FALSE) else "True"
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


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
