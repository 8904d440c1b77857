"""One pass over the checked file: scopes are tracked, nodes handed to the rules.

The walk is iterative, so deeply nested code cannot exhaust the interpreter's stack;
each rule call is guarded, so one unreadable guard costs one finding, not the run.
"""
from __future__ import annotations

import ast
import dataclasses
from typing import Any, Iterator, Optional

from flake8_dbconstraints.file_models import FileModels
from flake8_dbconstraints.receivers import Receiver, ReceiverResolver, is_written
from flake8_dbconstraints.registry import ColumnInfo, ModelInfo
from flake8_dbconstraints.safety import guarded
from flake8_dbconstraints.scopes import COMPREHENSIONS, Scope


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


class FileChecker:
    def __init__(self, tree: ast.AST, file_models: FileModels, rules: list) -> None:
        self.tree = tree
        self.file_models = file_models
        self.receivers = ReceiverResolver(file_models)
        self.rules_by_type: dict[type, list] = {}
        for rule in rules:
            for node_type in rule.NODE_TYPES:
                self.rules_by_type.setdefault(node_type, []).append(rule)

    def run(self) -> Iterator[Finding]:
        module_scope = Scope(self.tree, None)
        stack: list[tuple[ast.AST, Scope]] = [(self.tree, module_scope)]
        while stack:
            node, scope = stack.pop()
            for rule in self.rules_by_type.get(type(node), ()):
                with guarded(f"{rule.CODE.code} at line {getattr(node, 'lineno', '?')}"):
                    yield from list(rule.check(node, scope, self))
            stack.extend(reversed(list(self._children(node, scope))))

    def _children(self, node: ast.AST, scope: Scope) -> Iterator[tuple[ast.AST, Scope]]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for child in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
                if child is not None:
                    yield child, scope
            class_node = scope.node if isinstance(scope.node, ast.ClassDef) else None
            inner = Scope(node, scope, class_node)
            for statement in node.body:
                yield statement, inner
        elif isinstance(node, ast.Lambda):
            yield node.body, Scope(node, scope)
        elif isinstance(node, ast.ClassDef):
            for child in [*node.decorator_list, *node.bases, *node.keywords]:
                yield child, scope
            inner = Scope(node, scope)
            for statement in node.body:
                yield statement, inner
        elif isinstance(node, COMPREHENSIONS):
            inner = Scope(node, scope)
            for child in ast.iter_child_nodes(node):
                yield child, inner
        elif isinstance(node, ast.Assert):
            return  # an assert states an invariant; it is not a guard
        else:
            for child in ast.iter_child_nodes(node):
                yield child, scope

    # -- what rules ask ------------------------------------------------------------------
    def column_of(self, attribute: ast.expr, scope: Scope) -> Optional[ColumnUse]:
        """The column a ``receiver.attr`` expression names, for a known stored row."""
        if not isinstance(attribute, ast.Attribute):
            return None
        receiver = self.receivers.receiver_of(attribute.value, scope)
        if receiver is None:
            return None
        column = receiver.model.columns.get(attribute.attr)
        if column is None:
            return None
        return ColumnUse(receiver.model, column, receiver, ast.unparse(attribute.value))

    def column_use(self, attribute: ast.expr, scope: Scope) -> Optional[ColumnUse]:
        """Like ``column_of``, but unknown when the function writes that attribute."""
        use = self.column_of(attribute, scope)
        if use is None or is_written(scope, attribute.value, attribute.attr):
            return None
        return use

    def unparse(self, node: ast.AST) -> str:
        return ast.unparse(node)
