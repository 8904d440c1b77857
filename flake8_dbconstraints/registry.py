"""The model index: which project classes are mapped, and what their columns are.

A class is mapped when it derives (through project classes, followed through the
project's imports) from a declarative root: ``DeclarativeBase``,
``declarative_base()``, ``registry().generate_base()``, ``@as_declarative``,
Flask-SQLAlchemy's ``db.Model``, or is decorated ``@registry.mapped``; SQLModel
classes are mapped only with ``table=True``. Columns are collected along the class's
MRO (mixins and abstract bases included), the first definition of a key winning.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import re
from typing import Any, Iterator, Mapping, Optional

import ast

from flake8_dbconstraints.column_types import FOREIGN_KEY, UNKNOWN, TypeClassifier, TypeFacts, class_assignment
from flake8_dbconstraints.declarations import (
    ColumnDeclaration,
    DeclarationReader,
    RelationshipDeclaration,
    literal,
    parse_annotation,
    unwrap_mapped,
    unwrap_optional,
)
from flake8_dbconstraints.loader import forget_loaded_modules
from flake8_dbconstraints.names import FLASK_MODEL, ClassRef, External, FunctionRef, NameResolver, Value, only_method
from flake8_dbconstraints.names import is_sqlalchemy as _is_sa
from flake8_dbconstraints.nullability import is_not_null
from flake8_dbconstraints.safety import guarded
from flake8_dbconstraints.scopes import Scope, last_name, walk

SQLMODEL_BASES = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})
# Installed bases of a model whose methods write no column of the row (SQLModel's
# ``sqlmodel_update`` is an opaque write of its own: ``scopes.opaque_arguments``).
# ``AsyncAttrs`` is matched by name: its module imports only where greenlet is installed.
BASES_WRITING_NOTHING = SQLMODEL_BASES | {"abc.ABC", "typing.Generic", "sqlalchemy.ext.asyncio.AsyncAttrs"}
# Flask-SQLAlchemy 3 names a table after its class: "VisitNote" -> "visit_note".
FLASK_TABLE_NAME = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")
MAPPED_KINDS = frozenset({"root", "abstract", "model"})
# The public names a declarative root (SQLAlchemy's, Flask-SQLAlchemy's ``db.Model``)
# gives its models; a mixin's method of such a name is never reached.
DECLARATIVE_ROOT_NAMES = frozenset({"metadata", "registry", "query", "query_class", "type_annotation_map"})
# map_imperatively options that change which columns are mapped under which keys.
IMPERATIVE_OPTIONS_NOT_FOLLOWED = frozenset({"column_prefix", "include_properties", "exclude_properties", "inherits"})
# Deeper inheritance chains than this are cut (their far bases ignored): it bounds the
# recursion well below Python's limit.
MAX_HIERARCHY_DEPTH = 200


@dataclasses.dataclass(frozen=True)
class ColumnInfo:
    key: str
    db_name: str
    not_null: bool
    primary_key: bool
    facts: TypeFacts
    declaration: ColumnDeclaration
    path: str = ""  # the declaring module's file
    line: int = 0
    col: int = 0

    @property
    def declared_at(self) -> str:
        """``app/models.py:14``; made when a message needs it (most columns never
        appear in one; a relpath per column cost 3 % of the plugin's cold time)."""
        return f"{display_path(self.path)}:{self.line}"

    @property
    def declared_type(self) -> str:
        """``Mapped[InvoiceState]`` as written, or the type's name, for messages."""
        return self.declaration.annotation_text or self.facts.label


class LazyColumns(Mapping[str, ColumnInfo]):
    """A model's columns, each classified when first read.

    A checked file reads few columns of the models it reaches, and classifying a
    column (its type's names resolved through the project's imports, an
    ``Annotated`` alias expanded) was most of reading a model: measured on the
    100-package benchmark monorepo, one pass over every file built 7,451 columns
    where the checks read 2,825. A column is remembered with the module lookups of
    its classification, as a model is (``ModelRegistry.remembered``), so that a
    cached finding still rests on the modules its column's type came from.
    A column whose classification fails is not a column of the model.
    """

    def __init__(self, registry: "ModelRegistry", declared: dict) -> None:
        self._registry = registry
        self._declared = declared  # key -> (ColumnDeclaration, the base's type_annotation_map)
        self._read: dict[str, tuple[Optional[ColumnInfo], frozenset]] = {}

    def _column(self, key: str) -> Optional[ColumnInfo]:
        if key not in self._declared:
            return None
        declaration, annotation_map = self._declared[key]

        def classify() -> Optional[ColumnInfo]:
            column = None
            with guarded(f"the type of column {key} in {declaration.path}"):
                column = self._registry._column_info(declaration, annotation_map)
            return column

        return self._registry.remembered(self._read, key, classify)

    def __getitem__(self, key: str) -> ColumnInfo:
        column = self._column(key)
        if column is None:
            raise KeyError(key)
        return column

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._column(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (key for key in self._declared if self._column(key) is not None)

    def __len__(self) -> int:
        return sum(1 for _key in self)


# Methods whose first parameter is not the instance they are called on.
NOT_ON_INSTANCE = frozenset({"staticmethod", "classmethod"})


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    name: str
    qname: str
    columns: Mapping[str, ColumnInfo]
    relationships: Mapping[str, Any]  # key -> RelationshipDeclaration (resolved lazily)
    # The mapped class, where its methods are looked up (``visit.reset()``).
    cls: ClassRef = dataclasses.field(compare=False, repr=False)
    table: Optional[str] = None  # the mapped table's name, when it can be told statically
    schema: Optional[str] = None


class ModelRegistry:
    def __init__(self, resolver: NameResolver, classifier: TypeClassifier) -> None:
        self.resolver = resolver
        self.classifier = classifier
        self.reader = DeclarationReader(resolver)
        self.loader = resolver.loader
        # Per class: (answer, the module lookups it rested on), so that a cached answer
        # still counts those modules as dependencies of the file asking. Classes of
        # modules read from disk are keyed by file, stamp and position; classes of the
        # checked file live in the transient memos, emptied after each file (keying
        # by id() would hand a freed tree's answers to the next file's nodes).
        self._kinds: dict[tuple, tuple] = {}
        self._models: dict[tuple, tuple] = {}
        self._transient: dict[str, dict] = {"kinds": {}, "models": {}}

    def forget_transient(self) -> None:
        """Drop what was learned about the checked file's own classes."""
        for memo in self._transient.values():
            memo.clear()
        forget_loaded_modules()

    def _memo_for(self, name: str, cls: ClassRef) -> tuple[dict, tuple]:
        if cls.module.transient:
            return self._transient[name], (id(cls.node),)
        node = cls.node
        return getattr(self, f"_{name}"), (cls.module.path, cls.module.stamp, node.lineno, node.col_offset)

    def _memoized(self, name: str, cls: ClassRef, compute) -> Any:
        memo, key = self._memo_for(name, cls)
        return self.remembered(memo, key, compute)

    def remembered(self, memo: dict, key: Any, compute) -> Any:
        """``compute()``, kept in ``memo`` with the module lookups it made; a reuse
        replays them into the open recordings (what a cached finding depends on)."""
        if key in memo:
            answer, consulted = memo[key]
            self.loader.record(consulted)
            return answer
        memo[key] = (None, ())  # breaks inheritance and import cycles
        with self.loader.recording() as consulted:
            answer = compute()
        memo[key] = (answer, frozenset(consulted))
        return answer

    # -- is it a model? -------------------------------------------------------------
    def kind(self, cls: ClassRef) -> Optional[str]:
        """"root", "abstract", "model", "sqlmodel_base", "sqlmodel_table" or None.

        No depth limit: an answer must not depend on which class was asked about
        first; cycles end on the memo, a chain deeper than the stack on the guard."""
        def compute() -> Optional[str]:
            result = None
            with guarded(f"the bases of class {cls.name} in {cls.module.path}"):
                result = self._compute_kind(cls)
            return result

        return self._memoized("kinds", cls, compute)

    def _compute_kind(self, cls: ClassRef) -> Optional[str]:
        if self._is_decorated(cls, "as_declarative"):
            return "root"
        if self._is_decorated(cls, "mapped"):
            return "model"
        mapped_parent = False
        sqlmodel_parent = False
        for ref in self.mapping_bases(cls):
            if isinstance(ref, External):
                if _is_sa(ref.dotted, "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta"):
                    return "root"
                if ref.dotted == FLASK_MODEL:
                    mapped_parent = True
                elif ref.dotted in SQLMODEL_BASES:
                    sqlmodel_parent = True
            elif isinstance(ref, Value):
                mapped_parent = mapped_parent or self._is_declarative_factory(ref)
            elif isinstance(ref, ClassRef):
                parent_kind = self.kind(ref)
                mapped_parent = mapped_parent or parent_kind in MAPPED_KINDS
                sqlmodel_parent = sqlmodel_parent or (parent_kind or "").startswith("sqlmodel")
        if mapped_parent:
            return "abstract" if _is_abstract(cls.node) else "model"
        if sqlmodel_parent:
            return "sqlmodel_table" if _has_table_keyword(cls.node) else "sqlmodel_base"
        if self._imperative_mapping(cls) is not None:
            return "imperative"
        return None

    def mapping_bases(self, cls: ClassRef) -> list:
        """The bases' refs, where a class that declares a table or columns has bases
        imported from an installed package read from its source (a third-party
        declarative base such as ``flask_appbuilder.Model``)."""
        refs = self.resolver.base_refs(cls)
        if not any(isinstance(ref, External) for ref in refs) or not _declares_table_or_columns(cls.node):
            return refs
        return [
            (self.resolver.installed_class(ref.dotted) or ref) if isinstance(ref, External) else ref
            for ref in refs
        ]

    def _imperative_mapping(self, cls: ClassRef) -> Optional[tuple[Value, frozenset]]:
        """``<registry>.map_imperatively(cls, table, ...)`` (or the legacy ``mapper(cls,
        table)``) at the top of the class's module: the ``Table(...)`` value, and the
        ``properties`` keys (relationships and renamed columns, not followed)."""
        module = cls.module
        for statement in module.tree.body:
            call = getattr(statement, "value", None) if isinstance(statement, (ast.Expr, ast.Assign)) else None
            if not (isinstance(call, ast.Call) and len(call.args) >= 2 and self._maps_imperatively(call.func, module)):
                continue
            if self.resolver.resolve_expr(call.args[0], module.scope) != cls:
                continue
            keywords = {keyword.arg: keyword.value for keyword in call.keywords}
            if None in keywords or IMPERATIVE_OPTIONS_NOT_FOLLOWED & keywords.keys():
                return None
            table_node = call.args[1]
            table = (
                Value(module, table_node) if isinstance(table_node, ast.Call)
                else self.resolver.resolve_expr(table_node, module.scope)
            )
            properties = keywords.get("properties", ast.Dict(keys=[], values=[]))
            if not isinstance(table, Value) or not isinstance(properties, ast.Dict):
                return None
            keys = [_string(key) for key in properties.keys]
            if None in keys:
                return None  # ``**more`` or a computed key
            return table, frozenset(keys)
        return None

    def _maps_imperatively(self, func: ast.expr, module: Any) -> bool:
        if isinstance(func, ast.Attribute) and func.attr == "map_imperatively":
            return self._is_registry(self._registry_ref(func.value, module))
        qualified = self.resolver.qualify(func, module.scope) if last_name(func) == "mapper" else None
        return _is_sa(qualified, "sqlalchemy.orm.mapper")

    def _is_decorated(self, cls: ClassRef, name: str) -> bool:
        scope = cls.module.scope
        for decorator in cls.node.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            if name == "as_declarative" and _is_sa(
                self.resolver.qualify(func, scope),
                "sqlalchemy.orm.as_declarative",
                "sqlalchemy.ext.declarative.as_declarative",
            ):
                return True
            if (
                name == "mapped"
                and isinstance(func, ast.Attribute)
                and func.attr in ("mapped", "mapped_as_dataclass")
                and self._is_registry(self._registry_ref(func.value, cls.module))
            ):
                return True
        return False

    def _is_registry(self, ref: Any) -> bool:
        return (
            isinstance(ref, Value)
            and isinstance(ref.node, ast.Call)
            and _is_sa(self.resolver.qualify(ref.node.func, ref.module.scope), "sqlalchemy.orm.registry")
        )

    def _is_declarative_factory(self, value: Value, depth: int = 0) -> bool:
        """``declarative_base(...)``, ``<registry>.generate_base(...)``, or a call of a
        project function that returns one of those or an ``@as_declarative`` class."""
        node = value.node
        if not isinstance(node, ast.Call) or depth > 4:
            return False
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "generate_base":
            return self._is_registry(self._registry_ref(func.value, value.module))
        ref = self.resolver.resolve_expr(func, value.module.scope)
        if isinstance(ref, FunctionRef):
            return self._returns_declarative_root(ref, depth)
        return isinstance(ref, External) and _is_sa(
            ref.dotted,
            "sqlalchemy.orm.declarative_base",
            "sqlalchemy.ext.declarative.declarative_base",
        )

    def _returns_declarative_root(self, function: FunctionRef, depth: int) -> bool:
        """Does every ``return`` of ``function`` give a declarative root: a class it
        defines with ``@as_declarative``, or a base made by a factory?"""
        classes = {
            statement.name: statement for statement in function.node.body if isinstance(statement, ast.ClassDef)
        }
        returns = [statement for statement in function.node.body if isinstance(statement, ast.Return)]
        nested = [node for node in walk(function.node) if isinstance(node, ast.Return)]
        if not returns or len(nested) != len(returns):
            return False  # returns nested in branches are not followed
        for statement in returns:
            result = statement.value
            if isinstance(result, ast.Name) and result.id in classes:
                if self.kind(ClassRef(function.module, classes[result.id])) != "root":
                    return False
            elif not (
                isinstance(result, ast.Call)
                and self._is_declarative_factory(Value(function.module, result), depth + 1)
            ):
                return False
        return True

    def _registry_ref(self, node: ast.expr, module: Any) -> Any:
        if isinstance(node, ast.Call):
            return Value(module, node)
        return self.resolver.resolve_expr(node, module.scope)

    def class_method(self, cls: ClassRef, attr: str) -> Optional[tuple[ClassRef, FunctionRef]]:
        """The ``@classmethod`` that ``cls.attr`` runs, and the class defining it: the
        first definition of ``attr`` along the MRO of the project classes of its
        hierarchy, a mixin's included. Every other base must be a declarative root that
        defines no such public name (``db.Model``, a ``DeclarativeBase``, a
        ``declarative_base()``): any other may come first in the MRO and define it. Not
        followed when that definition is not a plain ``@classmethod`` (a property, a
        staticmethod, an alias, a name bound twice)."""
        if attr.startswith("_") or attr in DECLARATIVE_ROOT_NAMES:
            return None
        mro = self.linearize(cls)
        for ref in mro:
            if not all(isinstance(base, ClassRef) or self._defines_nothing(base) for base in self.mapping_bases(ref)):
                return None
        found = _first_binding(mro, attr)
        if found is None:
            return None
        ref, bindings = found
        method = only_method(ref, bindings)
        if method is None or [last_name(d) for d in method.node.decorator_list] != ["classmethod"]:
            return None
        return ref, method

    def instance_methods(self, cls: ClassRef, attr: str) -> list[FunctionRef]:
        """The functions ``row.attr(...)`` may run with the row as ``self``: those of
        ``methods_along_mro`` but static and class methods."""
        return [
            method for method in self.methods_along_mro(cls, attr)
            if not {last_name(decorator) for decorator in method.node.decorator_list} & NOT_ON_INSTANCE
        ]

    def methods_along_mro(self, cls: ClassRef, attr: str) -> list[FunctionRef]:
        """The functions ``instance.attr`` may be: those bound to ``attr`` in the first
        project class along the MRO of ``cls``'s hierarchy that binds it (several when
        it is defined twice). Empty when the name is bound nowhere the plugin reads
        (an installed base)."""
        found = _first_binding(self.linearize(cls), attr)
        if found is None:
            return []
        ref, bindings = found
        return [FunctionRef(ref.module, binding.node) for binding in bindings if binding.kind == "function"]

    def from_an_unread_base(self, cls: ClassRef, attr: str) -> bool:
        """May ``instance.attr`` come from a base the plugin cannot read: no project
        class along the MRO binds it, and one of them has a base that is neither a
        project class nor one known to write nothing (a mixin from a package not
        installed where flake8 runs, whose ``row.fill(**data)`` may set any column)?"""
        mro = self.linearize(cls)
        if _first_binding(mro, attr) is not None:
            return False
        return not all(
            isinstance(base, ClassRef) or self._defines_nothing(base) or self._writes_nothing(base)
            for ref in mro for base in self.mapping_bases(ref)
        )

    @staticmethod
    def _writes_nothing(base: Any) -> bool:
        return isinstance(base, External) and (
            base.dotted in BASES_WRITING_NOTHING or _is_sa(base.dotted, "sqlalchemy.orm.MappedAsDataclass")
        )

    def _defines_nothing(self, base: Any) -> bool:
        if isinstance(base, External):
            return base.dotted in (FLASK_MODEL, "builtins.object") or _is_sa(
                base.dotted, "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta"
            )
        return isinstance(base, Value) and self._is_declarative_factory(base)

    # -- what are its columns? ---------------------------------------------------------
    def model_for_class(self, cls: ClassRef) -> Optional[ModelInfo]:
        """The model of a mapped (not abstract) class, or None."""
        def compute() -> Optional[ModelInfo]:
            model = None
            if self.kind(cls) in ("model", "sqlmodel_table", "imperative"):
                with guarded(f"the columns of model {cls.name} in {cls.module.path}"):
                    model = self._build_model(cls)
            return model

        return self._memoized("models", cls, compute)

    def _build_model(self, cls: ClassRef) -> ModelInfo:
        if self.kind(cls) == "imperative":
            return self._build_imperative_model(cls)
        mro = self.linearize(cls)
        annotation_map = self._type_annotation_map(mro)
        columns: dict[str, tuple] = {}  # key -> (declaration, annotation_map), read lazily
        relationships: dict[str, Any] = {}
        seen: set = set()
        table_declared = False
        for cls_node in mro:
            table = class_assignment(cls_node.node, "__table__")
            if table is not None:
                # Columns come from the Table, whatever the class body annotates.
                table_declared = True
                for declaration in self.reader.read_table(cls_node.module, table):
                    columns.setdefault(declaration.key, (declaration, annotation_map))
                break
        for cls_node in mro:
            sqlmodel = (self.kind(cls_node) or "").startswith("sqlmodel")
            for declaration in self.reader.read_class(cls_node, sqlmodel):
                if declaration.key in seen:
                    continue
                seen.add(declaration.key)
                if isinstance(declaration, ColumnDeclaration):
                    if not table_declared:
                        columns[declaration.key] = (declaration, annotation_map)
                elif isinstance(declaration, RelationshipDeclaration):
                    relationships[declaration.key] = declaration
                    columns.pop(declaration.key, None)
                elif table_declared:
                    columns.pop(declaration.key, None)
        table, schema = self._table_of(cls, mro)
        return ModelInfo(
            name=cls.name,
            qname=cls.qname,
            columns=LazyColumns(self, columns),
            relationships=relationships,
            table=table,
            schema=schema,
            cls=cls,
        )

    def _build_imperative_model(self, cls: ClassRef) -> ModelInfo:
        """Only the Table's columns are mapped; the class body's annotations are typing."""
        table, properties = self._imperative_mapping(cls)
        columns: dict[str, tuple] = {}
        for declaration in self.reader.read_table(table.module, table.node):
            if declaration.key not in properties:
                columns.setdefault(declaration.key, (declaration, []))
        name, schema = _table_name_and_schema(table.node)
        return ModelInfo(name=cls.name, qname=cls.qname, columns=LazyColumns(self, columns), relationships={},
                         table=name, schema=schema, cls=cls)

    def _table_of(self, cls: ClassRef, mro: list) -> tuple[Optional[str], Optional[str]]:
        """The table name (``__tablename__``, ``__table__ = Table("name", ...)``, or the
        name Flask-SQLAlchemy and SQLModel derive) and ``__table_args__`` schema."""
        table = schema = None
        for cls_node in mro:
            node = cls_node.node
            name = class_assignment(node, "__tablename__")
            explicit = class_assignment(node, "__table__")
            if table is None and isinstance(name, ast.Constant) and isinstance(name.value, str):
                table = name.value
            elif table is None and isinstance(explicit, ast.Call):
                table, table_schema = _table_name_and_schema(explicit)
                schema = schema or table_schema
            args = class_assignment(node, "__table_args__")
            if schema is None:
                schema = _schema_of(args)
        if table is None:
            kind = self.kind(cls)
            if kind == "sqlmodel_table":
                table = cls.name.lower()
            elif kind == "model" and any(
                isinstance(ref, External) and ref.dotted == FLASK_MODEL
                for ref in self.resolver.iter_base_refs(cls)
            ):
                table = FLASK_TABLE_NAME.sub(r"_\1", cls.name).lower().lstrip("_")
        return table, schema

    def linearize(self, cls: ClassRef) -> list:
        """C3 linearization over the project classes of the hierarchy."""

        def bases_of(cls_node: ClassRef) -> list:
            return [ref for ref in self.mapping_bases(cls_node) if isinstance(ref, ClassRef)]

        def merge(sequences: list) -> Optional[list]:
            result: list = []
            sequences = [list(seq) for seq in sequences if seq]
            while sequences:
                for seq in sequences:
                    head = seq[0]
                    if not any(head in other[1:] for other in sequences):
                        break
                else:
                    return None
                result.append(head)
                # ClassRefs are equal when they wrap the same class node (a class
                # reached along two paths of a diamond is two ClassRef objects).
                sequences = [[c for c in seq if c != head] for seq in sequences]
                sequences = [seq for seq in sequences if seq]
            return result

        cache: dict[int, list] = {}

        def mro(cls_node: ClassRef, stack: tuple) -> list:
            key = id(cls_node.node)
            if key in cache:
                return cache[key]
            if key in stack or len(stack) > MAX_HIERARCHY_DEPTH:
                return [cls_node]
            parents = bases_of(cls_node)
            merged = merge([mro(p, stack + (key,)) for p in parents] + [parents])
            if merged is None:  # inconsistent hierarchy: fall back to depth-first order
                merged = []
                for parent in parents:
                    for item in mro(parent, stack + (key,)):
                        if item not in merged:
                            merged.append(item)
            cache[key] = [cls_node, *merged]
            return cache[key]

        return mro(cls, ())

    def _type_annotation_map(self, mro: list) -> list:
        """``type_annotation_map`` entries of the declarative base: [(key, type, scope)]."""
        for cls_node in mro:
            scope = cls_node.module.scope
            value = class_assignment(cls_node.node, "type_annotation_map")
            registry_call = class_assignment(cls_node.node, "registry")
            if value is None and isinstance(registry_call, ast.Call):
                value = next(
                    (kw.value for kw in registry_call.keywords if kw.arg == "type_annotation_map"), None
                )
            if isinstance(value, ast.Dict):
                return [
                    (key, type_node, scope) for key, type_node in zip(value.keys, value.values) if key is not None
                ]
        return []

    def _column_info(self, declaration: ColumnDeclaration, annotation_map: list) -> ColumnInfo:
        declaration = self._expand_annotated_alias(declaration)
        facts = self._column_facts(declaration, annotation_map)
        return ColumnInfo(
            key=declaration.key,
            db_name=declaration.db_name,
            not_null=is_not_null(declaration.nullability),
            primary_key=declaration.nullability.primary_key is True,
            facts=facts,
            declaration=declaration,
            path=declaration.path,
            line=declaration.line,
            col=declaration.col,
        )

    def _expand_annotated_alias(self, declaration: ColumnDeclaration) -> ColumnDeclaration:
        """``Mapped[timestamp]`` where ``timestamp = Annotated[X, mapped_column(...)]``:
        the alias's type, Optional and ``nullable=``/``primary_key=`` apply, the
        column's own keywords winning (SEMANTICS 1)."""
        annotation = declaration.annotation
        if not isinstance(annotation, (ast.Name, ast.Attribute)) or declaration.nullability.style != "mapped":
            return declaration
        ref = self.resolver.resolve_expr(annotation, declaration.scope)
        if not (isinstance(ref, Value) and isinstance(ref.node, ast.Subscript)):
            return declaration
        base, optional, explicit = unwrap_optional(ref.node)
        if base is None or (base is ref.node):
            return declaration
        facts = declaration.nullability
        primary_key = facts.primary_key
        if primary_key is None:
            primary_key = _annotated_keyword(ref.node, "primary_key")
        nullability = dataclasses.replace(
            facts,
            nullable=facts.nullable if facts.nullable is not None else explicit,
            primary_key=primary_key,
            annotation_optional=bool(facts.annotation_optional) or optional,
        )
        return dataclasses.replace(declaration, annotation=base, nullability=nullability, scope=ref.module.scope)

    def _column_facts(self, declaration: ColumnDeclaration, annotation_map: list) -> TypeFacts:
        if declaration.type_node is not None:
            return self.classifier.classify_expr(declaration.type_node, declaration.scope)
        annotation = declaration.annotation
        if declaration.foreign_key_only and annotation is None:
            return FOREIGN_KEY  # the type is copied from the referenced column
        if annotation is None:
            return UNKNOWN
        dumped = ast.dump(annotation)
        for key_node, type_node, scope in annotation_map:
            if isinstance(key_node, ast.Subscript) and ast.dump(key_node) == dumped:
                return self.classifier.classify_expr(type_node, scope)
        origin = annotation.value if isinstance(annotation, ast.Subscript) else annotation
        ref = self.resolver.resolve_expr(origin, declaration.scope)
        if ref is None:
            return UNKNOWN
        for key_node, type_node, scope in annotation_map:
            if self.resolver.resolve_expr(key_node, scope) == ref:
                return self.classifier.classify_expr(type_node, scope)
        return self.classifier.classify_python_ref(ref)

    def relationship_target(self, model: ModelInfo, key: str) -> Optional[ModelInfo]:
        declaration = model.relationships.get(key)
        if declaration is None or declaration.target is None:
            return None
        if isinstance(declaration.target, str):
            ref = self.resolver.resolve_name(declaration.target, declaration.scope)
        else:
            ref = self.resolver.resolve_expr(declaration.target, declaration.scope)
        if isinstance(ref, ClassRef):
            return self.model_for_class(ref)
        return None


def _first_binding(mro: list, attr: str) -> Optional[tuple[ClassRef, list]]:
    """The first project class along ``mro`` whose body binds ``attr``, and its bindings."""
    for ref in mro:
        bindings = Scope(ref.node, ref.module.scope).bindings.get(attr)
        if bindings:
            return ref, bindings
    return None


def _table_name_and_schema(table: ast.Call) -> tuple[Optional[str], Optional[str]]:
    """``Table("name", metadata, ..., schema="s")``: its literal name and schema."""
    name = _string(table.args[0]) if table.args else None
    return name, _string(next((kw.value for kw in table.keywords if kw.arg == "schema"), None))


def _string(node: Optional[ast.expr]) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _schema_of(args: Optional[ast.expr]) -> Optional[str]:
    """``{"schema": "x"}`` or a tuple whose last item is that dict."""
    if isinstance(args, ast.Tuple) and args.elts:
        args = args.elts[-1]
    if isinstance(args, ast.Dict):
        for key, value in zip(args.keys, args.values):
            if isinstance(key, ast.Constant) and key.value == "schema" and isinstance(value, ast.Constant):
                return value.value if isinstance(value.value, str) else None
    return None


def _annotated_keyword(annotated: ast.Subscript, keyword: str) -> object:
    """A literal keyword of the ``mapped_column(...)`` inside ``Annotated[...]``."""
    elements = annotated.slice.elts if isinstance(annotated.slice, ast.Tuple) else []
    for meta in elements[1:]:
        if isinstance(meta, ast.Call):
            for item in meta.keywords:
                if item.arg == keyword:
                    return literal(item.value)
    return None


TABLE_NAMES = frozenset({"__tablename__", "__table__"})
COLUMN_FUNCTIONS = frozenset({"Column", "mapped_column", "relationship"})


def _declares_table_or_columns(node: ast.ClassDef) -> bool:
    """Syntax only: ``__tablename__``/``__table__``, or a ``Column(...)``,
    ``mapped_column(...)``, ``relationship(...)`` or ``Mapped[...]`` attribute."""
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            names = [target.id for target in statement.targets if isinstance(target, ast.Name)]
            value, annotation = statement.value, None
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names, value, annotation = [statement.target.id], statement.value, statement.annotation
        else:
            continue
        if TABLE_NAMES.intersection(names):
            return True
        if isinstance(value, ast.Call) and last_name(value.func) in COLUMN_FUNCTIONS:
            return True
        if unwrap_mapped(parse_annotation(annotation))[0]:
            return True
    return False


def _is_abstract(node: ast.ClassDef) -> bool:
    value = class_assignment(node, "__abstract__")
    return isinstance(value, ast.Constant) and bool(value.value)


def _has_table_keyword(node: ast.ClassDef) -> bool:
    return any(
        keyword.arg == "table" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
        for keyword in node.keywords
    )


def display_path(path: str) -> str:
    """Paths in messages are relative to the current directory when below it."""
    return _relative_to(path, os.getcwd())


@functools.lru_cache(maxsize=4096)
def _relative_to(path: str, cwd: str) -> str:
    # Every column of a module asks for the same path: relpath is worth caching.
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if relative.startswith(os.pardir) else relative
