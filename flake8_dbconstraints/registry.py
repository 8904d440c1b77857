"""The model index: which project classes are mapped, and what their columns are.

A class is mapped when it derives (through project classes, followed with astroid's
scope lookup and module loading) from a declarative root: ``DeclarativeBase``,
``declarative_base()``, ``registry().generate_base()``, ``@as_declarative``,
Flask-SQLAlchemy's ``db.Model``, or is decorated ``@registry.mapped``; SQLModel
classes are mapped only with ``table=True``. Columns are collected along the class's
MRO (mixins and abstract bases included), the first definition of a key winning.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Optional

from flake8_dbconstraints.column_types import FOREIGN_KEY, UNKNOWN, TypeClassifier, TypeFacts
from flake8_dbconstraints.declarations import (
    ColumnDeclaration,
    DeclarationReader,
    RelationshipDeclaration,
    _is_sa,
    dotted_text,
)
from flake8_dbconstraints.names import FLASK_MODEL, MAX_DEPTH, External, NameResolver, Value
from flake8_dbconstraints.nullability import is_not_null
from flake8_dbconstraints.safety import guarded

SQLMODEL_BASES = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})
MAPPED_KINDS = frozenset({"root", "abstract", "model"})


@dataclasses.dataclass(frozen=True)
class ColumnInfo:
    key: str
    db_name: str
    not_null: bool
    primary_key: bool
    facts: TypeFacts
    declared_type: str  # "Mapped[InvoiceState]" or the type's name, for messages
    declared_at: str  # "app/models.py:14"


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    name: str
    qname: str
    columns: Mapping[str, ColumnInfo]
    relationships: Mapping[str, Any]  # key -> RelationshipDeclaration (resolved lazily)
    classdef: Any = dataclasses.field(compare=False, repr=False, default=None)


class ModelRegistry:
    def __init__(self, resolver: NameResolver, classifier: TypeClassifier) -> None:
        self.resolver = resolver
        self.classifier = classifier
        self.reader = DeclarationReader(resolver)
        self._kinds: dict[int, Optional[str]] = {}
        self._models: dict[int, Optional[ModelInfo]] = {}

    # -- is it a model? -------------------------------------------------------------
    def kind(self, classdef: Any, depth: int = 0) -> Optional[str]:
        """"root", "abstract", "model", "sqlmodel_base", "sqlmodel_table" or None."""
        key = id(classdef)
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None  # breaks inheritance cycles
        result = None
        if depth <= MAX_DEPTH:
            with guarded(f"the bases of class {classdef.name}"):
                result = self._compute_kind(classdef, depth)
        self._kinds[key] = result
        return result

    def _compute_kind(self, classdef: Any, depth: int) -> Optional[str]:
        from astroid import nodes

        if self._is_decorated(classdef, "as_declarative"):
            return "root"
        if self._is_decorated(classdef, "mapped"):
            return "model"
        mapped_parent = False
        sqlmodel_parent = False
        for base in classdef.bases:
            ref = self.resolver.resolve_expr(base)
            if isinstance(ref, External):
                if _is_sa(ref.dotted, "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta"):
                    return "root"
                if ref.dotted == FLASK_MODEL:
                    mapped_parent = True
                elif ref.dotted in SQLMODEL_BASES:
                    sqlmodel_parent = True
            elif isinstance(ref, Value):
                mapped_parent = mapped_parent or self._is_declarative_factory(ref.node)
            elif isinstance(ref, nodes.ClassDef):
                parent_kind = self.kind(ref, depth + 1)
                mapped_parent = mapped_parent or parent_kind in MAPPED_KINDS
                sqlmodel_parent = sqlmodel_parent or (parent_kind or "").startswith("sqlmodel")
        if mapped_parent:
            return "abstract" if _is_abstract(classdef) else "model"
        if sqlmodel_parent:
            return "sqlmodel_table" if _has_table_keyword(classdef) else "sqlmodel_base"
        return None

    def _is_decorated(self, classdef: Any, name: str) -> bool:
        from astroid import nodes

        for decorator in classdef.decorators.nodes if classdef.decorators else ():
            func = decorator.func if isinstance(decorator, nodes.Call) else decorator
            if name == "as_declarative" and _is_sa(
                self.resolver.qualify(func),
                "sqlalchemy.orm.as_declarative",
                "sqlalchemy.ext.declarative.as_declarative",
            ):
                return True
            if (
                name == "mapped"
                and isinstance(func, nodes.Attribute)
                and func.attrname in ("mapped", "mapped_as_dataclass")
                and self._is_registry(self.resolver.resolve_expr(func.expr))
            ):
                return True
        return False

    def _is_registry(self, ref: Any) -> bool:
        from astroid import nodes

        return (
            isinstance(ref, Value)
            and isinstance(ref.node, nodes.Call)
            and _is_sa(self.resolver.qualify(ref.node.func), "sqlalchemy.orm.registry")
        )

    def _is_declarative_factory(self, node: Any) -> bool:
        """``declarative_base(...)`` or ``<registry>.generate_base(...)``."""
        from astroid import nodes

        if not isinstance(node, nodes.Call):
            return False
        func = node.func
        if isinstance(func, nodes.Attribute) and func.attrname == "generate_base":
            return self._is_registry(self._registry_ref(func.expr))
        return _is_sa(
            self.resolver.qualify(func),
            "sqlalchemy.orm.declarative_base",
            "sqlalchemy.ext.declarative.declarative_base",
        )

    def _registry_ref(self, node: Any) -> Any:
        from astroid import nodes

        if isinstance(node, nodes.Call):
            return Value(node)
        return self.resolver.resolve_expr(node)

    # -- what are its columns? ---------------------------------------------------------
    def model_for_class(self, classdef: Any) -> Optional[ModelInfo]:
        """The model of a mapped (not abstract) class, or None."""
        key = id(classdef)
        if key in self._models:
            return self._models[key]
        self._models[key] = None
        model = None
        if self.kind(classdef) in ("model", "sqlmodel_table"):
            with guarded(f"the columns of model {classdef.name}"):
                model = self._build_model(classdef)
        self._models[key] = model
        return model

    def _build_model(self, classdef: Any) -> ModelInfo:
        mro = self.linearize(classdef)
        annotation_map = self._type_annotation_map(mro)
        columns: dict[str, ColumnInfo] = {}
        relationships: dict[str, Any] = {}
        seen: set = set()
        for cls_node in mro:
            sqlmodel = (self.kind(cls_node) or "").startswith("sqlmodel")
            for declaration in self.reader.read_class(cls_node, sqlmodel):
                if declaration.key in seen:
                    continue
                seen.add(declaration.key)
                if isinstance(declaration, ColumnDeclaration):
                    columns[declaration.key] = self._column_info(declaration, annotation_map)
                elif isinstance(declaration, RelationshipDeclaration):
                    relationships[declaration.key] = declaration
        return ModelInfo(
            name=classdef.name,
            qname=classdef.qname(),
            columns=columns,
            relationships=relationships,
            classdef=classdef,
        )

    def linearize(self, classdef: Any) -> list:
        """C3 linearization over the project classes of the hierarchy."""
        from astroid import nodes

        def bases_of(cls_node: Any) -> list:
            return [
                ref for ref in (self.resolver.resolve_expr(base) for base in cls_node.bases)
                if isinstance(ref, nodes.ClassDef)
            ]

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
                sequences = [[c for c in seq if c is not head] for seq in sequences]
                sequences = [seq for seq in sequences if seq]
            return result

        cache: dict[int, list] = {}

        def mro(cls_node: Any, stack: tuple) -> list:
            if id(cls_node) in cache:
                return cache[id(cls_node)]
            if id(cls_node) in stack or len(stack) > MAX_DEPTH:
                return [cls_node]
            parents = bases_of(cls_node)
            merged = merge([mro(p, stack + (id(cls_node),)) for p in parents] + [parents])
            if merged is None:  # inconsistent hierarchy: fall back to depth-first order
                merged = []
                for parent in parents:
                    for item in mro(parent, stack + (id(cls_node),)):
                        if item not in merged:
                            merged.append(item)
            cache[id(cls_node)] = [cls_node, *merged]
            return cache[id(cls_node)]

        return mro(classdef, ())

    def _type_annotation_map(self, mro: list) -> list:
        """``type_annotation_map`` entries of the declarative base: [(key ref, type node)]."""
        from astroid import nodes

        for cls_node in mro:
            for name in ("type_annotation_map", "registry"):
                for assigned in cls_node.locals.get(name, ()):
                    parent = assigned.parent
                    value = getattr(parent, "value", None)
                    if name == "registry" and isinstance(value, nodes.Call):
                        value = next(
                            (kw.value for kw in value.keywords or () if kw.arg == "type_annotation_map"),
                            None,
                        )
                    if isinstance(value, nodes.Dict):
                        return [(self.resolver.resolve_expr(k), v) for k, v in value.items]
        return []

    def _column_info(self, declaration: ColumnDeclaration, annotation_map: list) -> ColumnInfo:
        facts = self._column_facts(declaration, annotation_map)
        path = declaration.context.root().file or "<unknown>"
        return ColumnInfo(
            key=declaration.key,
            db_name=declaration.db_name,
            not_null=is_not_null(declaration.nullability),
            primary_key=declaration.nullability.primary_key is True,
            facts=facts,
            declared_type=declaration.annotation_text or facts.label,
            declared_at=f"{display_path(path)}:{declaration.line}",
        )

    def _column_facts(self, declaration: ColumnDeclaration, annotation_map: list) -> TypeFacts:
        if declaration.type_node is not None:
            return self.classifier.classify_expr(declaration.type_node)
        if declaration.foreign_key_only:
            return FOREIGN_KEY
        if declaration.annotation is None:
            return UNKNOWN
        annotation = declaration.annotation
        text = dotted_text(annotation.value if hasattr(annotation, "slice") else annotation)
        if not text:
            return UNKNOWN
        first, *rest = text.split(".")
        ref = self.resolver.resolve_name(declaration.context, first)
        for attr in rest:
            ref = self.resolver.resolve_attribute(ref, attr)
        if ref is None:
            return UNKNOWN
        for key_ref, type_node in annotation_map:
            if key_ref is not None and _same_ref(key_ref, ref):
                return self.classifier.classify_expr(type_node)
        return self.classifier.classify_python_ref(ref)

    def relationship_target(self, model: ModelInfo, key: str) -> Optional[ModelInfo]:
        from astroid import nodes

        declaration = model.relationships.get(key)
        if declaration is None or declaration.target is None:
            return None
        if isinstance(declaration.target, str):
            ref = self.resolver.resolve_in_module(declaration.context.root(), declaration.target)
        else:
            ref = self.resolver.resolve_expr(declaration.target)
        if isinstance(ref, nodes.ClassDef):
            return self.model_for_class(ref)
        return None


def _same_ref(left: Any, right: Any) -> bool:
    if isinstance(left, External) and isinstance(right, External):
        return left.dotted == right.dotted
    return left is right


def _is_abstract(classdef: Any) -> bool:
    from astroid import nodes

    for assigned in classdef.locals.get("__abstract__", ()):
        parent = assigned.parent
        if isinstance(parent, nodes.Assign) and isinstance(parent.value, nodes.Const):
            return bool(parent.value.value)
    return False


def _has_table_keyword(classdef: Any) -> bool:
    from astroid import nodes

    for keyword in classdef.keywords or ():
        if keyword.arg == "table" and isinstance(keyword.value, nodes.Const):
            return keyword.value.value is True
    return False


def display_path(path: str) -> str:
    """Paths in messages are relative to the current directory when below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith(os.pardir) else relative
