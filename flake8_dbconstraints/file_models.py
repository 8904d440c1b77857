"""Names of the checked file that refer to models, resolved through its imports.

The checked file is read from the stdlib tree flake8 hands us; only the modules it
imports are loaded (with astroid, by ``loader.py``), and only when a guard needs
them. The checked file itself is built with astroid only when a guard's receiver
is a model class defined in that same file.
"""
from __future__ import annotations

import ast
import os
from typing import Any, Optional

from flake8_dbconstraints.declarations import _is_sa, unwrap_optional
from flake8_dbconstraints.loader import load_file, module_name_for_file, parse_source
from flake8_dbconstraints.names import External, ModuleRef
from flake8_dbconstraints.registry import ModelInfo, ModelRegistry
from flake8_dbconstraints.safety import guarded
from flake8_dbconstraints.scopes import Scope

SELECT_FUNCTIONS = ("sqlalchemy.select", "sqlalchemy.future.select", "sqlalchemy.sql.expression.select")
SQLMODEL_SELECT = frozenset({"sqlmodel.select", "sqlmodel.sql.expression.select"})


class FileModels:
    def __init__(self, registry: ModelRegistry, filename: str, lines: list) -> None:
        self.registry = registry
        self.resolver = registry.resolver
        self.loader = self.resolver.loader
        self.filename = filename
        self.lines = lines
        self.modname = module_name_for_file(filename, self.loader.roots) if filename not in ("stdin", "-") else None
        self._module: Any = None
        self._module_built = False

    # -- the checked file as an astroid module (only for classes defined in it) ------
    @property
    def module(self) -> Any:
        if not self._module_built:
            self._module_built = True
            with guarded(f"file {self.filename}"):
                self._module = self._build_module()
        return self._module

    def _build_module(self) -> Any:
        source = "".join(self.lines)
        modname = self.modname or "__dbc_checked__"
        if os.path.isfile(self.filename):
            with open(self.filename, "rb") as handle:
                on_disk = handle.read()
            if on_disk.decode("utf-8", "replace") == source:
                return load_file(os.path.abspath(self.filename), modname)
        return parse_source(source, modname, self.filename)

    def model_for_local_class(self, class_node: ast.ClassDef) -> Optional[ModelInfo]:
        from astroid import nodes

        module = self.module
        if module is None:
            return None
        for candidate in module.nodes_of_class(nodes.ClassDef):
            if candidate.name == class_node.name and candidate.lineno == class_node.lineno:
                return self.registry.model_for_class(candidate)
        return None

    # -- names ------------------------------------------------------------------------
    def resolve(self, expr: ast.expr, scope: Scope, depth: int = 0) -> Any:
        """A names.Ref for a name or attribute chain of the checked file."""
        if depth > 16:
            return None
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value, scope, depth + 1)
            return self.resolver.resolve_attribute(base, expr.attr)
        if not isinstance(expr, ast.Name):
            return None
        owner, bindings = scope.lookup(expr.id)
        if owner is None or not bindings:
            return None
        results = [self._binding_ref(binding, expr.id) for binding in bindings]
        first = results[0]
        if first is None or any(not _same(result, first) for result in results[1:]):
            return None
        return first

    def _binding_ref(self, binding: Any, name: str) -> Any:
        from astroid import nodes

        if binding.kind == "class":
            module = self.module
            if module is None:
                return None
            for candidate in module.nodes_of_class(nodes.ClassDef):
                if candidate.name == binding.node.name and candidate.lineno == binding.node.lineno:
                    return candidate
            return None
        if binding.kind != "import":
            return None
        statement = binding.statement
        alias = binding.node
        if isinstance(statement, ast.Import):
            target = alias.name if alias.asname else alias.name.split(".")[0]
            module = self.loader.load(target)
            return ModuleRef(module) if module is not None else External(target)
        modname = self._absolute(statement.module or "", statement.level)
        if modname is None:
            return None
        module = self.loader.load(modname) if modname else None
        if module is not None:
            return self.resolver.resolve_in_module(module, alias.name)
        if statement.level or self.loader.find_file(modname) is not None:
            return None
        return External(f"{modname}.{alias.name}")

    def _absolute(self, module: str, level: int) -> Optional[str]:
        if not level:
            return module
        if self.modname is None:
            return None
        is_package = os.path.basename(self.filename) == "__init__.py"
        parts = self.modname.split(".") if self.modname else []
        if not is_package:
            parts = parts[:-1]
        if level - 1 > len(parts):
            return None
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        return ".".join([*parts, module] if module else parts)

    # -- models ---------------------------------------------------------------------------
    def model_from_class_expr(self, expr: ast.expr, scope: Scope) -> Optional[ModelInfo]:
        from astroid import nodes

        ref = self.resolve(expr, scope)
        if isinstance(ref, nodes.ClassDef):
            return self.registry.model_for_class(ref)
        return None

    def model_from_annotation(self, annotation: Optional[ast.expr], scope: Scope) -> Optional[ModelInfo]:
        if annotation is None:
            return None
        base, _optional, _explicit = unwrap_optional(annotation)
        if base is None:
            return None
        return self.model_from_class_expr(base, scope)

    def relationship_target(self, model: ModelInfo, key: str) -> Optional[ModelInfo]:
        if key in model.columns:
            return None
        return self.registry.relationship_target(model, key)

    def is_select_function(self, func: ast.expr, scope: Scope) -> bool:
        ref = self.resolve(func, scope)
        if not isinstance(ref, External):
            return False
        return ref.dotted in SQLMODEL_SELECT or _is_sa(ref.dotted, *SELECT_FUNCTIONS)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, (External, ModuleRef)):
        return left == right
    return left is right
