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

Stays silent when the same function marks the column changed: ``flag_modified(obj,
"col")``, or for a ``Mutable`` wrapper a tracked top-level change or
``obj.col.changed()``, after the change or before it with no ``commit()`` or
``flush()`` call in between (the whole value is then written, nested changes too); when
it passes the changed value to an UPDATE of its own after the change
(``query.update({"col": obj.col})``, ``update(M).values(col=obj.col)``); when
the function assigned the attribute a new value before the change, itself or
through a project function it passed the object to (an assignment under ``if not
obj.col:`` or ``if obj.col is None:`` replaces only an empty value, so the change
is reported as lost when the column already holds one), for top-level
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
from flake8_dbconstraints.scopes import Scope, target_text, walk

CODE = codes.JSON_COLUMN_MUTATED_IN_PLACE
NAME = CODE.name
NODE_TYPES = (ast.Assign, ast.AugAssign, ast.Delete, ast.Call)
MUTATING_METHODS = frozenset({
    "update", "setdefault", "pop", "popitem", "clear",  # dict
    "append", "extend", "insert", "remove", "sort", "reverse",  # list
})
# What a Mutable wrapper tracks (MutableDict, MutableList, MutableSet): a top-level
# call of one of these marks the column changed, as ``changed()`` itself does.
TRACKED_METHODS = MUTATING_METHODS | frozenset({
    "changed", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update",
})
FLUSHING_METHODS = frozenset({"commit", "flush"})
# Calls that write values they are given in an UPDATE of their own: ``query.update({
# "col": obj.col})``, ``update(M).values(col=obj.col)``, ``session.execute(update(M),
# [{"id": 1, "col": obj.col}])``, ``bulk_update_mappings(M, [...])``.
EXPLICIT_WRITE_METHODS = frozenset({"update", "values", "execute", "exec", "bulk_update_mappings"})
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
    if checker.writes.may_be_written(scope, container.value, container.attr, node, use.model,
                                     ignored=initializers):
        return  # a new value may have been assigned first: the change goes into it
    if _marked_changed(scope, use, node, tracked) or checker.writes.handed_on_to_mark(
            scope, container.value, container.attr, node, use.model):
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
    if checker.writes.may_be_written(scope, node.target.value, node.target.attr, node, use.model):
        return
    if _marked_changed(scope, use, node, False) or checker.writes.handed_on_to_mark(
            scope, node.target.value, node.target.attr, node, use.model):
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


def _marked_changed(scope: Scope, use: ColumnUse, node: ast.AST, tracked: bool) -> bool:
    """Does the function mark the column changed, so that the flush writes its whole
    current value: ``flag_modified(receiver, "key")``, or under a Mutable wrapper
    (``tracked``) a top-level tracked change or ``.changed()`` of the column or of a
    plain alias of it? One after ``node`` counts; one before it counts unless a
    ``commit()`` or ``flush()`` call lies between (the flag is spent on that flush).
    A flush the code does not spell (a query's autoflush) is not seen: silent then."""
    column_text = f"{use.receiver_text}.{use.column.key}"
    position = (node.lineno, node.col_offset)
    events = _column_events(scope.function_scope.node)
    flushes = [at for kind, at, _, _ in events if kind == "flush"]
    for kind, at, target, key in events:
        if kind == "written":
            # an UPDATE given the value writes it as it is then: only a later one saves the change
            if at > position and _same_value(target, column_text, scope):
                return True
            continue
        if kind == "flag":
            marks = target == use.receiver_text and key in (None, use.column.key)
        else:
            marks = kind == "tracked" and tracked and _same_value(target, column_text, scope)
        if marks and (at > position or not any(at < flush < position for flush in flushes)):
            return True
    return False


def _same_value(target: Optional[str], column_text: str, scope: Scope) -> bool:
    """Is ``target`` the column's value itself: ``obj.col``, or a name bound once to it?"""
    if target == column_text:
        return True
    if target is None or "." in target:
        return False
    origin = _alias_origin(ast.Name(id=target), scope)
    return origin is not None and not origin[1] and target_text(origin[0]) == column_text


_EVENTS_CACHE: dict[int, tuple[ast.AST, list]] = {}


def _column_events(function: ast.AST) -> list:
    """(kind, position, target text, key) of what may mark a column changed, spend
    the mark or write the value, in the function: ``flag`` (``flag_modified(target,
    "key")``, key None when not a literal), ``tracked`` (a top-level change or
    ``.changed()`` of ``target``, which a Mutable wrapper tracks), ``flush``
    (``.commit()``, ``.flush()``) and ``written`` (``target`` named in the arguments of
    a call that writes them, ``EXPLICIT_WRITE_METHODS``)."""
    cached = _EVENTS_CACHE.get(id(function))
    if cached is not None and cached[0] is function:
        return cached[1]
    events = []
    for current in walk(function):
        at = (getattr(current, "lineno", 0), getattr(current, "col_offset", 0))
        if isinstance(current, ast.Call):
            func = current.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "flag_modified" and current.args:
                key = current.args[1] if len(current.args) > 1 else None
                literal = key.value if isinstance(key, ast.Constant) else None
                events.append(("flag", at, target_text(current.args[0]), literal))
            elif isinstance(func, ast.Attribute) and name in FLUSHING_METHODS:
                events.append(("flush", at, None, None))
            elif isinstance(func, ast.Attribute) and name in TRACKED_METHODS:
                events.append(("tracked", at, target_text(func.value), None))
            if name in EXPLICIT_WRITE_METHODS:
                arguments = [*current.args, *(keyword.value for keyword in current.keywords)]
                events.extend(("written", at, target_text(value), None)
                              for argument in arguments for value in walk(argument)
                              if isinstance(value, (ast.Attribute, ast.Name)))
        elif isinstance(current, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = current.targets if isinstance(current, (ast.Assign, ast.Delete)) else [current.target]
            events.extend(("tracked", at, target_text(target.value), None)
                          for target in targets if isinstance(target, ast.Subscript))
    if len(_EVENTS_CACHE) > 256:
        _EVENTS_CACHE.clear()
    _EVENTS_CACHE[id(function)] = (function, events)
    return events


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
