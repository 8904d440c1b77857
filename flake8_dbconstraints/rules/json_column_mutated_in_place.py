"""DBC200 json-column-mutated-in-place.

What it does: finds in-place changes to the value of a JSON, JSONB, ARRAY,
PickleType or HSTORE column of a stored row (or of a TypeDecorator over one of them,
or whose ``process_result_value`` decodes JSON): item assignment, augmented item
assignment, ``del obj.col[k]``, and the mutating methods of dict and list, also
nested (``obj.col["a"]["b"] = v``) and through an alias (``d = obj.col``) or a
shallow copy with a nested change (``d = dict(obj.col); d["n"]["x"] = v``).

Why it matters: SQLAlchemy only sees attribute assignment. An in-place change fires
no event, and a later ``obj.col = obj.col`` compares equal to the already-changed
value, so nothing is written (SEMANTICS 6). Teams find out in production.

Stays silent when ``flag_modified(obj, "col")`` follows in the same function, when
the function assigned the attribute a new value before the change (an assignment
under ``if not obj.col:`` or ``if obj.col is None:`` replaces only an empty value,
so the change is reported as lost when the column already holds one), for top-level
changes under a ``Mutable`` wrapper (``MutableDict.as_mutable(JSON)``, or
``MutableDict.associate_with(T)`` in the column's or the type's module), and for
objects not known to be stored (transient and pending objects write their whole
value at their first flush).
"""
from __future__ import annotations

import ast
from typing import Iterator, Optional

from flake8_dbconstraints import codes
from flake8_dbconstraints.checker import ColumnUse, Finding
from flake8_dbconstraints.receivers import is_written
from flake8_dbconstraints.scopes import Scope, target_text

CODE = codes.JSON_COLUMN_MUTATED_IN_PLACE
NAME = CODE.name
NODE_TYPES = (ast.Assign, ast.AugAssign, ast.Delete, ast.Call)
MUTATING_METHODS = frozenset({
    "update", "setdefault", "pop", "popitem", "clear",  # dict
    "append", "extend", "insert", "remove", "sort", "reverse",  # list
})
SHALLOW_COPY_FUNCTIONS = frozenset({"dict", "list", "copy"})
MAX_NESTING = 32


def check(node: ast.AST, scope: Scope, checker) -> Iterator[Finding]:
    if isinstance(node, ast.Assign):
        targets = node.targets
        for target in targets:
            if isinstance(target, ast.Subscript):
                yield from _check_change(target, 1, node, scope, checker)
    elif isinstance(node, ast.AugAssign):
        if isinstance(node.target, ast.Subscript):
            yield from _check_change(node.target, 1, node, scope, checker)
        elif isinstance(node.target, ast.Attribute):
            yield from _check_augmented_attribute(node, scope, checker)
    elif isinstance(node, ast.Delete):
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                yield from _check_change(target, 1, node, scope, checker)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in MUTATING_METHODS
    ):
        yield from _check_change(node.func.value, 0, node, scope, checker)


def _check_change(container: ast.expr, offset: int, node: ast.AST, scope: Scope, checker) -> Iterator[Finding]:
    """``container`` is the subscript target (``offset`` 1) or the object whose method
    is called (``offset`` 0)."""
    subscripts = 0
    for _ in range(MAX_NESTING):
        if not isinstance(container, ast.Subscript):
            break
        subscripts += 1
        container = container.value
    else:
        return
    # ``d[k] = v`` and ``d.update()`` change level 0 (``d`` itself); ``d[a][b] = v``
    # and ``d[a].append()`` change level 1, a container nested in the value.
    level = subscripts - offset
    via = None
    copied = False
    if isinstance(container, ast.Name):
        origin = _alias_origin(container, scope)
        if origin is None:
            return
        via = container.id
        container, copied = origin
    use = _object_column(container, scope, checker)
    if use is None or use.column.facts.mutable is None:
        return
    if copied and level == 0:
        return  # a change to a fresh copy: the stored value is untouched
    tracked = use.column.facts.mutable == "tracked"
    if tracked and level == 0 and not copied:
        return  # the Mutable wrapper sees top-level changes (SEMANTICS 6)
    initializers = _initialized_when_empty(scope, container, node)
    if is_written(scope, container.value, container.attr, node, ignored=initializers):
        return  # a new value may have been assigned first: the change goes into it
    if _flag_modified_follows(scope, use.receiver_text, use.column.key, node):
        return
    yield _finding(node, use, level, via, copied, tracked, bool(initializers))


def _check_augmented_attribute(node: ast.AugAssign, scope: Scope, checker) -> Iterator[Finding]:
    """``obj.col += [v]`` / ``obj.col |= {k: v}`` change the list or dict in place, then
    assign back the same object, which compares equal: lost (SEMANTICS 6). Reported
    only when the container is certain: a list or dict display on the right (a JSON
    number would be replaced, not changed), or an ARRAY column."""
    use = _object_column(node.target, scope, checker)
    if use is None or use.column.facts.mutable != "untracked":
        return
    value = node.value
    is_list = isinstance(node.op, ast.Add) and (
        isinstance(value, (ast.List, ast.ListComp)) or use.column.facts.container == "list"
    )
    is_dict = isinstance(node.op, ast.BitOr) and isinstance(value, (ast.Dict, ast.DictComp))
    if not (is_list or is_dict):
        return
    if is_written(scope, node.target.value, node.target.attr, node):
        return
    if _flag_modified_follows(scope, use.receiver_text, use.column.key, node):
        return
    yield _finding(node, use, 0, None, False, False)


def _object_column(attribute: ast.expr, scope: Scope, checker) -> Optional[ColumnUse]:
    """The column of an ORM object: a Row of column values saves nothing, so a change
    to its value is no lost write."""
    use = checker.column_of(attribute, scope)
    return None if use is None or use.receiver.values else use


def _alias_origin(name: ast.Name, scope: Scope) -> Optional[tuple[ast.Attribute, bool]]:
    """``d = obj.col`` -> (obj.col, False); ``d = dict(obj.col)`` -> (obj.col, True)."""
    owner, bindings = scope.lookup(name.id)
    if owner is None or len(bindings) != 1 or bindings[0].kind != "assign":
        return None
    value = bindings[0].node
    if isinstance(value, ast.Attribute):
        return value, False
    if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords:
        func = value.func
        name_of = func.id if isinstance(func, ast.Name) else (func.attr if isinstance(func, ast.Attribute) else None)
        if name_of in SHALLOW_COPY_FUNCTIONS and isinstance(value.args[0], ast.Attribute):
            return value.args[0], True
    if (
        isinstance(value, ast.Call)
        and not value.args
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "copy"
        and isinstance(value.func.value, ast.Attribute)
    ):
        return value.func.value, True
    return None


def _initialized_when_empty(scope: Scope, column: ast.Attribute, node: ast.AST) -> frozenset:
    """Lines of ``if not obj.col: obj.col = {}`` (or ``is None`` / ``== None``, without
    ``else``) that end before ``node`` in the function's own statements: such an
    assignment replaces only an empty value, so a value the stored row already holds
    is still changed in place."""
    text = target_text(column)
    lines: set[int] = set()
    body = getattr(scope.node, "body", None)
    statements = list(body) if isinstance(body, list) else []  # a lambda's body is an expression
    while statements:
        statement = statements.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if (
            isinstance(statement, ast.If)
            and not statement.orelse
            and (statement.end_lineno or statement.lineno) < node.lineno
            and target_text(_emptiness_tested(statement.test)) == text
        ):
            lines.update(
                child.lineno for child in statement.body
                if isinstance(child, ast.Assign) and [target_text(t) for t in child.targets] == [text]
            )
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements.extend(getattr(statement, field, ()))
    return frozenset(lines)


def _emptiness_tested(test: ast.expr) -> Optional[ast.expr]:
    """``x`` of ``not x``, ``x is None`` or ``x == None``, and of ``not isinstance(x,
    dict)`` or ``isinstance(x, dict) is False``: a dict already stored fails them all."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _isinstance_subject(test.operand) or test.operand
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.Eq))
        and isinstance(test.comparators[0], ast.Constant)
    ):
        if test.comparators[0].value is None:
            return test.left
        if test.comparators[0].value is False:
            return _isinstance_subject(test.left)
    return None


def _isinstance_subject(test: ast.expr) -> Optional[ast.expr]:
    """``x`` of ``isinstance(x, T)``."""
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "isinstance"
        and len(test.args) == 2
    ):
        return test.args[0]
    return None


def _flag_modified_follows(scope: Scope, receiver: str, key: str, node: ast.AST) -> bool:
    """Is there a ``flag_modified(receiver, "key")`` after ``node`` in the function, or
    anywhere in a loop that also holds ``node``?"""
    function = _enclosing_function(scope)
    calls = _flag_modified_calls(function)
    position = (node.lineno, node.col_offset)
    for call, loops in calls:
        target = target_text(call.args[0]) if call.args else None
        attr = call.args[1] if len(call.args) > 1 else None
        if target != receiver:
            continue
        if isinstance(attr, ast.Constant) and attr.value != key:
            continue
        if (call.lineno, call.col_offset) > position:
            return True
        if any(_contains(loop, node) for loop in loops):
            return True
    return False


def _enclosing_function(scope: Scope) -> ast.AST:
    current = scope
    while current.parent is not None and current.function is None:
        current = current.parent
    return current.node


_CALLS_CACHE: dict[int, tuple[ast.AST, list]] = {}


def _flag_modified_calls(function: ast.AST) -> list:
    cached = _CALLS_CACHE.get(id(function))
    if cached is not None and cached[0] is function:
        return cached[1]
    found = []
    stack: list[tuple[ast.AST, tuple]] = [(function, ())]
    while stack:
        current, loops = stack.pop()
        if isinstance(current, ast.Call):
            func = current.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "flag_modified":
                found.append((current, loops))
        inner = loops + (current,) if isinstance(current, (ast.For, ast.AsyncFor, ast.While)) else loops
        stack.extend((child, inner) for child in ast.iter_child_nodes(current))
    if len(_CALLS_CACHE) > 256:
        _CALLS_CACHE.clear()
    _CALLS_CACHE[id(function)] = (function, found)
    return found


def _contains(outer: ast.AST, inner: ast.AST) -> bool:
    return (outer.lineno, outer.col_offset) <= (inner.lineno, inner.col_offset) and (
        inner.end_lineno or inner.lineno
    ) <= (outer.end_lineno or outer.lineno)


def _finding(node: ast.AST, use: ColumnUse, level: int, via: Optional[str], copied: bool,
             tracked: bool, initialized_when_empty: bool = False) -> Finding:
    column = use.column
    facts = column.facts
    nested = level > 0
    change = "nested in-place change" if nested else "in-place change"
    if via and copied:
        change += f" through the shallow copy '{via}'"
    elif via:
        change += f" through '{via}'"
    wrapper = "MutableList" if facts.container == "list" else "MutableDict"
    if tracked:
        reason = f"its Mutable wrapper tracks only top-level changes of this {facts.label} column"
        remedy = "or assign a new value built without touching the old one"
    else:
        reason = f"it is a plain {facts.label} column"
        remedy = (
            "reassign a new value, or declare it "
            f"{wrapper}.as_mutable({facts.label})"
            if not nested and not copied
            else "or assign a new value built without touching the old one"
        )
    message = CODE.format(
        change=change,
        model=use.model.name,
        attr=column.key,
        condition=" when it already holds a value" if initialized_when_empty else "",
        reason=reason,
        declared_at=column.declared_at,
        untracked="nested changes" if nested else "in-place changes",
        receiver=use.receiver_text,
        remedy=remedy,
    )
    return Finding(node.lineno, node.col_offset, message)
