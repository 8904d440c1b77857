"""What a name in a model module refers to, by astroid's scope lookup.

A name resolves to one of:

* ``External("sqlalchemy.orm.mapped_column")``: something imported from outside the
  project, kept as a dotted string and never parsed;
* ``ModuleRef(module)``: a project module (loaded by ``loader.py``);
* an astroid ``ClassDef`` or ``FunctionDef`` of the project;
* ``Value(node)``: the expression a name was assigned once (``Base = declarative_base()``,
  ``db = SQLAlchemy()``, ``Column = partial(...)``);
* ``None`` when it is unknown or ambiguous (bound more than once to different things).

Following names across modules is bounded by ``MAX_DEPTH`` so that import cycles
and self-referencing assignments end.
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Optional, Union

from flake8_dbconstraints.loader import ProjectLoader

MAX_DEPTH = 24

FLASK_SQLALCHEMY = "flask_sqlalchemy.SQLAlchemy"
FLASK_MODEL = "flask_sqlalchemy.SQLAlchemy().Model"
# Names sqlmodel defines itself; its other exports are SQLAlchemy's own objects.
SQLMODEL_OWN = frozenset({"SQLModel", "Field", "Relationship", "select", "Session", "create_engine"})


@dataclasses.dataclass(frozen=True)
class External:
    dotted: str


@dataclasses.dataclass(frozen=True)
class ModuleRef:
    module: Any

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModuleRef) and other.module is self.module

    def __hash__(self) -> int:
        return id(self.module)


@dataclasses.dataclass(frozen=True, eq=False)
class Value:
    node: Any

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and other.node is self.node

    def __hash__(self) -> int:
        return id(self.node)


Ref = Union[External, ModuleRef, Value, Any, None]


def canonical_dotted(dotted: str) -> str:
    """Spell re-exports of SQLAlchemy's objects the one way SQLAlchemy does."""
    parts = dotted.split(".")
    if parts[0] == "sqlmodel" and len(parts) == 2 and parts[1] not in SQLMODEL_OWN:
        dotted = "sqlalchemy." + parts[1]
    if not dotted.startswith("sqlalchemy."):
        return dotted
    obj = import_sqlalchemy_object(dotted)
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None)
    if isinstance(obj, type) and module and name:
        return f"{module}.{name}"
    if callable(obj) and module and name:
        return f"{module}.{name}"
    return dotted


_MISSING = object()
_imported: dict[str, Any] = {}


def import_sqlalchemy_object(dotted: str) -> Any:
    """SQLAlchemy's own object for a dotted name under ``sqlalchemy``, or None.

    Only SQLAlchemy is ever imported here: it is our own dependency, never the
    project's code.
    """
    if dotted in _imported:
        return _imported[dotted]
    result = None
    if dotted == "sqlalchemy" or dotted.startswith("sqlalchemy."):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(parts[:cut]))
            except Exception:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr, _MISSING)
                if obj is _MISSING:
                    break
            if obj is not _MISSING:
                result = obj
            break
    _imported[dotted] = result
    return result


class NameResolver:
    """Resolves names and attribute chains inside astroid trees of the project."""

    def __init__(self, loader: ProjectLoader) -> None:
        self.loader = loader

    # -- names -----------------------------------------------------------------
    def resolve_expr(self, node: Any, depth: int = 0) -> Ref:
        from astroid import nodes

        if depth > MAX_DEPTH:
            return None
        if isinstance(node, nodes.Name):
            return self.resolve_name(node, node.name, depth)
        if isinstance(node, nodes.Attribute):
            return self.resolve_attribute(self.resolve_expr(node.expr, depth + 1), node.attrname, depth)
        return None

    def resolve_name(self, context: Any, name: str, depth: int = 0) -> Ref:
        if depth > MAX_DEPTH:
            return None
        if not hasattr(context, "lookup"):
            context = context.scope()
        _scope, statements = context.lookup(name)
        results = [self._resolve_binding(statement, name, depth + 1) for statement in statements]
        if not results:
            return None
        first = results[0]
        if first is None or any(result != first for result in results[1:]):
            return None
        return first

    def resolve_in_module(self, module: Any, name: str, depth: int = 0) -> Ref:
        if depth > MAX_DEPTH:
            return None
        if name in module.locals:
            return self.resolve_name(module, name, depth)
        submodule = self.loader.load(f"{module.name}.{name}")
        if submodule is not None:
            return ModuleRef(submodule)
        return self._resolve_star_imports(module, name, depth)

    def _resolve_star_imports(self, module: Any, name: str, depth: int) -> Ref:
        """``from .visits import *`` of project modules (never third-party ones)."""
        from astroid import nodes

        for statement in module.body:
            if not isinstance(statement, nodes.ImportFrom) or statement.names[0][0] != "*":
                continue
            try:
                modname = module.relative_to_absolute_name(statement.modname, statement.level)
            except Exception:
                continue
            source = self.loader.load(modname)
            if source is not None and name in source.locals:
                return self.resolve_in_module(source, name, depth + 1)
        return None

    def resolve_attribute(self, base: Ref, attr: str, depth: int = 0) -> Ref:
        if isinstance(base, External):
            return External(f"{base.dotted}.{attr}")
        if isinstance(base, ModuleRef):
            return self.resolve_in_module(base.module, attr, depth + 1)
        if isinstance(base, Value) and self.is_flask_sqlalchemy(base, depth + 1):
            return External(flask_attribute(attr))
        return None

    def _resolve_binding(self, statement: Any, name: str, depth: int) -> Ref:
        from astroid import nodes

        if statement.root().name == "builtins":
            return External(f"builtins.{name}")
        if isinstance(statement, nodes.ImportFrom):
            return self._resolve_import_from(statement, name, depth)
        if isinstance(statement, nodes.Import):
            return self._resolve_import(statement, name)
        if isinstance(statement, (nodes.ClassDef, nodes.FunctionDef)):
            return statement
        if isinstance(statement, nodes.AssignName):
            parent = statement.parent
            if isinstance(parent, nodes.Assign) and len(parent.targets) == 1:
                return self._follow_value(parent.value, depth)
            if isinstance(parent, nodes.AnnAssign) and parent.value is not None:
                return self._follow_value(parent.value, depth)
        return None

    def _follow_value(self, value: Any, depth: int) -> Ref:
        """``X = Y`` makes X what Y is; anything else is a ``Value``."""
        from astroid import nodes

        if isinstance(value, (nodes.Name, nodes.Attribute)):
            return self.resolve_expr(value, depth + 1)
        return Value(value)

    def _resolve_import_from(self, statement: Any, name: str, depth: int) -> Ref:
        real = statement.real_name(name)
        try:
            modname = statement.root().relative_to_absolute_name(statement.modname, statement.level)
        except Exception:
            return None
        module = self.loader.load(modname) if modname else None
        if module is not None:
            return self.resolve_in_module(module, real, depth + 1)
        if self.loader.find_file(modname) is not None:
            return None  # a project module that could not be read
        if statement.level:
            return None  # a relative import that is not the project's: unknown
        return External(f"{modname}.{real}")

    def _resolve_import(self, statement: Any, name: str) -> Ref:
        for modname, asname in statement.names:
            if asname == name:
                target = modname
            elif asname is None and modname.split(".")[0] == name:
                target = name
            else:
                continue
            module = self.loader.load(target)
            if module is not None:
                return ModuleRef(module)
            return External(target)
        return None  # pragma: no cover - astroid only returns imports that bind the name

    # -- what a value is ----------------------------------------------------------
    def qualify(self, node: Any, depth: int = 0) -> Optional[str]:
        """The canonical dotted name of an external object an expression names."""
        ref = self.resolve_expr(node, depth)
        if isinstance(ref, External):
            return canonical_dotted(ref.dotted)
        return None

    def call_target(self, call: Any, depth: int = 0) -> Ref:
        return self.resolve_expr(call.func, depth)

    def is_flask_sqlalchemy(self, value: Value, depth: int) -> bool:
        """Is this value ``SQLAlchemy(...)`` of Flask-SQLAlchemy (or a subclass of it)?"""
        from astroid import nodes

        call = value.node
        if not isinstance(call, nodes.Call):
            return False
        target = self.call_target(call, depth)
        if isinstance(target, External):
            return target.dotted in (FLASK_SQLALCHEMY, "flask_sqlalchemy.extension.SQLAlchemy")
        if isinstance(target, nodes.ClassDef):
            return any(
                isinstance(base, External) and base.dotted == FLASK_SQLALCHEMY
                for base in self.iter_base_refs(target, depth)
            )
        return False

    def iter_base_refs(self, classdef: Any, depth: int = 0, _seen: Optional[set] = None):
        """Every base of a class, transitively, as refs (project classes are followed)."""
        from astroid import nodes

        seen = _seen if _seen is not None else set()
        if id(classdef) in seen or depth > MAX_DEPTH:
            return
        seen.add(id(classdef))
        for base in classdef.bases:
            ref = self.resolve_expr(base, depth + 1)
            yield ref
            if isinstance(ref, nodes.ClassDef):
                yield from self.iter_base_refs(ref, depth + 1, seen)


def flask_attribute(attr: str) -> str:
    """``db.X`` of Flask-SQLAlchemy: ``db.Model`` or SQLAlchemy's own ``X``."""
    if attr == "Model":
        return FLASK_MODEL
    for package in ("sqlalchemy", "sqlalchemy.orm"):
        if import_sqlalchemy_object(f"{package}.{attr}") is not None:
            return f"{package}.{attr}"
    return f"{FLASK_SQLALCHEMY}().{attr}"
