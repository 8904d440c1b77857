"""One pass over the checked file: scopes are tracked, nodes handed to the rules.

The walk is iterative, so deeply nested code cannot exhaust the interpreter's stack;
each rule call is guarded, so one unreadable guard costs one finding, not the run.
"""
from __future__ import annotations

import ast
import bisect
import dataclasses
import functools
import re
from typing import Any, Iterator, Optional, Sequence

from flake8_dbconstraints.class_fields import never_none_field
from flake8_dbconstraints.column_types import import_python_type
from flake8_dbconstraints.database import Schema, reflect
from flake8_dbconstraints.file_models import FileModels
from flake8_dbconstraints.names import External
from flake8_dbconstraints.receivers import Receiver, ReceiverResolver
from flake8_dbconstraints.row_writes import RowWrites
from flake8_dbconstraints.registry import ColumnInfo, ModelInfo
from flake8_dbconstraints.safety import swallow
from flake8_dbconstraints.scopes import COMPREHENSIONS, Scope, child_fields, walk
from flake8_dbconstraints.settings import Settings


@dataclasses.dataclass(frozen=True)
class Finding:
    line: int
    col: int
    message: str


@dataclasses.dataclass(frozen=True)
class ColumnUse:
    """``receiver.column`` where the receiver is a known row of a model."""

    model: ModelInfo
    column: ColumnInfo
    receiver: Receiver
    receiver_text: str
    # What the receiver's other possible classes declare (``run: DagRun | DagRunPydantic``).
    alternatives: tuple = ()

    @property
    def never_null(self) -> bool:
        """NOT NULL holds for this read. A row in normal use is trusted for every
        column but its primary key: a new object reads None there until its first
        flush, so ``obj.id is None`` and ``not obj.id`` are the "is it new?" test."""
        return self.column.not_null and (not self.column.primary_key or self.receiver.state == "loaded")


# Text that any guard or in-place change must contain: a None comparison, an
# attribute chain standing alone as a test, an ``or``, a subscript assignment,
# ``del`` or a mutating method call. Statements without such text are not walked:
# walking every expression node costs as much as pyflakes' whole pass. Each pattern
# starts with literal text so that the regex engine scans fast (measured on indico:
# 0.4 s for all four against 5.3 s for one combined pattern).
CANDIDATE_PATTERNS = (
    re.compile(r"None"),  # narrowed by NONE_BEFORE / NONE_AFTER below
    re.compile(r"(?:if|while|not) +\(?[A-Za-z_][\w.]*\.\w+ *(?:[:)\]},#]|or\b|and\b|else\b|for\b|if\b|$)", re.M),
    re.compile(r" or\b"),
    re.compile(r"[+|]="),  # obj.col += [v], obj.col |= {k: v}
    re.compile(r"\] *[-+*/%&|^@<>]{0,2}=(?!=)|del |\.(?:update|setdefault|pop|popitem|clear|append|extend|insert|remove"
               r"|sort|reverse)\("),
)
NONE_BEFORE = re.compile(r"(?:\bis(?: +not)?|[!=]=) *$")
NONE_AFTER = re.compile(r" *(?:is\b|[!=]=)")
NESTED_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
# Nodes under which no rule has anything to look at.
LEAVES = frozenset({ast.Name, ast.Constant})


@functools.lru_cache(maxsize=None)
def _walked_fields(node_type: type) -> tuple[str, ...]:
    """``scopes.child_fields`` (no contexts and operators) but a statement's nested
    statements (and its except handlers and match cases): those are walked as statements."""
    nested = NESTED_BODIES if issubclass(node_type, ast.stmt) else ()
    return tuple(field for field in child_fields(node_type) if field not in nested)


def _first_line(node: ast.AST) -> int:
    """A statement's or handler's line; a match case's is its pattern's."""
    return getattr(node, "lineno", None) or node.pattern.lineno


def candidate_lines(source: str) -> list[int]:
    """Sorted line numbers touched by text that may hold a guard."""
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", source))
    lines: set[int] = set()
    for pattern in CANDIDATE_PATTERNS:
        for match in pattern.finditer(source):
            start, end = match.span()
            if pattern is CANDIDATE_PATTERNS[0] and not (
                NONE_BEFORE.search(source, max(0, start - 8), start) or NONE_AFTER.match(source, end, end + 8)
            ):
                continue
            first = bisect.bisect_right(starts, start)
            last = bisect.bisect_right(starts, max(start, end - 1))
            lines.update(range(first, last + 1))
    return sorted(lines)


class FileChecker:
    def __init__(self, tree: ast.AST, file_models: FileModels, rules: list, source: str,
                 settings: Settings = Settings()) -> None:
        self.tree = tree
        self.settings = settings
        self.candidates = candidate_lines(source)
        # DBC300 looks at class bodies that pass nullable=, DBC301/302 at every model
        # class when a database is given; nothing else needs a walk.
        self.needs_walk = bool(self.candidates) or "nullable" in source or bool(settings.database_url)
        self._database: Any = None
        # The statement (or match case) whose expressions are being walked: DBC101
        # reads the branches of the test it is in.
        self.statement: Optional[ast.AST] = None
        self.file_models = file_models
        self.receivers = ReceiverResolver(file_models)
        self.writes = RowWrites(self.receivers)
        self.rules_by_type: dict[type, list] = {}
        for rule in rules:
            for node_type in rule.NODE_TYPES:
                self.rules_by_type.setdefault(node_type, []).append(rule)

    def run(self) -> Iterator[Finding]:
        """Walk statements, tracking scopes; walk the expressions of candidate ones."""
        if not self.needs_walk:
            return
        module_scope = self.file_models.scope
        statements: list[tuple[ast.stmt, Scope]] = [(node, module_scope) for node in reversed(self.tree.body)]
        while statements:
            statement, scope = statements.pop()
            if isinstance(statement, ast.ClassDef):
                yield from self._check_node(statement, scope)
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                class_node = scope.node if isinstance(scope.node, ast.ClassDef) else None
                inner = Scope(statement, scope, class_node if not isinstance(statement, ast.ClassDef) else None)
                statements.extend((child, inner) for child in reversed(statement.body))
                continue
            nested = [child for field in NESTED_BODIES for child in getattr(statement, field, ())]
            header_end = _first_line(nested[0]) - 1 if nested else statement.end_lineno
            if self._is_candidate(statement.lineno, max(statement.lineno, header_end or statement.lineno)):
                self.statement = statement
                yield from self._check_expressions(statement, scope)
            for child in reversed(nested):
                if isinstance(child, ast.stmt):
                    statements.append((child, scope))
                    continue
                # except handlers and match cases hold statements; a case guard is a test
                guard = getattr(child, "guard", None)
                if guard is not None and self._is_candidate(guard.lineno, guard.end_lineno or guard.lineno):
                    self.statement = child
                    yield from self._check_node(child, scope)
                    yield from self._check_expressions(guard, scope)
                statements.extend((grandchild, scope) for grandchild in reversed(child.body))

    def _is_candidate(self, first: int, last: int) -> bool:
        index = bisect.bisect_left(self.candidates, first)
        return index < len(self.candidates) and self.candidates[index] <= last

    def _check_expressions(self, statement: ast.stmt, scope: Scope) -> Iterator[Finding]:
        """The statement and its own expressions (not its nested statements), in
        source order. One tight loop: it runs for every node of every candidate."""
        rules_by_type = self.rules_by_type
        stack: list[tuple[ast.AST, Scope]] = [(statement, scope)]
        while stack:
            node, node_scope = stack.pop()
            node_type = type(node)
            rules = rules_by_type.get(node_type)
            if rules:
                yield from self._run_rules(rules, node, node_scope)
            if node_type is ast.Assert:
                continue  # an assert states an invariant; it is not a guard
            if node_type is ast.Lambda:
                node_scope = Scope(node, node_scope)
            elif node_type in COMPREHENSIONS:
                node_scope = Scope(node, node_scope)
            children: list = []
            for field in _walked_fields(node_type):
                value = getattr(node, field, None)
                if isinstance(value, list):
                    children.extend(item for item in value if isinstance(item, ast.AST) and type(item) not in LEAVES)
                elif isinstance(value, ast.AST) and type(value) not in LEAVES:
                    children.append(value)
            children.reverse()
            stack.extend((child, node_scope) for child in children)

    def _check_node(self, node: ast.AST, scope: Scope) -> Iterator[Finding]:
        yield from self._run_rules(self.rules_by_type.get(type(node), []), node, scope)

    def _run_rules(self, rules: list, node: ast.AST, scope: Scope) -> Iterator[Finding]:
        for rule in rules:
            try:
                found = list(rule.check(node, scope, self))
            except Exception as exc:
                swallow(f"{rule.CODE.code} at line {getattr(node, 'lineno', '?')}", exc)
                continue
            yield from found

    # -- what rules ask ------------------------------------------------------------------
    def column_of(self, attribute: ast.expr, scope: Scope, alternatives: bool = False) -> Optional[ColumnUse]:
        """The column a ``receiver.attr`` expression names, for a known stored row.
        With ``alternatives``, the receiver may also be an instance of other classes
        that each declare the attribute never None."""
        if not isinstance(attribute, ast.Attribute):
            return None
        receiver = self.receivers.receiver_of(attribute.value, scope)
        if receiver is None or (receiver.others and not alternatives):
            return None
        column = receiver.model.columns.get(attribute.attr)
        if column is None:
            return None
        declared = []
        for other in receiver.others:
            field = never_none_field(other, attribute.attr, self.file_models.resolver, self.is_never_none)
            if field is None:
                return None
            declared.append(field)
        return ColumnUse(receiver.model, column, receiver, ast.unparse(attribute.value), tuple(declared))

    def column_use(self, attribute: ast.expr, scope: Scope, none_test: bool = False) -> Optional[ColumnUse]:
        """Like ``column_of``, but unknown when the function writes that attribute (for
        a row not known to come from a query, a write after the test counts too), or,
        with a database given, when the database column may hold NULL. For a ``None``
        test, an earlier write of a value that is never None does not count."""
        use = self.column_of(attribute, scope, alternatives=none_test)
        if use is None:
            return None
        anywhere = use.receiver.state != "loaded"
        if anywhere and attribute.attr in use.receiver.none_when_new:
            return None  # ``self`` may be a new object its constructor left None
        harmless = functools.partial(self.is_never_none, scope=scope) if none_test else None
        if self.writes.may_be_written(scope, attribute.value, attribute.attr, attribute, use.model,
                                      anywhere=anywhere, harmless=harmless):
            return None
        if not self.database_confirms_not_null(use):
            return None
        return use

    def falls_back_to_object(self, use: ColumnUse, fallback: Sequence[ast.AST]) -> bool:
        """Does the code that runs when the column reads None or falsy read something
        of the same object other than a column (``visit.patient_id or visit.patient.id``)?
        That is the idiom for objects not flushed yet, whose foreign key is set from the
        relationship at flush (SEMANTICS 3): the code is not dead unless the row is
        known to come from a query."""
        if use.receiver.state == "loaded":
            return False
        for root in fallback:
            for node in walk(root):
                if (isinstance(node, ast.Attribute) and node.attr not in use.model.columns
                        and ast.unparse(node.value) == use.receiver_text):
                    return True
        return False

    def is_never_none(self, value: Optional[ast.expr], scope: Scope) -> bool:
        """A literal other than None, a display, or a call of a standard-library class
        (``timedelta(seconds=n)``, ``str(x)``, ``Decimal(v)``): never None."""
        if isinstance(value, ast.Constant):
            return value.value is not None
        if isinstance(value, (ast.JoinedStr, ast.List, ast.Tuple, ast.Set, ast.Dict)):
            return True
        if isinstance(value, ast.Call):
            ref = self.file_models.resolver.resolve_expr(value.func, scope)
            return isinstance(ref, External) and import_python_type(ref.dotted) is not None
        return False

    @property
    def database(self) -> Optional[Schema]:
        """The reflected schema of ``--dbc-database-url``, or None."""
        if self._database is None:
            url = self.settings.database_url
            self._database = reflect(url) if url else False
        return self._database or None

    def database_confirms_not_null(self, use: ColumnUse) -> bool:
        """Without a database (or when it could not be read) the model is trusted."""
        schema = self.database
        if schema is None:
            return True
        if use.model.table is None:
            return False
        table = schema.table(use.model.table, use.model.schema)
        if table is None or use.column.db_name not in table:
            return False
        # A primary key never holds NULL, whatever SQLite's reflection says of a rowid.
        return use.column.primary_key or table[use.column.db_name] is False

    def unparse(self, node: ast.AST) -> str:
        return ast.unparse(node)
