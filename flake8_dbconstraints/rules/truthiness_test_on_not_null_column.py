"""DBC100 truthiness-test-on-not-null-column.

What it does: finds truthiness tests on a column of a stored row that is NOT NULL
and whose type has no falsy value (DateTime, Date, Time, Uuid, Enum of a plain enum
class): ``if visit.started_at:``, ``elif``, ``while``, ``not visit.started_at``,
ternaries, comprehension filters, and ``visit.started_at or default``.

Why it matters: for a stored row the test always passes, so the else branch (or the
``default``) never runs. It hides as the one missing branch in coverage reports.

Where the always-truthy value sits decides what is dead (SEMANTICS 5): every
operand of an ``or`` but the last makes the rest of the ``or`` dead; the last
operand decides a test only (``if a or visit.started_at:``), never a value
(``y = a or visit.started_at``); an ``and`` operand makes nothing dead, since the
else branch is still reached through the other operands. What would be dead is
not, for an object not known to come from a query, when it reads something of the
same object other than a column (``visit.patient_id or visit.patient.id``): that
fallback is written for objects not flushed yet.
"""
from __future__ import annotations

import ast
from typing import Iterator, Sequence

from flake8_dbconstraints import codes
from flake8_dbconstraints.checker import ColumnUse, Finding

CODE = codes.TRUTHINESS_TEST_ON_NOT_NULL_COLUMN
NAME = CODE.name
MATCH_CASE = getattr(ast, "match_case", None)  # Python 3.10+
NODE_TYPES = (ast.If, ast.While, ast.IfExp, ast.comprehension, ast.UnaryOp, ast.BoolOp) + (
    (MATCH_CASE,) if MATCH_CASE is not None else ()
)
MAX_NESTING = 32


def check(node: ast.AST, scope, checker) -> Iterator[Finding]:
    if isinstance(node, ast.If):
        yield from _report_tests(node.test, scope, checker, codes.CONSEQUENCE_IF, node.orelse)
    elif isinstance(node, ast.While):
        yield from _report_tests(node.test, scope, checker, codes.CONSEQUENCE_WHILE)
    elif isinstance(node, ast.IfExp):
        yield from _report_tests(node.test, scope, checker, codes.CONSEQUENCE_TERNARY, [node.orelse])
    elif isinstance(node, ast.comprehension):
        for condition in node.ifs:
            yield from _report_tests(condition, scope, checker, codes.CONSEQUENCE_FILTER)
    elif MATCH_CASE is not None and isinstance(node, MATCH_CASE):
        yield from _report_tests(node.guard, scope, checker, codes.CONSEQUENCE_GUARD)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        for attribute in _deciding_attributes(node.operand):
            use = _always_truthy(attribute, scope, checker)
            if use is not None:
                yield _finding(node, use, "False", codes.CONSEQUENCE_NOT, checker)
                return
    elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        for index, operand in enumerate(node.values[:-1]):
            for attribute in _deciding_attributes(operand):
                use = _always_truthy(attribute, scope, checker)
                if use is not None and not checker.falls_back_to_object(use, node.values[index + 1:]):
                    yield _finding(attribute, use, "truthy", codes.CONSEQUENCE_OR, checker)


def _report_tests(test: ast.expr, scope, checker, consequence: str,
                  fallback: Sequence[ast.AST] = ()) -> Iterator[Finding]:
    """``fallback``: what runs when the test fails (an ``else``), if anything."""
    for attribute in _deciding_attributes(test):
        use = _always_truthy(attribute, scope, checker)
        if use is not None and not checker.falls_back_to_object(use, fallback):
            yield _finding(attribute, use, "truthy", consequence, checker)


def _deciding_attributes(test: ast.expr) -> Iterator[ast.Attribute]:
    """Attributes whose truthiness alone decides ``test``: the test itself, or the
    last operand of an ``or`` (earlier operands are reported by the ``or`` check;
    ``not`` is reported by the ``not`` check)."""
    for _ in range(MAX_NESTING):
        if isinstance(test, ast.Attribute):
            yield test
            return
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
            test = test.values[-1]
            continue
        return


def _always_truthy(attribute: ast.Attribute, scope, checker):
    use = checker.column_use(attribute, scope)
    if use is None or not use.never_null or not use.column.facts.always_truthy:
        return None
    return use


def _finding(node: ast.expr, use: ColumnUse, value: str, consequence: str, checker) -> Finding:
    column = use.column
    message = CODE.format(
        expr=checker.unparse(node),
        value=value,
        model=use.model.name,
        attr=column.key,
        type=column.facts.label,
        declared_at=column.declared_at,
        consequence=consequence,
    )
    return Finding(node.lineno, node.col_offset, message)
