"""What a column's declared type says about its stored values (SEMANTICS.md section 2).

Decided from SQLAlchemy's own type classes: a type is instantiated with the literal
keywords written in the model (so the installed SQLAlchemy's defaults apply, e.g.
``postgresql.UUID(as_uuid=...)``) and its ``python_type`` consulted. Only ``datetime``,
``date``, ``time``, ``uuid.UUID`` and a plain ``Enum`` class mean "always truthy";
``object`` or ``NotImplementedError`` mean unknown.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import sys
import uuid
from typing import Any, Optional

from flake8_dbconstraints import result_values
from flake8_dbconstraints.names import (
    ClassRef, External, FunctionRef, NameResolver, import_sqlalchemy_object, sqlalchemy_2_name,
)
from flake8_dbconstraints.result_values import ALWAYS_TRUTHY_PYTHON_TYPES
from flake8_dbconstraints.scopes import Scope, parameter_names, walk

# Standard-library modules whose classes may appear in ``Mapped[...]``; importing
# them runs no project code.
PYTHON_TYPE_MODULES = frozenset({"builtins", "datetime", "decimal", "uuid", "enum", "typing"})
# Decoders whose values are dicts and lists that nothing tracks: a TypeDecorator whose
# ``process_result_value`` calls one is SQLAlchemy's documented ``JSONEncodedDict``.
JSON_DECODERS = frozenset({"json.loads", "simplejson.loads", "ujson.loads", "orjson.loads", "pickle.loads"})
TRUTHY_WHEN_NONZERO_BASES = frozenset(
    {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "builtins.str", "builtins.int"}
)
NON_PLAIN_ENUM_BASES = frozenset(
    {"enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag", "enum.ReprEnum"}
)


@dataclasses.dataclass(frozen=True)
class TypeFacts:
    """What every stored value of a NOT NULL column of this type is like."""

    label: str
    always_truthy: bool = False
    may_read_none: bool = True  # a NOT NULL column of this type may still read None
    mutable: Optional[str] = None  # None, "untracked" (lost in-place writes) or "tracked"
    container: Optional[str] = None  # "dict" or "list": for the remedy in DBC200
    python_type: Optional[type] = None  # the class of every stored value, when known


UNKNOWN = TypeFacts("unknown type")
FOREIGN_KEY = TypeFacts("foreign key", may_read_none=False)
# Types SQLAlchemy 2.0 added, for a 2.0 project read where 1.4 is installed; as 2.0
# decides them: Uuid and UUID read uuid.UUID by default (as_uuid=True).
SQLALCHEMY_2_TYPES = {
    "Uuid": TypeFacts("Uuid", always_truthy=True, may_read_none=False),
    "UUID": TypeFacts("UUID", always_truthy=True, may_read_none=False),
    "Double": TypeFacts("Double", may_read_none=False),
    "DOUBLE": TypeFacts("DOUBLE", may_read_none=False),
    "DOUBLE_PRECISION": TypeFacts("DOUBLE_PRECISION", may_read_none=False),
}


def class_body_names(node: ast.ClassDef) -> set:
    """Names a class body defines (assignments, annotations, functions, classes)."""
    names = set()
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign):
            names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names.add(statement.target.id)
    return names


def class_assignment(node: ast.ClassDef, name: str) -> Optional[ast.expr]:
    """The value of ``name = value`` in a class body (the last one), or None."""
    return _class_assignments(node).get(name)


_ASSIGNMENTS_CACHE: dict[int, tuple[ast.ClassDef, dict]] = {}


def _class_assignments(node: ast.ClassDef) -> dict:
    """Every model reads ``__tablename__``, ``__table__``, ``__table_args__``... of each
    class of its hierarchy: the body is scanned once per class."""
    cached = _ASSIGNMENTS_CACHE.get(id(node))
    if cached is not None and cached[0] is node:
        return cached[1]
    values: dict = {}
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
            values[statement.target.id] = statement.value
    if len(_ASSIGNMENTS_CACHE) > 512:
        _ASSIGNMENTS_CACHE.clear()
    _ASSIGNMENTS_CACHE[id(node)] = (node, values)
    return values


class TypeClassifier:
    def __init__(self, resolver: NameResolver, truthy_types=(), json_types=()) -> None:
        self.resolver = resolver
        self.truthy_types = frozenset(truthy_types)
        self.json_types = frozenset(json_types)

    # -- type expressions (``DateTime``, ``sa.JSON()``, ``MutableDict.as_mutable(JSON)``) --
    def classify_expr(self, node: ast.expr, scope: Scope, depth: int = 0) -> TypeFacts:
        if depth > 8:
            return UNKNOWN
        args: list = []
        keywords: dict = {}
        target_node = node
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "as_mutable":
                if node.args and self.is_mutable_class(self.resolver.resolve_expr(func.value, scope)):
                    inner = self.classify_expr(node.args[0], scope, depth + 1)
                    if inner.mutable:
                        return dataclasses.replace(inner, mutable="tracked")
                    return inner
                return UNKNOWN
            target_node = func
            args = list(node.args)
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        ref = self.resolver.resolve_expr(target_node, scope)
        return self.classify_ref(ref, scope, args, keywords, depth)

    def classify_ref(self, ref: Any, scope: Scope, args=(), keywords=None, depth: int = 0) -> TypeFacts:
        facts = self._classify_ref(ref, scope, args, keywords or {}, depth)
        if facts.mutable == "untracked" and self._is_associated(ref, scope):
            return dataclasses.replace(facts, mutable="tracked")
        return facts

    def _classify_ref(self, ref: Any, scope: Scope, args, keywords: dict, depth: int) -> TypeFacts:
        if isinstance(ref, External):
            configured = self._configured(ref.dotted)
            if configured is not None:
                return configured
            obj = import_sqlalchemy_object(ref.dotted)
            if isinstance(obj, type) and _is_type_engine(obj):
                return self.classify_sqlalchemy_class(obj, scope, args, keywords)
            facts = SQLALCHEMY_2_TYPES.get(sqlalchemy_2_name(ref.dotted) or "", UNKNOWN)
            if facts.always_truthy and _literal_keywords(keywords).get("as_uuid") is False:
                return dataclasses.replace(facts, always_truthy=False)  # reads a str
            return facts
        if isinstance(ref, ClassRef):
            configured = self._configured(ref.qname)
            if configured is not None:
                return configured
            return self.classify_project_type(ref, depth, scope, args, keywords)
        if isinstance(ref, FunctionRef):
            return self.classify_type_factory(ref, depth)
        return UNKNOWN

    def classify_type_factory(self, ref: FunctionRef, depth: int) -> TypeFacts:
        """``Column(StringID())`` where ``def StringID(**kw): return String(**kw)`` (airflow):
        the type the function's single ``return`` builds. What the caller passes is not
        followed: when the call forwards a parameter, only facts no argument can change
        are kept (never None, in-place changes untracked); a project type is then unknown."""
        function = ref.node
        body = [node for node in function.body if not _is_docstring(node)]
        if (
            isinstance(function, ast.AsyncFunctionDef)
            or function.decorator_list
            or len(body) != 1
            or not isinstance(body[0], ast.Return)
            or not isinstance(body[0].value, ast.Call)
        ):
            return UNKNOWN
        call = body[0].value
        facts = self.classify_expr(call, Scope(function, ref.module.scope), depth + 1)
        if facts is UNKNOWN:
            return UNKNOWN
        parameters = parameter_names(function)
        arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
        forwards = any(
            isinstance(node, ast.Name) and node.id in parameters
            for argument in arguments
            for node in walk(argument)
        )
        label = f"{function.name} ({facts.label})"
        if not forwards:
            return dataclasses.replace(facts, label=label)
        if isinstance(self.resolver.resolve_expr(call.func, ref.module.scope), ClassRef):
            return UNKNOWN
        return TypeFacts(label, may_read_none=facts.may_read_none, mutable=facts.mutable, container=facts.container)

    def _configured(self, dotted: str) -> Optional[TypeFacts]:
        label = dotted.rsplit(".", 1)[-1]
        if dotted in self.truthy_types:
            return TypeFacts(label, always_truthy=True, may_read_none=False)
        if dotted in self.json_types:
            return TypeFacts(label, mutable="untracked", container="dict")
        return None

    def classify_sqlalchemy_class(self, cls: type, scope: Optional[Scope] = None, args=(),
                                  keywords=None) -> TypeFacts:
        from sqlalchemy import types

        label = cls.__name__
        if issubclass(cls, types.JSON):
            return TypeFacts(label, mutable="untracked", container="dict")
        if issubclass(cls, types.ARRAY):
            return TypeFacts(label, may_read_none=False, mutable="untracked", container="list")
        if issubclass(cls, types.PickleType):
            return TypeFacts(label, may_read_none=False, mutable="untracked", container="dict")
        hstore = _imported_hstore()
        if hstore is not None and issubclass(cls, hstore):
            return TypeFacts(label, may_read_none=False, mutable="untracked", container="dict")
        if issubclass(cls, types.Enum):
            return self._classify_enum(args, scope)
        if issubclass(cls, (types.UserDefinedType, types.NullType)):
            return UNKNOWN
        return _classify_by_python_type(cls, tuple(sorted(_literal_keywords(keywords or {}).items(), key=repr)))

    def _classify_enum(self, args, scope: Optional[Scope]) -> TypeFacts:
        if len(args) == 1 and not isinstance(args[0], ast.Constant) and scope is not None:
            ref = self.resolver.resolve_expr(args[0], scope)
            if isinstance(ref, ClassRef):
                return self.classify_enum_class(ref)
            return UNKNOWN
        if args and all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in args):
            # String enums may hold "" (SEMANTICS 2): never always truthy.
            return TypeFacts("Enum", may_read_none=False)
        return UNKNOWN

    def classify_enum_class(self, cls: ClassRef) -> TypeFacts:
        """``Enum(PyEnum)`` or ``Mapped[PyEnum]``: truthy for a plain ``Enum`` class, and for
        a ``str``/``int`` enum none of whose members is ``""`` or ``0``."""
        kind = self.enum_kind(cls)
        if kind is None:
            return UNKNOWN
        truthy = kind == "plain" or (kind == "mixed" and self._members_all_truthy(cls))
        return TypeFacts(f"Enum({cls.name})", always_truthy=truthy, may_read_none=False)

    def _members_all_truthy(self, cls: ClassRef) -> bool:
        """A stored value is always one of the members (SQLAlchemy loads them by name);
        a ``(str, Enum)`` member is falsy only when it is ``""``, an ``IntEnum`` one only
        when it is ``0`` (SEMANTICS 2). Flags combine into 0: never."""
        externals = {ref.dotted for ref in self.resolver.iter_base_refs(cls) if isinstance(ref, External)}
        if not externals <= TRUTHY_WHEN_NONZERO_BASES or {"__bool__", "__len__"} & class_body_names(cls.node):
            return False
        names_members = self._auto_gives_names(cls)
        members = [
            statement.value
            for statement in cls.node.body
            if isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and not statement.targets[0].id.startswith("_")
        ]
        return bool(members) and all(_is_truthy_member(value, names_members) for value in members)

    def _auto_gives_names(self, cls: ClassRef) -> bool:
        """Does ``auto()`` give a non-empty value? It does unless a project class
        redefines ``_generate_next_value_``; one that returns ``name`` still does."""
        for class_ref in [cls, *self._project_bases(cls)]:
            for statement in class_ref.node.body:
                if isinstance(statement, ast.FunctionDef) and statement.name == "_generate_next_value_":
                    body = [node for node in statement.body if not isinstance(node, ast.Expr)]
                    first = statement.args.posonlyargs + statement.args.args
                    return (
                        len(body) == 1
                        and isinstance(body[0], ast.Return)
                        and isinstance(body[0].value, ast.Name)
                        and bool(first)
                        and body[0].value.id == first[0].arg
                    )
        return True

    def enum_kind(self, cls: ClassRef) -> Optional[str]:
        """"plain" for an Enum without mixins or ``__bool__``/``__len__``, "mixed" for
        other enums, None if it is not (known to be) an enum."""
        is_enum = False
        plain = True
        for class_ref in [cls, *self._project_bases(cls)]:
            if {"__bool__", "__len__"} & class_body_names(class_ref.node):
                plain = False
        for ref in self.resolver.iter_base_refs(cls):
            if isinstance(ref, ClassRef):
                continue
            if not isinstance(ref, External):
                return None
            if ref.dotted == "enum.Enum":
                is_enum = True
            elif ref.dotted in NON_PLAIN_ENUM_BASES:
                is_enum = True
                plain = False
            else:
                plain = False  # a mixed-in type such as str or int (SEMANTICS 2)
        if not is_enum:
            return None
        return "plain" if plain else "mixed"

    def _project_bases(self, cls: ClassRef) -> list:
        return [ref for ref in self.resolver.iter_base_refs(cls) if isinstance(ref, ClassRef)]

    def classify_project_type(self, cls: ClassRef, depth: int, scope: Optional[Scope] = None, args=(),
                              keywords=None) -> TypeFacts:
        """A project's own ``TypeDecorator`` (or subclass of a SQLAlchemy type), or enum.
        ``args``/``keywords`` are those the column passes to the type (``PyIntEnum(State)``)."""
        chain = [cls, *self._project_bases(cls)]
        sqlalchemy_bases = []
        for ref in self.resolver.iter_base_refs(cls):
            if isinstance(ref, External):
                obj = import_sqlalchemy_object(ref.dotted)
                if isinstance(obj, type) and _is_type_engine(obj):
                    sqlalchemy_bases.append(obj)
        if not sqlalchemy_bases:
            return self.classify_enum_class(cls)
        from sqlalchemy import types

        base = sqlalchemy_bases[0]
        if base is types.TypeDecorator:
            facts = UNKNOWN
            for ref in chain:
                impl = class_assignment(ref.node, "impl")
                if impl is not None:
                    facts = self.classify_expr(impl, ref.module.scope, depth + 1)
                    break
        else:
            facts = self.classify_sqlalchemy_class(base)
        if any("result_processor" in class_body_names(ref.node) for ref in chain):
            return TypeFacts(cls.name, mutable=facts.mutable, container=facts.container)
        definer = _first_defining(chain, "process_result_value")
        if definer is None:
            return dataclasses.replace(facts, label=cls.name)
        # The impl's in-place facts stay whatever the method returns: an item assignment
        # or dict/list method call on the value still changes it in place, unseen (issue
        # #4: "a TypeDecorator whose impl is one of them").
        result = self._decorated_result(chain, definer, facts, scope, args, keywords or {}, depth)
        mutable = facts.mutable
        if mutable is None and self._decodes_json(definer):
            mutable = "untracked"  # ``impl = Text`` with ``json.loads``: in place is unseen
        return TypeFacts(
            cls.name,
            always_truthy=result.always_truthy,
            may_read_none=not result.never_none,
            mutable=mutable,
            container=facts.container,
            python_type=result.python_type,
        )

    def _decodes_json(self, definer: ClassRef) -> bool:
        """Does ``process_result_value`` call ``json.loads`` (or another decoder of
        ``JSON_DECODERS``)? Its values are then dicts and lists whose in-place changes
        SQLAlchemy never sees (SEMANTICS 6), whatever the ``impl``."""
        function = _method(definer.node, "process_result_value")
        for node in walk(function) if function is not None else ():
            if isinstance(node, ast.Call):
                ref = self.resolver.resolve_expr(node.func, definer.module.scope)
                if isinstance(ref, External) and ref.dotted in JSON_DECODERS:
                    return True
        return False

    def _decorated_result(self, chain, definer: ClassRef, impl_facts: TypeFacts, scope, args, keywords,
                          depth: int) -> result_values.Result:
        """What ``process_result_value`` returns for a non-NULL value (result_values.py)."""
        def resolve_class(node: ast.expr) -> Optional[type]:
            ref = self.resolver.resolve_expr(node, definer.module.scope)
            return import_python_type(ref.dotted) if isinstance(ref, External) else None

        def evaluate_call(node: ast.Call) -> Optional[result_values.Result]:
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
                # ``self.enum(value)``: the class the column passed to ``__init__``.
                argument = _init_argument(chain, func.attr, args, keywords)
                if argument is None or scope is None:
                    return None
                ref = self.resolver.resolve_expr(argument, scope)
                return self._class_call_result(ref) if isinstance(ref, ClassRef) else None
            ref = self.resolver.resolve_expr(func, definer.module.scope)
            if isinstance(ref, ClassRef):
                return self._class_call_result(ref)
            python_class = resolve_class(func)
            return result_values.instance_of(python_class) if python_class is not None else None

        incoming = self._dialect_impl_result(chain, 0, impl_facts, depth)
        function = _method(definer.node, "process_result_value")
        return result_values.returned_value(function, incoming, evaluate_call, resolve_class)

    def _class_call_result(self, cls: ClassRef) -> result_values.Result:
        """A project class called: an enum gives one of its members, any other class a
        new instance; neither is None."""
        facts = self.classify_enum_class(cls)
        return _facts_result(facts) if facts is not UNKNOWN else result_values.Result(never_none=True)

    def _dialect_impl_result(self, chain: list, start: int, impl_facts: TypeFacts,
                             depth: int) -> result_values.Result:
        """The values ``load_dialect_impl``'s types read, whichever dialect it picks, as
        defined by ``chain[start:]``; TypeDecorator's own returns the ``impl``."""
        definer = _first_defining(chain[start:], "load_dialect_impl")
        if definer is None:
            if start and not self._reaches_typedecorator_dialect_impl(chain[0]):
                return result_values.UNKNOWN  # super() may land in a base we do not read
            return _facts_result(impl_facts)
        function = _method(definer.node, "load_dialect_impl")
        returns = [node for node in walk(function) if isinstance(node, ast.Return)]
        result = None
        for node in returns:
            value = node.value
            if _calls_super(value, "load_dialect_impl"):
                # ``return super().load_dialect_impl(dialect)``: what the next definer
                # along the bases returns (airflow's UtcDateTime, for every dialect
                # but MySQL).
                facts = self._dialect_impl_result(chain, chain.index(definer) + 1, impl_facts, depth)
                result = facts if result is None else result.join(facts)
                continue
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "type_descriptor"
                and len(value.args) == 1
            ):
                value = value.args[0]
            if value is None:
                return result_values.UNKNOWN
            facts = _facts_result(self.classify_expr(value, definer.module.scope, depth + 1))
            result = facts if result is None else result.join(facts)
        return result or result_values.UNKNOWN

    def _reaches_typedecorator_dialect_impl(self, cls: ClassRef) -> bool:
        """Past the project's classes, is ``load_dialect_impl`` TypeDecorator's own,
        which returns the ``impl``? Not when any other base could override it."""
        from sqlalchemy import types

        own = types.TypeDecorator.load_dialect_impl
        for ref in self.resolver.iter_base_refs(cls):
            if isinstance(ref, ClassRef):
                continue
            obj = import_sqlalchemy_object(ref.dotted) if isinstance(ref, External) else None
            if not isinstance(obj, type) or getattr(obj, "load_dialect_impl", own) is not own:
                return False
        return True

    # -- ``Mutable.associate_with(T)``: every column of ``T`` (or a subclass) is tracked --
    def _is_associated(self, ref: Any, scope: Optional[Scope]) -> bool:
        """Looked for in the module that declares the column and in the one that
        defines the type, where SQLAlchemy's documentation puts it (and most public
        code that calls it)."""
        modules = [getattr(scope, "module", None), getattr(ref, "module", None)]
        for module in modules:
            for associated in self._associations(module) if module is not None else ():
                if associated is None or self._is_subtype(ref, associated):
                    return True  # None: associated with a type we cannot tell
        return False

    def _associations(self, module: Any) -> tuple:
        """The type refs a module hands to ``X.associate_with(...)`` of a ``Mutable``
        class (or of a class we cannot tell), None for a type we cannot tell."""
        if not module.associates_types:
            return ()
        memo = module.scope.memo
        if "associations" not in memo:
            found = []
            for node in walk(module.tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "associate_with"):
                    continue
                owner = self.resolver.resolve_expr(node.func.value, module.scope)
                if owner is not None and not self.is_mutable_class(owner):
                    continue
                found.append(self.resolver.resolve_expr(node.args[0], module.scope) if node.args else None)
            memo["associations"] = tuple(found)
        return memo["associations"]

    def _is_subtype(self, ref: Any, associated: Any) -> bool:
        """Is the class ``ref`` the class ``associated`` or a subclass (SQLAlchemy
        tests ``isinstance`` on each mapped column's type)?"""
        refs = [ref, *self.resolver.iter_base_refs(ref)] if isinstance(ref, ClassRef) else [ref]
        for candidate in refs:
            if isinstance(candidate, ClassRef) and isinstance(associated, ClassRef):
                if candidate.node is associated.node:
                    return True
            elif isinstance(candidate, External) and isinstance(associated, External):
                own, other = import_sqlalchemy_object(candidate.dotted), import_sqlalchemy_object(associated.dotted)
                if isinstance(own, type) and isinstance(other, type) and issubclass(own, other):
                    return True
        return False

    def is_mutable_class(self, ref: Any) -> bool:
        """Is this ``sqlalchemy.ext.mutable.Mutable`` or a subclass of it (any name)?"""
        mutable = import_sqlalchemy_object("sqlalchemy.ext.mutable.Mutable")
        if isinstance(ref, External):
            obj = import_sqlalchemy_object(ref.dotted)
            return isinstance(obj, type) and issubclass(obj, mutable)
        if isinstance(ref, ClassRef):
            return any(
                self.is_mutable_class(base) for base in self.resolver.iter_base_refs(ref)
                if isinstance(base, External)
            )
        return False

    # -- Python types (``Mapped[datetime]``, SQLModel ``x: date``) -------------------
    def classify_python_ref(self, ref: Any) -> TypeFacts:
        if isinstance(ref, ClassRef):
            return self.classify_enum_class(ref)
        if not isinstance(ref, External):
            return UNKNOWN
        python_type = import_python_type(ref.dotted)
        if python_type is None:
            return UNKNOWN
        from sqlalchemy.sql import sqltypes

        sa_type = sqltypes._type_map.get(python_type)
        if sa_type is None:
            # SQLAlchemy 1.4 maps no uuid.UUID: a 2.0 project gets Uuid there.
            return SQLALCHEMY_2_TYPES["Uuid"] if python_type is uuid.UUID else UNKNOWN
        return self.classify_sqlalchemy_class(type(sa_type))


def _is_truthy_member(value: ast.expr, auto_is_truthy: bool) -> bool:
    """``"a"``, ``1`` or ``auto()`` (a non-empty name or a count from 1)."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (str, int)) and not isinstance(value.value, bool) and bool(value.value)
    return (
        auto_is_truthy
        and isinstance(value, ast.Call)
        and not value.args
        and (getattr(value.func, "id", None) == "auto" or getattr(value.func, "attr", None) == "auto")
    )


def classify_python_type(label: str, python_type: Any) -> TypeFacts:
    if python_type is None or python_type is object or not isinstance(python_type, type):
        return UNKNOWN
    truthy = issubclass(python_type, ALWAYS_TRUTHY_PYTHON_TYPES)
    return TypeFacts(label, always_truthy=truthy, may_read_none=False, python_type=python_type)


def _facts_result(facts: TypeFacts) -> result_values.Result:
    return result_values.Result(
        never_none=not facts.may_read_none, always_truthy=facts.always_truthy, python_type=facts.python_type
    )


def _method(node: ast.ClassDef, name: str) -> Optional[ast.stmt]:
    """The last ``def name`` in a class body (a later one wins, as at run time)."""
    found = None
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
            found = statement
    return found


def _first_defining(chain: list, name: str) -> Optional[ClassRef]:
    """The first class of ``chain`` (the class, then its project bases) defining ``name``."""
    for ref in chain:
        if name in class_body_names(ref.node):
            return ref
    return None


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _calls_super(value: Optional[ast.expr], method: str) -> bool:
    """``super().method(...)`` (or ``super(C, self).method(...)``)."""
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == method
        and isinstance(value.func.value, ast.Call)
        and isinstance(value.func.value.func, ast.Name)
        and value.func.value.func.id == "super"
    )


def _init_argument(chain: list, attr: str, args, keywords: dict) -> Optional[ast.expr]:
    """The argument the column passed for ``self.<attr> = <parameter>`` in ``__init__``."""
    definer = _first_defining(chain, "__init__")
    init = _method(definer.node, "__init__") if definer is not None else None
    if not isinstance(init, ast.FunctionDef):
        return None
    params = [arg.arg for arg in init.args.posonlyargs + init.args.args][1:]
    stores = [
        node for ref in chain for node in walk(ref.node)
        if isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.ctx, ast.Store)
    ]
    if len(stores) != 1:
        return None  # set in more than one place: not followed
    for statement in init.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Attribute)
            and isinstance(statement.targets[0].value, ast.Name)
            and statement.targets[0].value.id == "self"
            and statement.targets[0].attr == attr
            and isinstance(statement.value, ast.Name)
            and statement.value.id in params
        ):
            name = statement.value.id
            if name in keywords:
                return keywords[name]
            index = params.index(name)
            return args[index] if index < len(args) else None
    return None


def import_python_type(dotted: str) -> Optional[type]:
    module_name, _, name = dotted.rpartition(".")
    if module_name not in PYTHON_TYPE_MODULES:
        return None
    obj = getattr(importlib.import_module(module_name), name, None)
    return obj if isinstance(obj, type) else None


def _imported_hstore() -> Optional[type]:
    """HSTORE if its module is loaded. A class can only derive from HSTORE once that
    module is imported, and importing SQLAlchemy's PostgreSQL dialect just to ask costs
    a project that never uses it about 0.1 s in every flake8 process."""
    return getattr(sys.modules.get("sqlalchemy.dialects.postgresql.hstore"), "HSTORE", None)


def _is_type_engine(cls: type) -> bool:
    from sqlalchemy import types

    return issubclass(cls, types.TypeEngine)


def _literal_keywords(keywords: dict) -> dict:
    return {
        key: value.value
        for key, value in keywords.items()
        if isinstance(value, ast.Constant) and isinstance(value.value, (bool, int, str))
    }


@functools.lru_cache(maxsize=1024)
def _classify_by_python_type(cls: type, keywords: tuple) -> TypeFacts:
    """Every column of a model module asks about the same few types: an instance is
    made and asked for its ``python_type`` once per type and literal keywords."""
    return classify_python_type(cls.__name__, _python_type(_instantiate(cls, dict(keywords))))


def _instantiate(cls: type, literal_keywords: dict) -> Any:
    for kwargs in (literal_keywords, {}):
        try:
            return cls(**kwargs)
        except Exception:
            continue
    return None


def _python_type(instance: Any) -> Any:
    if instance is None:
        return None
    try:
        return instance.python_type
    except Exception:  # NotImplementedError in 2.0 means unknown (SEMANTICS 2)
        return None
