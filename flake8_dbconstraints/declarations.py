"""Readers for the statements in a class body, one per declaration style.

Each statement becomes a ``Declaration``: a column (classic ``Column``/``db.Column``,
2.0 ``Mapped``/``mapped_column``, SQLModel fields, ``@declared_attr``), a relationship,
or "something else" (methods, properties, hybrids, ``column_property``,
``query_expression``) that shadows an inherited column of the same key.
"""
from __future__ import annotations

import ast
import dataclasses
from typing import Any, Iterator, Optional

from flake8_dbconstraints.names import External, NameResolver, Value, import_sqlalchemy_object
from flake8_dbconstraints.nullability import UNKNOWN_VALUE, NullabilityFacts

MAPPED_ANNOTATIONS = frozenset({"Mapped"})
OPTIONAL_NAMES = frozenset({"Optional"})
UNION_NAMES = frozenset({"Union"})
ANNOTATED_NAMES = frozenset({"Annotated"})
CLASS_VAR_NAMES = frozenset({"ClassVar"})


@dataclasses.dataclass(frozen=True)
class ColumnDeclaration:
    key: str
    db_name: str
    line: int
    nullability: NullabilityFacts
    type_node: Any  # astroid expression of an explicit type, or None
    annotation: Optional[ast.expr]  # the X of Mapped[X] (stdlib node), or None
    annotation_text: str  # "Mapped[X]" as written, for messages
    foreign_key_only: bool
    context: Any  # astroid node in whose scope names of the annotation resolve


@dataclasses.dataclass(frozen=True)
class RelationshipDeclaration:
    key: str
    line: int
    target: Any  # a class name (str) or an astroid expression
    context: Any


@dataclasses.dataclass(frozen=True)
class OtherDeclaration:
    key: str


def _is_sa(dotted: Optional[str], *candidates: str) -> bool:
    """Does ``dotted`` name the same SQLAlchemy object as one of ``candidates``?"""
    if not dotted:
        return False
    obj = import_sqlalchemy_object(dotted)
    if obj is None:
        return False
    return any(import_sqlalchemy_object(candidate) is obj for candidate in candidates)


def is_column_function(dotted: Optional[str]) -> Optional[str]:
    if _is_sa(dotted, "sqlalchemy.Column", "sqlalchemy.schema.Column"):
        return "column"
    if _is_sa(dotted, "sqlalchemy.orm.mapped_column"):
        return "mapped"
    if dotted in ("sqlmodel.Field", "sqlmodel.main.Field"):
        return "sqlmodel"
    return None


def is_relationship_function(dotted: Optional[str]) -> bool:
    return _is_sa(dotted, "sqlalchemy.orm.relationship") or dotted in (
        "sqlmodel.Relationship",
        "sqlmodel.main.Relationship",
    )


def parse_annotation(node: Any) -> Optional[ast.expr]:
    """An astroid annotation as a stdlib expression (string annotations unquoted)."""
    try:
        tree = ast.parse(node.as_string(), mode="eval").body
    except SyntaxError:
        return None
    return _unquote(tree)


def _unquote(node: Optional[ast.expr]) -> Optional[ast.expr]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _unquote(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    return node


def dotted_text(node: ast.expr) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _last_name(node: ast.expr) -> Optional[str]:
    text = dotted_text(node)
    return text.rsplit(".", 1)[-1] if text else None


def unwrap_mapped(annotation: Optional[ast.expr]) -> tuple[bool, Optional[ast.expr]]:
    """``Mapped[X]`` -> (True, X); anything else -> (False, None)."""
    if isinstance(annotation, ast.Subscript) and _last_name(annotation.value) in MAPPED_ANNOTATIONS:
        return True, _unquote(annotation.slice)
    return False, None


def unwrap_optional(node: Optional[ast.expr]) -> tuple[Optional[ast.expr], Optional[bool], Optional[bool]]:
    """X, Optional[X], X | None, Union[X, None], Annotated[X, ...] ->
    (X, is_optional, explicit nullable from an Annotated mapped_column)."""
    optional = False
    explicit = None
    for _ in range(16):
        node = _unquote(node)
        if isinstance(node, ast.Subscript):
            name = _last_name(node.value)
            if name in OPTIONAL_NAMES:
                optional, node = True, node.slice
                continue
            if name in UNION_NAMES and isinstance(node.slice, ast.Tuple):
                members = [m for m in node.slice.elts if not _is_none(m)]
                optional = optional or len(members) < len(node.slice.elts)
                if len(members) != 1:
                    return None, optional, explicit
                node = members[0]
                continue
            if name in ANNOTATED_NAMES and isinstance(node.slice, ast.Tuple) and node.slice.elts:
                for meta in node.slice.elts[1:]:
                    found = _annotated_nullable(meta)
                    if found is not None:
                        explicit = found
                node = node.slice.elts[0]
                continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = [node.left, node.right]
            members = [side for side in sides if not _is_none(_unquote(side))]
            optional = optional or len(members) < 2
            if len(members) != 1:
                return None, optional, explicit
            node = members[0]
            continue
        return node, optional, explicit
    return None, optional, explicit  # pragma: no cover - sixteen levels of Optional


def _is_none(node: Optional[ast.expr]) -> bool:
    return isinstance(node, ast.Constant) and node.value is None or (
        isinstance(node, ast.Name) and node.id == "None"
    )


def _annotated_nullable(meta: ast.expr) -> Optional[bool]:
    if isinstance(meta, ast.Call) and _last_name(meta.func) == "mapped_column":
        for keyword in meta.keywords:
            if keyword.arg == "nullable" and isinstance(keyword.value, ast.Constant):
                return bool(keyword.value.value)
    return None


def literal(node: Any) -> object:
    """A keyword's literal value, None when absent, UNKNOWN_VALUE when not a literal."""
    from astroid import nodes

    if node is None:
        return None
    if isinstance(node, nodes.Const) and isinstance(node.value, bool):
        return node.value
    return UNKNOWN_VALUE


class DeclarationReader:
    """Turns the statements of one class body into declarations."""

    def __init__(self, resolver: NameResolver) -> None:
        self.resolver = resolver

    def read_class(self, classdef: Any, sqlmodel: bool) -> Iterator[Any]:
        from astroid import nodes

        primary_key_names = self._primary_key_constraint_names(classdef)
        for statement in classdef.body:
            if isinstance(statement, nodes.Assign):
                if len(statement.targets) == 1 and isinstance(statement.targets[0], nodes.AssignName):
                    key = statement.targets[0].name
                    yield self._read_value(key, statement.value, None, statement, primary_key_names, sqlmodel)
            elif isinstance(statement, nodes.AnnAssign):
                if isinstance(statement.target, nodes.AssignName):
                    key = statement.target.name
                    yield self._read_value(
                        key, statement.value, statement.annotation, statement, primary_key_names, sqlmodel
                    )
            elif isinstance(statement, (nodes.FunctionDef, nodes.AsyncFunctionDef)):
                yield self._read_function(statement, primary_key_names)

    def _primary_key_constraint_names(self, classdef: Any) -> frozenset:
        """Column names in ``PrimaryKeyConstraint("a", "b")`` of ``__table_args__``."""
        from astroid import nodes

        names: set = set()
        for assigned in classdef.locals.get("__table_args__", ()):
            parent = assigned.parent
            if not isinstance(parent, nodes.Assign):
                continue
            for call in parent.value.nodes_of_class(nodes.Call):
                qualified = self.resolver.qualify(call.func)
                if _is_sa(qualified, "sqlalchemy.PrimaryKeyConstraint"):
                    for arg in call.args:
                        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                            names.add(arg.value)
        return frozenset(names)

    def _read_function(self, function: Any, primary_key_names: frozenset) -> Any:
        """``@declared_attr`` columns; any other function shadows the key."""
        from astroid import nodes

        decorators = function.decorators.nodes if function.decorators else []
        if len(decorators) == 1 and _is_sa(
            self.resolver.qualify(decorators[0]),
            "sqlalchemy.orm.declared_attr",
            "sqlalchemy.ext.declarative.declared_attr",
        ):
            returns = [node for node in function.nodes_of_class(nodes.Return) if node.value is not None]
            if len(returns) == 1:
                declaration = self._read_value(
                    function.name, returns[0].value, function.returns, returns[0], primary_key_names, False
                )
                if not isinstance(declaration, OtherDeclaration):
                    return declaration
        return OtherDeclaration(function.name)

    def _read_value(self, key: str, value: Any, annotation: Any, statement: Any,
                    primary_key_names: frozenset, sqlmodel: bool) -> Any:
        from astroid import nodes

        parsed_annotation = parse_annotation(annotation) if annotation is not None else None
        if parsed_annotation is not None and _last_name(
            parsed_annotation.value if isinstance(parsed_annotation, ast.Subscript) else parsed_annotation
        ) in CLASS_VAR_NAMES:
            return OtherDeclaration(key)
        is_mapped, inner = unwrap_mapped(parsed_annotation)
        annotation_text = annotation.as_string() if annotation is not None else ""
        if isinstance(value, nodes.Call):
            value = self._unwrap_deferred(value)
        if value is None or not isinstance(value, nodes.Call):
            if value is None and (is_mapped or (sqlmodel and parsed_annotation is not None)):
                return self._annotation_only(key, statement, is_mapped, inner, parsed_annotation,
                                             annotation_text, primary_key_names, sqlmodel)
            if sqlmodel and parsed_annotation is not None and not key.startswith("_"):
                # ``x: X = literal`` in a SQLModel table is a column with a default.
                return self._annotation_only(key, statement, False, None, parsed_annotation,
                                             annotation_text, primary_key_names, sqlmodel)
            return OtherDeclaration(key)
        target = self.resolver.resolve_expr(value.func)
        style, partial_defaults = self._column_style(target)
        if style is None:
            qualified = target.dotted if isinstance(target, External) else None
            if is_relationship_function(qualified):
                return self._read_relationship(key, value, inner, statement)
            return OtherDeclaration(key)
        keywords = {kw.arg: kw.value for kw in value.keywords or () if kw.arg}
        if style == "sqlmodel":
            return self._read_sqlmodel_field(key, value, keywords, statement, parsed_annotation,
                                             annotation_text, primary_key_names)
        return self._read_column_call(key, value, keywords, style, partial_defaults, statement,
                                      inner if is_mapped else None, is_mapped, annotation_text,
                                      primary_key_names)

    def _unwrap_deferred(self, call: Any) -> Any:
        """``deferred(Column(...))`` is still a column."""
        qualified = self.resolver.qualify(call.func)
        if _is_sa(qualified, "sqlalchemy.orm.deferred") and len(call.args) == 1:
            return call.args[0]
        return call

    def _column_style(self, target: Any) -> tuple[Optional[str], dict]:
        """Column / mapped_column / Field, or a functools.partial of one of them."""
        from astroid import nodes

        if isinstance(target, External):
            return is_column_function(target.dotted), {}
        if isinstance(target, Value) and isinstance(target.node, nodes.Call):
            partial = target.node
            qualified = self.resolver.qualify(partial.func)
            if qualified in ("functools.partial",) and partial.args:
                inner_style, inner_defaults = self._column_style(self.resolver.resolve_expr(partial.args[0]))
                if inner_style is not None:
                    defaults = dict(inner_defaults)
                    defaults.update({kw.arg: kw.value for kw in partial.keywords or () if kw.arg})
                    return inner_style, defaults
        return None, {}

    def _read_column_call(self, key, call, keywords, style, partial_defaults, statement,
                          annotation_inner, is_mapped, annotation_text, primary_key_names):
        from astroid import nodes

        args = list(call.args)
        db_name = key
        if args and isinstance(args[0], nodes.Const) and isinstance(args[0].value, str):
            db_name = args.pop(0).value
        type_node = keywords.get("type_")
        foreign_key = False
        for arg in args:
            if isinstance(arg, nodes.Call) and self._is_schema_item(arg.func):
                foreign_key = foreign_key or self._is_foreign_key(arg.func)
                continue
            if type_node is None:
                type_node = arg
        optional = None
        explicit_annotated = None
        if is_mapped and style == "mapped":
            base, optional, explicit_annotated = unwrap_optional(annotation_inner)
            annotation_inner = base
        nullable = literal(keywords.get("nullable"))
        if nullable is None and explicit_annotated is not None:
            nullable = explicit_annotated
        primary_key = literal(keywords.get("primary_key"))
        if primary_key is None and db_name in primary_key_names:
            primary_key = True
        if primary_key is None:
            primary_key = literal(partial_defaults.get("primary_key"))
        facts = NullabilityFacts(
            style=style,
            nullable=nullable,
            primary_key=primary_key,
            annotation_optional=optional,
            default_nullable=literal(partial_defaults.get("nullable")),
        )
        return ColumnDeclaration(
            key=key,
            db_name=db_name,
            line=statement.lineno,
            nullability=facts,
            type_node=type_node,
            annotation=annotation_inner if style == "mapped" else None,
            annotation_text=annotation_text if style == "mapped" else "",
            foreign_key_only=foreign_key and type_node is None,
            context=statement,
        )

    def _is_schema_item(self, func: Any) -> bool:
        obj = import_sqlalchemy_object(self.resolver.qualify(func) or "")
        schema_item = import_sqlalchemy_object("sqlalchemy.schema.SchemaItem")
        fetched = import_sqlalchemy_object("sqlalchemy.schema.FetchedValue")
        return isinstance(obj, type) and issubclass(obj, (schema_item, fetched))

    def _is_foreign_key(self, func: Any) -> bool:
        return _is_sa(self.resolver.qualify(func), "sqlalchemy.ForeignKey")

    def _read_sqlmodel_field(self, key, call, keywords, statement, parsed_annotation,
                             annotation_text, primary_key_names):
        from astroid import nodes

        sa_column = keywords.get("sa_column")
        if isinstance(sa_column, nodes.Call):
            target = self.resolver.resolve_expr(sa_column.func)
            style, defaults = self._column_style(target)
            if style == "column":
                inner_keywords = {kw.arg: kw.value for kw in sa_column.keywords or () if kw.arg}
                return self._read_column_call(key, sa_column, inner_keywords, style, defaults, statement,
                                              None, False, "", primary_key_names)
            return OtherDeclaration(key)
        if sa_column is not None:
            return OtherDeclaration(key)
        base, optional, _ = unwrap_optional(parsed_annotation)
        facts = NullabilityFacts(
            style="sqlmodel",
            nullable=literal(keywords.get("nullable")),
            primary_key=literal(keywords.get("primary_key")),
            annotation_optional=optional if parsed_annotation is not None else None,
        )
        return ColumnDeclaration(
            key=key,
            db_name=key,
            line=statement.lineno,
            nullability=facts,
            type_node=keywords.get("sa_type"),
            annotation=base,
            annotation_text=annotation_text,
            foreign_key_only=False,
            context=statement,
        )

    def _annotation_only(self, key, statement, is_mapped, inner, parsed_annotation, annotation_text,
                         primary_key_names, sqlmodel):
        source = inner if is_mapped else parsed_annotation
        base, optional, explicit = unwrap_optional(source)
        style = "mapped" if is_mapped else "sqlmodel"
        facts = NullabilityFacts(
            style=style,
            nullable=explicit,
            primary_key=True if key in primary_key_names else None,
            annotation_optional=optional,
        )
        return ColumnDeclaration(
            key=key,
            db_name=key,
            line=statement.lineno,
            nullability=facts,
            type_node=None,
            annotation=base,
            annotation_text=annotation_text,
            foreign_key_only=False,
            context=statement,
        )

    def _read_relationship(self, key, call, inner, statement):
        from astroid import nodes

        target: Any = None
        if call.args:
            first = call.args[0]
            if isinstance(first, nodes.Const) and isinstance(first.value, str):
                target = first.value.rsplit(".", 1)[-1]
            elif isinstance(first, nodes.Lambda):
                target = first.body
            else:
                target = first
        elif inner is not None:
            target = _relationship_target_name(inner)
        return RelationshipDeclaration(key=key, line=statement.lineno, target=target, context=statement)


def _relationship_target_name(inner: ast.expr) -> Optional[str]:
    """``"Patient"``, ``Optional["Patient"]``, ``List["Patient"]`` -> "Patient"."""
    base, _, _ = unwrap_optional(inner)
    if isinstance(base, ast.Subscript):
        base = _unquote(base.slice)
    text = dotted_text(base) if base is not None else None
    return text.rsplit(".", 1)[-1] if text else None

