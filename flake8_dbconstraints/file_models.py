"""Names of the checked file that refer to models, resolved through its imports.

The checked file is read from the stdlib tree flake8 hands us (so stdin and unsaved
buffers work); only the modules it imports are read from disk, and only when a
guard's receiver needs them.
"""
from __future__ import annotations

import ast
import contextlib
import os
from typing import Iterator, Optional

from flake8_dbconstraints.declarations import unwrap_optional
from flake8_dbconstraints.loader import ASSOCIATE_TEXT, ModuleInfo, module_name_for_file
from flake8_dbconstraints.names import ClassRef, External, is_sqlalchemy, unquote
from flake8_dbconstraints.registry import ModelInfo, ModelRegistry
from flake8_dbconstraints.scopes import Scope, is_first_method_parameter, last_name, may_bind_in_expressions

SELECT_FUNCTIONS = ("sqlalchemy.select", "sqlalchemy.future.select", "sqlalchemy.sql.expression.select")
SQLMODEL_SELECT = frozenset({"sqlmodel.select", "sqlmodel.sql.expression.select"})
STDIN_NAMES = frozenset({"stdin", "-", ""})
# Annotations of collections whose every element has the one type they name.
COLLECTIONS = frozenset({
    "list", "List", "Sequence", "MutableSequence", "Collection", "Iterable", "set", "Set",
    "AbstractSet", "MutableSet", "frozenset", "FrozenSet", "tuple", "Tuple",
})
# SQLAlchemy's results of one entity's objects, in the kinds of ``receivers._query_kind``.
QUERY_ANNOTATIONS = (("sqlalchemy.engine.ScalarResult", "result"), ("sqlalchemy.orm.Query", "query"))


class FileModels:
    def __init__(self, registry: ModelRegistry, filename: str, tree: ast.Module, source: str) -> None:
        self.registry = registry
        self.resolver = registry.resolver
        self.calls_listen = "listen(" in source
        modname = None
        if filename not in STDIN_NAMES:
            modname = module_name_for_file(filename, self.resolver.loader.roots)
        # An unknown module name ("") makes relative imports unknown, never guessed.
        self.module = ModuleInfo(
            modname or "",
            filename,
            tree,
            os.path.basename(filename) == "__init__.py",
            may_bind_in_expressions=may_bind_in_expressions(source),
            transient=True,
            associates_types=ASSOCIATE_TEXT.decode() in source,
        )
        # A class method read for the model it is called on (``Ticket.get(pk)`` running
        # a mixin's ``get``): its ``cls`` is that model. Keyed by the method's node.
        self._cls_of: dict = {}

    @property
    def scope(self) -> Scope:
        return self.module.scope

    def model_for_local_class(self, class_node: ast.ClassDef) -> Optional[ModelInfo]:
        return self.registry.model_for_class(ClassRef(self.module, class_node))

    @contextlib.contextmanager
    def cls_bound_to(self, method: ast.AST, model: ModelInfo) -> Iterator[None]:
        """While reading ``method``, its ``cls`` is ``model``."""
        self._cls_of[method] = model
        try:
            yield
        finally:
            del self._cls_of[method]

    def model_from_class_expr(self, expr: ast.expr, scope: Scope) -> Optional[ModelInfo]:
        owner = _classmethod_scope(expr, scope)
        if owner is not None:
            bound = self._cls_of.get(owner.function)
            return bound if bound is not None else self.model_for_local_class(owner.class_node)
        ref = self.resolver.resolve_expr(expr, scope)
        if isinstance(ref, ClassRef):
            return self.registry.model_for_class(ref)
        return None

    def model_from_annotation(self, annotation: Optional[ast.expr], scope: Scope) -> Optional[ModelInfo]:
        base, _optional, _explicit = unwrap_optional(annotation)
        if base is None:
            return None
        return self.model_from_class_expr(base, scope)

    def element_model_from_annotation(self, annotation: Optional[ast.expr], scope: Scope) -> Optional[ModelInfo]:
        """``list[Visit]``, ``Sequence["Visit"]``, ``tuple[Visit, ...]``: the model of
        each element. A tuple of several types, a mapping or a class of the project's
        own named like a collection is not such an annotation."""
        base, _optional, _explicit = unwrap_optional(annotation)
        if not isinstance(base, ast.Subscript):
            return None
        container = base.value
        name = last_name(container)
        if name not in COLLECTIONS or isinstance(self.resolver.resolve_expr(container, scope), ClassRef):
            return None
        element = unquote(base.slice)
        if isinstance(element, ast.Tuple):
            rest = element.elts[1:]
            if name not in ("tuple", "Tuple") or len(rest) != 1 or not _is_ellipsis(rest[0]):
                return None
            element = element.elts[0]
        return self.model_from_annotation(element, scope)

    def query_from_annotation(self, annotation: Optional[ast.expr], scope: Scope) -> Optional[tuple[str, ModelInfo]]:
        """``ScalarResult["Trade"]``, ``Query[Visit]``: what a query of one model hands
        back, as (kind, model). The container must be SQLAlchemy's own class."""
        base, _optional, _explicit = unwrap_optional(annotation)
        if not isinstance(base, ast.Subscript):
            return None
        container = self.resolver.resolve_expr(base.value, scope)
        if not isinstance(container, External):
            return None
        for dotted, kind in QUERY_ANNOTATIONS:
            if is_sqlalchemy(container.dotted, dotted):
                model = self.model_from_annotation(unquote(base.slice), scope)
                return (kind, model) if model is not None else None
        return None

    def relationship_target(self, model: ModelInfo, key: str) -> Optional[ModelInfo]:
        if key in model.columns:
            return None
        return self.registry.relationship_target(model, key)

    def is_select_function(self, func: ast.expr, scope: Scope) -> bool:
        ref = self.resolver.resolve_expr(func, scope)
        if not isinstance(ref, External):
            return False
        return ref.dotted in SQLMODEL_SELECT or is_sqlalchemy(ref.dotted, *SELECT_FUNCTIONS)


def _classmethod_scope(expr: ast.expr, scope: Scope) -> Optional[Scope]:
    """The scope of the ``@classmethod`` whose ``cls`` parameter ``expr`` is, never
    rebound: ``cls.query...first()`` and ``select(cls)`` there read rows of its class
    (or of a subclass, which inherits its columns)."""
    if not isinstance(expr, ast.Name):
        return None
    owner, bindings = scope.lookup(expr.id)
    if owner is None or len(bindings) != 1 or not is_first_method_parameter(bindings[0], owner):
        return None
    if not any(last_name(decorator) == "classmethod" for decorator in owner.function.decorator_list):
        return None
    return owner


def _is_ellipsis(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis
