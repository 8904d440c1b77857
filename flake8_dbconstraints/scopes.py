"""Name bindings of the checked file, per scope, on the stdlib tree flake8 hands us.

A scope (module, function, lambda, comprehension) records every way each name is
bound in it: parameters, assignments, loop targets, imports, definitions. Receiver
inference trusts a name only when every binding agrees, which makes the analysis
flow-insensitive but safe: ``visit = session.get(...)`` followed anywhere by
``visit = Visit()`` makes ``visit`` unknown.
"""
from __future__ import annotations

import ast
import dataclasses
from typing import Iterator, Optional, Union

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_PATTERN = getattr(ast, "pattern", None)  # match statements, Python 3.10+


@dataclasses.dataclass(frozen=True)
class Binding:
    kind: str  # "param", "assign", "annotated", "for", "import", "class", "other"
    node: ast.AST  # the value, iterable, parameter, import alias or class
    annotation: Optional[ast.expr] = None
    statement: Optional[ast.AST] = None


class Scope:
    def __init__(self, node: ast.AST, parent: Optional["Scope"], class_node: Optional[ast.ClassDef] = None):
        self.node = node
        self.parent = parent
        # The class whose body defines this function (for ``self``), if any.
        self.class_node = class_node
        self._bindings: Optional[dict[str, list[Binding]]] = None
        self.declared_free: set[str] = set()  # global / nonlocal names: unknown here
        # ("visit", "started_at") -> lines where it is assigned or deleted
        self.written_attributes: dict[tuple[str, str], list[int]] = {}
        self.opaque_names: set[str] = set()  # passed to setattr / make_transient
        self.memo: dict = {}

    @property
    def bindings(self) -> dict[str, list[Binding]]:
        """Collected on first use: most scopes never hold a guard."""
        if self._bindings is None:
            self._bindings = {}
            _collect(self)
        return self._bindings

    def add(self, name: str, binding: Binding) -> None:
        assert self._bindings is not None
        self._bindings.setdefault(name, []).append(binding)

    def lookup(self, name: str) -> tuple[Optional["Scope"], list[Binding]]:
        """The innermost scope binding ``name`` (class bodies are skipped, as in Python)."""
        scope: Optional[Scope] = self
        first = True
        while scope is not None:
            bindings = scope.bindings
            if name in scope.declared_free:
                return None, []
            if name in bindings and (first or not isinstance(scope.node, ast.ClassDef)):
                return scope, bindings[name]
            first = False
            scope = scope.parent
        return None, []

    @property
    def function(self) -> Optional[FunctionNode]:
        if isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return self.node
        return None


def target_text(node: ast.AST) -> Optional[str]:
    """``visit`` / ``self.patient`` for a receiver expression made of names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _BindingCollector(ast.NodeVisitor):
    """Fills one scope; nested scopes are recorded as bindings and not entered."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def collect(self, body: list) -> None:
        for statement in body:
            self.visit(statement)

    # nested scopes: bind their name, do not enter
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scope.add(node.name, Binding("other", node))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scope.add(node.name, Binding("class", node))

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return None

    def _visit_comprehension(self, node: ast.AST) -> None:
        # Only walrus targets inside a comprehension bind in the enclosing scope.
        for child in ast.walk(node):
            if isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                self.scope.add(child.target.id, Binding("other", child))

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension

    # bindings
    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.scope.add(target.id, Binding("assign", node.value, statement=node))
            else:
                self._bind_other(target, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.scope.add(
                node.target.id,
                Binding("annotated", node.value or node.annotation, annotation=node.annotation, statement=node),
            )
        else:
            self._bind_other(node.target, node)
        if node.value is not None:
            self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._bind_other(node.target, node)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.scope.add(node.target.id, Binding("assign", node.value, statement=node))
        self.generic_visit(node)

    def visit_For(self, node: Union[ast.For, ast.AsyncFor]) -> None:
        if isinstance(node.target, ast.Name):
            self.scope.add(node.target.id, Binding("for", node.iter, statement=node))
        else:
            self._bind_other(node.target, node)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node: Union[ast.With, ast.AsyncWith]) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._bind_other(item.optional_vars, node)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.scope.add(node.name, Binding("other", node))
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._bind_other(target, node)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            self.scope.add(name, Binding("import", alias, statement=node))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.scope.add(alias.asname or alias.name, Binding("import", alias, statement=node))

    def visit_Global(self, node: Union[ast.Global, ast.Nonlocal]) -> None:
        self.scope.declared_free.update(node.names)

    visit_Nonlocal = visit_Global

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in ("setattr", "make_transient", "delattr", "make_transient_to_detached", "expunge"):
            for arg in node.args:
                text = target_text(arg)
                if text:
                    self.scope.opaque_names.add(text)
        self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _PATTERN is not None and isinstance(child, _PATTERN):
                self._bind_pattern(child)
            else:
                self.visit(child)

    def _bind_pattern(self, pattern: ast.AST) -> None:
        for child in ast.walk(pattern):
            name = getattr(child, "name", None)
            if isinstance(name, str):
                self.scope.add(name, Binding("other", child))

    def _bind_other(self, target: ast.AST, statement: ast.AST) -> None:
        """Names a target rebinds; attributes it writes (``visit.started_at = ...``)."""
        if isinstance(target, ast.Name):
            self.scope.add(target.id, Binding("other", statement))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_other(element, statement)
        elif isinstance(target, ast.Starred):
            self._bind_other(target.value, statement)
        elif isinstance(target, ast.Attribute):
            text = target_text(target.value)
            if text:
                lines = self.scope.written_attributes.setdefault((text, target.attr), [])
                lines.append(getattr(statement, "lineno", 0))


def _collect(scope: Scope) -> None:
    node = scope.node
    collector = _BindingCollector(scope)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        for arg in _all_args(node.args):
            scope.add(arg.arg, Binding("param", arg, annotation=arg.annotation))
        if isinstance(node, ast.Lambda):
            collector.visit(node.body)
        else:
            collector.collect(node.body)
    elif isinstance(node, COMPREHENSIONS):
        for generator in node.generators:
            if isinstance(generator.target, ast.Name):
                scope.add(generator.target.id, Binding("for", generator.iter, statement=generator))
            else:
                collector._bind_other(generator.target, generator)
    else:
        collector.collect(getattr(node, "body", []))


def _all_args(arguments: ast.arguments) -> Iterator[ast.arg]:
    yield from getattr(arguments, "posonlyargs", [])
    yield from arguments.args
    if arguments.vararg:
        yield arguments.vararg
    yield from arguments.kwonlyargs
    if arguments.kwarg:
        yield arguments.kwarg
