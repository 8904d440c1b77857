"""What a name refers to, in the checked file or in a model module.

A name resolves to one of:

* ``External("sqlalchemy.orm.mapped_column")``: something imported from outside the
  project, kept as a dotted string and never parsed;
* ``ModuleRef(module)``: a project module (``loader.ModuleInfo``);
* ``ClassRef(module, classdef)``: a class of the project;
* ``FunctionRef(module, functiondef)``: a function of the project;
* ``Value(module, node)``: the expression a name was assigned once
  (``Base = declarative_base()``, ``db = SQLAlchemy()``, ``Column = partial(...)``);
* ``None`` when it is unknown or ambiguous (bound more than once to different things).

Following names across modules is bounded by ``MAX_DEPTH`` so that import cycles
and self-referencing assignments end.
"""
from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import importlib
import sys
from typing import Any, Optional, Union

from flake8_dbconstraints.loader import InstalledLoader, ModuleInfo, ProjectLoader
from flake8_dbconstraints.scopes import Binding, Scope, assigned_only_by_init, last_name, settled_module_bindings

MAX_DEPTH = 24

FLASK_SQLALCHEMY = "flask_sqlalchemy.SQLAlchemy"
FLASK_SQLALCHEMY_NAMES = frozenset({FLASK_SQLALCHEMY, "flask_sqlalchemy.extension.SQLAlchemy"})
FLASK_MODEL = "flask_sqlalchemy.SQLAlchemy().Model"
# Names sqlmodel defines itself; its other exports are SQLAlchemy's own objects.
SQLMODEL_OWN = frozenset({"SQLModel", "Field", "Relationship", "select", "Session", "create_engine"})
BUILTIN_NAMES = frozenset(dir(builtins))


@dataclasses.dataclass(frozen=True)
class External:
    dotted: str


@dataclasses.dataclass(frozen=True, eq=False)
class ModuleRef:
    module: ModuleInfo

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModuleRef) and other.module is self.module

    def __hash__(self) -> int:
        return id(self.module)


@dataclasses.dataclass(frozen=True, eq=False)
class ClassRef:
    module: ModuleInfo
    node: ast.ClassDef

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def qname(self) -> str:
        return f"{self.module.name}.{self.node.name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClassRef) and other.node is self.node

    def __hash__(self) -> int:
        return id(self.node)


@dataclasses.dataclass(frozen=True, eq=False)
class FunctionRef:
    module: ModuleInfo
    node: Union[ast.FunctionDef, ast.AsyncFunctionDef]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionRef) and other.node is self.node

    def __hash__(self) -> int:
        return id(self.node)


@dataclasses.dataclass(frozen=True, eq=False)
class Value:
    module: ModuleInfo
    node: ast.expr
    # where the expression is evaluated, when not at the top of the module
    scope: Optional[Scope] = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and other.node is self.node

    def __hash__(self) -> int:
        return id(self.node)


@dataclasses.dataclass(frozen=True)
class Instance:
    """A parameter annotated with a project class (``db: DatabaseInterface``): only its
    typed properties are followed (``db.Visit`` of ``def Visit(self) -> type[Visit]``)."""

    cls: ClassRef


Ref = Union[External, ModuleRef, ClassRef, FunctionRef, Value, Instance, None]
TYPE_NAMES = frozenset({"type", "Type"})
PROPERTY_NAMES = frozenset({"builtins.property", "functools.cached_property"})


def only_method(cls: ClassRef, bindings: list) -> Optional[FunctionRef]:
    """The function ``bindings`` (of a class body) bind: undecorated, a classmethod or a
    staticmethod, bound once."""
    if len(bindings) != 1 or bindings[0].kind != "function":
        return None
    function = bindings[0].node
    if all(last_name(decorator) in ("classmethod", "staticmethod") for decorator in function.decorator_list):
        return FunctionRef(cls.module, function)
    return None


def unquote(node: Optional[ast.expr]) -> Optional[ast.expr]:
    """A string annotation's expression (``"Visit"`` -> ``Visit``); others unchanged."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return unquote(_parse_annotation_text(node.value))
    return node


@functools.lru_cache(maxsize=4096)
def _parse_annotation_text(text: str) -> Optional[ast.expr]:
    """The same few strings recur in every file."""
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return None


def _class_of_type_annotation(annotation: Optional[ast.expr]) -> Optional[ast.expr]:
    """``type[X]`` / ``Type[X]`` / ``"type[X]"`` -> X."""
    annotation = unquote(annotation)
    if not isinstance(annotation, ast.Subscript):
        return None
    inner = unquote(annotation.slice)
    return inner if last_name(annotation.value) in TYPE_NAMES and isinstance(inner, (ast.Name, ast.Attribute)) else None


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
        result = _walk_sqlalchemy(dotted.split("."))
    _imported[dotted] = result
    return result


def _walk_sqlalchemy(parts: list) -> Any:
    """Follow ``sqlalchemy.a.b`` by attribute, importing submodules not loaded yet."""
    obj: Any = importlib.import_module("sqlalchemy")
    for index, part in enumerate(parts[1:], start=1):
        found = getattr(obj, part, _MISSING)
        if found is _MISSING:
            try:
                found = importlib.import_module(".".join(parts[: index + 1]))
            except Exception:
                return None
        obj = found
    return obj


def canonical_external(dotted: str) -> str:
    """sqlmodel re-exports SQLAlchemy's objects: spell those the SQLAlchemy way."""
    parts = dotted.split(".")
    if parts[0] == "sqlmodel" and len(parts) == 2 and parts[1] not in SQLMODEL_OWN:
        return "sqlalchemy." + parts[1]
    return dotted


# Public names SQLAlchemy 2.0 added. Under SQLAlchemy 1.4 they cannot be imported, but
# a project that spells them is read the same way (it needs 2.0 to run anyway).
SQLALCHEMY_2_ONLY = frozenset({
    "DeclarativeBase", "DeclarativeBaseNoMeta", "MappedAsDataclass", "mapped_column", "Mapped",
    "WriteOnlyMapped", "DynamicMapped", "Uuid", "UUID", "Double", "DOUBLE", "DOUBLE_PRECISION",
})


def sqlalchemy_2_name(dotted: str) -> Optional[str]:
    """``sqlalchemy[.x].Name`` for a 2.0-only ``Name`` the installed SQLAlchemy lacks."""
    head, _, name = dotted.rpartition(".")
    if name in SQLALCHEMY_2_ONLY and (head == "sqlalchemy" or head.startswith("sqlalchemy.")):
        if import_sqlalchemy_object(dotted) is None:
            return name
    return None


def is_sqlalchemy(dotted: Optional[str], *candidates: str) -> bool:
    """Does ``dotted`` name the same SQLAlchemy object as one of ``candidates``?"""
    if not dotted:
        return False
    obj = import_sqlalchemy_object(dotted)
    if obj is None:
        name = sqlalchemy_2_name(dotted)
        return name is not None and any(candidate.rpartition(".")[2] == name for candidate in candidates)
    return any(import_sqlalchemy_object(candidate) is obj for candidate in candidates)


def flask_attribute(attr: str) -> str:
    """``db.X`` of Flask-SQLAlchemy: ``db.Model`` or SQLAlchemy's own ``X``."""
    if attr == "Model":
        return FLASK_MODEL
    for package in ("sqlalchemy", "sqlalchemy.orm"):
        if import_sqlalchemy_object(f"{package}.{attr}") is not None:
            return f"{package}.{attr}"
    return f"{FLASK_SQLALCHEMY}().{attr}"


class NameResolver:
    """Resolves names and attribute chains, following the project's imports."""

    def __init__(self, loader: ProjectLoader) -> None:
        self.loader = loader
        self._installed: Optional[InstalledLoader] = None
        # Bumped whenever MAX_DEPTH cuts a resolution short: an answer computed
        # meanwhile depends on how deep it was asked, so it is not memoized.
        self._cutoffs = 0

    def resolve_expr(self, node: Optional[ast.expr], scope: Scope, depth: int = 0) -> Ref:
        if node is None:
            return None
        if depth > MAX_DEPTH:
            self._cutoffs += 1
            return None
        if isinstance(node, ast.Name):
            return self.resolve_name(node.id, scope, depth + 1)
        if isinstance(node, ast.Attribute):
            base = self.resolve_expr(node.value, scope, depth + 1)
            return self.resolve_attribute(base, node.attr, depth + 1)
        return None

    def resolve_name(self, name: str, scope: Scope, depth: int = 0) -> Ref:
        """Memoized per scope: every guard of a file and every column of a model module
        asks again for the same few names. A memoized answer replays the modules it
        was looked up in, which the result cache records as dependencies."""
        if depth > MAX_DEPTH:
            self._cutoffs += 1
            return None
        key = ("name", name)
        memo = scope.memo
        if key in memo:
            ref, consulted = memo[key]
            self.loader.record(consulted)
            return ref
        cutoffs = self._cutoffs
        with self.loader.recording() as consulted:
            ref = self._resolve_name(name, scope, depth)
        if cutoffs == self._cutoffs:
            memo[key] = (ref, frozenset(consulted))
        return ref

    def _resolve_name(self, name: str, scope: Scope, depth: int) -> Ref:
        owner, bindings = scope.lookup(name)
        if owner is None:
            if name in BUILTIN_NAMES and name not in scope.declared_free:
                return External(f"builtins.{name}")
            return None
        # An ``except ImportError:`` fallback stands in only when the import fails;
        # a ``TYPE_CHECKING`` binding only for type checkers when an ``else`` binds too.
        bindings = [binding for binding in bindings if not binding.fallback] or bindings
        if owner.parent is None and len(bindings) > 1:
            bindings = settled_module_bindings(owner, name, bindings)
        results = [self._resolve_binding(binding, owner, depth + 1) for binding in bindings]
        first = results[0]
        if first is None or any(result != first for result in results[1:]):
            return None
        return first

    def resolve_in_module(self, module: ModuleInfo, name: str, depth: int = 0) -> Ref:
        if depth > MAX_DEPTH:
            self._cutoffs += 1
            return None
        if name in module.scope.bindings:
            return self.resolve_name(name, module.scope, depth + 1)
        submodule = self._loader_for(module).load(f"{module.name}.{name}")
        if submodule is not None:
            return ModuleRef(submodule)
        return self._resolve_star_imports(module, name, depth + 1)

    def _resolve_star_imports(self, module: ModuleInfo, name: str, depth: int) -> Ref:
        """``from .visits import *`` of project modules (never third-party ones)."""
        for statement in module.tree.body:
            if not isinstance(statement, ast.ImportFrom) or statement.names[0].name != "*":
                continue
            source = self._import_source(module, statement)
            if source is not None and name in source.scope.bindings:
                return self.resolve_in_module(source, name, depth + 1)
        return None

    def resolve_attribute(self, base: Ref, attr: str, depth: int = 0) -> Ref:
        if isinstance(base, External):
            return External(f"{base.dotted}.{attr}")
        if isinstance(base, ModuleRef):
            return self.resolve_in_module(base.module, attr, depth + 1)
        if isinstance(base, Value) and self.is_flask_sqlalchemy(base, depth + 1):
            return External(flask_attribute(attr))
        if isinstance(base, Value):
            cls = self._constructed_class(base, depth + 1)
            return self._instance_member(cls, attr, depth + 1) if cls is not None else None
        if isinstance(base, Instance):
            return self._instance_member(base.cls, attr, depth + 1)
        return None

    def _constructed_class(self, value: Value, depth: int) -> Optional[ClassRef]:
        """The project class a value is made by: ``SessionController()``."""
        call = value.node
        if not isinstance(call, ast.Call):
            return None
        ref = self.resolve_expr(call.func, value.scope or value.module.scope, depth + 1)
        return ref if isinstance(ref, ClassRef) else None

    def _instance_member(self, cls: ClassRef, attr: str, depth: int) -> Ref:
        """What ``attr`` of an instance of a project class is, as far as the class's own
        body says: a typed property, a method (``controller.get_agent``), or an object
        that ``__init__`` alone sets (``self.agents_controller = AgentsController()``).
        Members inherited from bases are not followed."""
        found = Scope(cls.node, cls.module.scope).bindings.get(attr, [])
        if not found:
            return self._set_by_init(cls, attr)
        method = only_method(cls, found)
        if method is not None:
            return method
        if len(found) != 1 or found[0].kind != "function" or not isinstance(found[0].node, ast.FunctionDef):
            return None
        return self._typed_property(cls, found[0].node, depth + 1)

    def method_of(self, cls: ClassRef, attr: str) -> Optional[FunctionRef]:
        """The one method the class's own body defines under ``attr``: undecorated, a
        classmethod or a staticmethod. Overloads, properties, other decorated
        callables and names bound twice are not followed."""
        return only_method(cls, Scope(cls.node, cls.module.scope).bindings.get(attr, []))

    def _set_by_init(self, cls: ClassRef, attr: str) -> Ref:
        """``self.attr = Call(...)``, a statement of ``__init__``'s own body, when no
        other method of the class assigns or deletes ``self.attr``."""
        init, assigned = assigned_only_by_init(cls.node)
        statement = assigned.get(attr)
        if statement is None or statement not in init.body or not isinstance(statement.value, ast.Call):
            return None
        return Value(cls.module, statement.value, Scope(init, cls.module.scope))

    def _typed_property(self, cls: ClassRef, function: ast.FunctionDef, depth: int) -> Ref:
        """The class a property annotated ``-> type[X]`` returns; any other decorated
        function is unknown."""
        if len(function.decorator_list) != 1:
            return None
        decorator = self.resolve_expr(function.decorator_list[0], cls.module.scope, depth + 1)
        returned = _class_of_type_annotation(function.returns)
        if not (isinstance(decorator, External) and decorator.dotted in PROPERTY_NAMES) or returned is None:
            return None
        ref = self.resolve_expr(returned, cls.module.scope, depth + 1)
        return ref if isinstance(ref, ClassRef) else None

    def _resolve_binding(self, binding: Binding, scope: Scope, depth: int) -> Ref:
        module = scope.module  # set on every module scope, inherited by the others
        if binding.kind == "class":
            return ClassRef(module, binding.node)
        if binding.kind == "function":
            return FunctionRef(module, binding.node)
        if binding.kind == "import":
            return self._resolve_import(binding, module, depth)
        if binding.kind == "param" and binding.annotation is not None:
            # annotations are evaluated where the function is defined
            annotation = unquote(binding.annotation)
            if not isinstance(annotation, (ast.Name, ast.Attribute)):
                return None
            cls = self.resolve_expr(annotation, scope.parent, depth + 1)
            return Instance(cls) if isinstance(cls, ClassRef) else None
        if binding.kind in ("assign", "annotated") and binding.node is not binding.annotation:
            value = binding.node
            if isinstance(value, (ast.Name, ast.Attribute)):
                return self.resolve_expr(value, scope, depth + 1)
            return Value(module, value, scope)
        return None

    def _import_source(self, module: ModuleInfo, statement: ast.ImportFrom) -> Optional[ModuleInfo]:
        modname = module.absolute_name(statement.module, statement.level)
        return self._loader_for(module).load(modname) if modname else None

    def _resolve_import(self, binding: Binding, module: ModuleInfo, depth: int) -> Ref:
        statement = binding.statement
        alias = binding.node
        loader = self._loader_for(module)
        if isinstance(statement, ast.Import):
            target = alias.name if alias.asname else alias.name.split(".")[0]
            loaded = loader.load(target)
            return ModuleRef(loaded) if loaded is not None else External(target)
        modname = module.absolute_name(statement.module, statement.level)
        if modname is None:
            return None
        source = loader.load(modname)
        if source is not None:
            return self.resolve_in_module(source, alias.name, depth + 1)
        if statement.level or loader.find_file(modname) is not None:
            return None  # a project module that could not be read, or a missing one
        return External(canonical_external(f"{modname}.{alias.name}"))

    def _loader_for(self, module: ModuleInfo) -> ProjectLoader:
        """A module's imports are looked up where it was read from."""
        installed = self._installed
        if installed is not None and not module.transient and installed.owns(module.path):
            return installed
        return self.loader

    @property
    def installed_loader(self) -> InstalledLoader:
        if self._installed is None:
            self._installed = InstalledLoader(self.loader, sys.path)
        return self._installed

    def installed_class(self, dotted: str) -> Ref:
        """``flask_appbuilder.Model`` read from the installed package's source: a
        ``ClassRef``, or None when the package is not installed or the name is not a
        class there."""
        modname, _, name = dotted.rpartition(".")
        module = self.installed_loader.load(modname) if modname else None
        if module is None:
            return None
        ref = self.resolve_in_module(module, name)
        return ref if isinstance(ref, ClassRef) else None

    # -- what a value is ----------------------------------------------------------
    def qualify(self, node: Optional[ast.expr], scope: Scope) -> Optional[str]:
        """The dotted name of the external object an expression names, if any."""
        ref = self.resolve_expr(node, scope)
        return ref.dotted if isinstance(ref, External) else None

    def is_flask_sqlalchemy(self, value: Value, depth: int = 0) -> bool:
        """Is this value ``SQLAlchemy(...)`` of Flask-SQLAlchemy (or of a subclass)?"""
        call = value.node
        if not isinstance(call, ast.Call):
            return False
        target = self.resolve_expr(call.func, value.module.scope, depth + 1)
        if isinstance(target, External):
            return target.dotted in FLASK_SQLALCHEMY_NAMES
        if isinstance(target, ClassRef):
            return any(
                isinstance(base, External) and base.dotted in FLASK_SQLALCHEMY_NAMES
                for base in self.iter_base_refs(target, depth + 1)
            )
        return False

    def base_refs(self, cls: ClassRef, depth: int = 0) -> list:
        """The bases' refs; a generic base (``TypeDecorator[datetime]``) is its origin."""
        return [
            self.resolve_expr(base.value if isinstance(base, ast.Subscript) else base, cls.module.scope, depth + 1)
            for base in cls.node.bases
        ]

    def iter_base_refs(self, cls: ClassRef, depth: int = 0, _seen: Optional[set] = None):
        """Every base of a class, transitively, as refs (project classes are followed)."""
        seen = _seen if _seen is not None else set()
        if cls in seen or depth > MAX_DEPTH:
            return
        seen.add(cls)
        for ref in self.base_refs(cls, depth):
            yield ref
            if isinstance(ref, ClassRef):
                yield from self.iter_base_refs(ref, depth + 1, seen)
