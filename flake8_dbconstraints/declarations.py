"""Readers for the statements in a class body, one per declaration style.

Each statement becomes a ``Declaration``: a column (classic ``Column``/``db.Column``,
2.0 ``Mapped``/``mapped_column``, SQLModel fields, ``@declared_attr``), a relationship,
or "something else" (methods, properties, hybrids, ``column_property``,
``query_expression``) that shadows an inherited column of the same key.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
from typing import Any, Iterator, Optional

from flake8_dbconstraints.names import ClassRef, External, NameResolver, Value, import_sqlalchemy_object
from flake8_dbconstraints.names import unquote as _unquote
from flake8_dbconstraints.names import is_sqlalchemy as _is_sa
from flake8_dbconstraints.nullability import UNKNOWN_VALUE, NullabilityFacts
from flake8_dbconstraints.scopes import Scope, own_nodes, walk
from flake8_dbconstraints.scopes import target_text as dotted_text

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
    type_node: Any  # the explicit type expression, or None
    annotation: Optional[ast.expr]  # the X of Mapped[X] (stdlib node), or None
    written_annotation: Optional[ast.expr]  # "Mapped[X]" as written, for messages
    foreign_key_only: bool
    scope: Scope  # where names of the type and annotation resolve
    path: str
    col: int = 0

    @functools.cached_property
    def annotation_text(self) -> str:
        """Only messages show it: unparsed when one does (measured: 0.26 s of the
        100-package monorepo's 1.3 s of model reading when done for every column)."""
        return _source(self.written_annotation)


@dataclasses.dataclass(frozen=True)
class RelationshipDeclaration:
    key: str
    line: int
    target: Any  # a class name (str) or an expression
    scope: Scope


@dataclasses.dataclass(frozen=True)
class OtherDeclaration:
    key: str


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


def parse_annotation(node: Optional[ast.expr]) -> Optional[ast.expr]:
    """An annotation with string annotations unquoted."""
    return _unquote(node)


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


def union_members(node: Optional[ast.expr], limit: int = 16) -> list[ast.expr]:
    """``A | B | None``, ``Union[A, B]``, ``Optional[Union[A, B]]`` -> [A, B]; a plain
    annotation is its own one member; more than ``limit`` members -> []."""
    members: list[ast.expr] = []
    pending = [node]
    while pending:
        current = _unquote(pending.pop())
        if len(members) + len(pending) >= limit:  # with the current one, more than limit
            return []
        if isinstance(current, ast.BinOp) and isinstance(current.op, ast.BitOr):
            pending.extend((current.right, current.left))
        elif isinstance(current, ast.Subscript) and _last_name(current.value) in UNION_NAMES | OPTIONAL_NAMES:
            inner = current.slice
            pending.extend(reversed(inner.elts) if isinstance(inner, ast.Tuple) else [inner])
        elif current is not None and not _is_none(current):
            members.append(current)
    return members


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


def literal(node: Optional[ast.expr]) -> object:
    """A keyword's literal value, None when absent, UNKNOWN_VALUE when not a literal."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return UNKNOWN_VALUE


class DeclarationReader:
    """Turns the statements of one class body into declarations."""

    def __init__(self, resolver: NameResolver) -> None:
        self.resolver = resolver

    def read_class(self, cls: ClassRef, sqlmodel: bool) -> Iterator[Any]:
        scope = cls.module.scope
        context = _Context(scope, cls.module.path, self._primary_key_constraint_names(cls), sqlmodel)
        for statement in cls.node.body:
            if isinstance(statement, ast.Assign):
                if len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                    yield self._read_value(statement.targets[0].id, statement.value, None, statement, context)
            elif isinstance(statement, ast.AnnAssign):
                if isinstance(statement.target, ast.Name):
                    yield self._read_value(
                        statement.target.id, statement.value, statement.annotation, statement, context
                    )
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield self._read_function(statement, context)

    def read_table(self, module: Any, table: ast.expr) -> Iterator[ColumnDeclaration]:
        """``Table("name", metadata, Column("a", ...), ...)`` written in ``module`` (as
        ``__table__`` or for an imperative mapping): its columns. Annotations in the class
        body do not change them (nothing is read for a table that is not a literal
        ``Table(...)`` call)."""
        scope = module.scope
        if not (isinstance(table, ast.Call) and _is_sa(self.resolver.qualify(table.func, scope), "sqlalchemy.Table")):
            return
        context = _Context(scope, module.path, frozenset(), False)
        for arg in table.args:
            if not (isinstance(arg, ast.Call) and arg.args and isinstance(arg.args[0], ast.Constant)
                    and isinstance(arg.args[0].value, str)):
                continue
            style, defaults = self._column_style(self.resolver.resolve_expr(arg.func, scope))
            if style == "column":
                keywords = {kw.arg: kw.value for kw in arg.keywords if kw.arg}
                yield self._read_column_call(arg.args[0].value, arg, keywords, style, defaults, arg,
                                             None, False, None, context)

    def _primary_key_constraint_names(self, cls: ClassRef) -> frozenset:
        """Column names in ``PrimaryKeyConstraint("a", "b")`` of ``__table_args__``."""
        names: set = set()
        for statement in cls.node.body:
            if not (
                isinstance(statement, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__table_args__" for t in statement.targets)
            ):
                continue
            for call in walk(statement.value):
                if isinstance(call, ast.Call) and _is_sa(
                    self.resolver.qualify(call.func, cls.module.scope), "sqlalchemy.PrimaryKeyConstraint"
                ):
                    names.update(
                        arg.value for arg in call.args
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    )
        return frozenset(names)

    def _read_function(self, function: Any, context: "_Context") -> Any:
        """``@declared_attr`` columns; any other function shadows the key."""
        decorators = function.decorator_list
        if len(decorators) == 1 and _is_sa(
            self.resolver.qualify(decorators[0], context.scope),
            "sqlalchemy.orm.declared_attr",
            "sqlalchemy.ext.declarative.declared_attr",
        ):
            returns = [node for node in own_nodes(function) if isinstance(node, ast.Return) and node.value]
            if len(returns) == 1:
                declaration = self._read_value(function.name, returns[0].value, function.returns,
                                               returns[0], context)
                if not isinstance(declaration, OtherDeclaration):
                    return declaration
        return OtherDeclaration(function.name)

    def _read_value(self, key: str, value: Optional[ast.expr], annotation: Optional[ast.expr],
                    statement: ast.AST, context: "_Context") -> Any:
        parsed_annotation = parse_annotation(annotation)
        head = parsed_annotation.value if isinstance(parsed_annotation, ast.Subscript) else parsed_annotation
        if parsed_annotation is not None and _last_name(head) in CLASS_VAR_NAMES:
            return OtherDeclaration(key)
        is_mapped, inner = unwrap_mapped(parsed_annotation)
        if isinstance(value, ast.Call):
            value = self._unwrap_deferred(value, context.scope)
        if not isinstance(value, ast.Call):
            if value is None and is_mapped:
                return self._annotation_only(key, statement, True, inner, annotation, context)
            if context.sqlmodel and parsed_annotation is not None and not key.startswith("_"):
                # ``x: X`` and ``x: X = literal`` in a SQLModel table are columns.
                return self._annotation_only(key, statement, False, parsed_annotation, annotation,
                                             context)
            return OtherDeclaration(key)
        target = self.resolver.resolve_expr(value.func, context.scope)
        style, partial_defaults = self._column_style(target)
        if style is None:
            qualified = target.dotted if isinstance(target, External) else None
            if is_relationship_function(qualified):
                return self._read_relationship(key, value, inner, statement, context)
            return OtherDeclaration(key)
        keywords = {kw.arg: kw.value for kw in value.keywords if kw.arg}
        if style == "sqlmodel":
            return self._read_sqlmodel_field(key, keywords, statement, parsed_annotation,
                                             annotation, context)
        return self._read_column_call(key, value, keywords, style, partial_defaults, statement,
                                      inner if is_mapped else None, is_mapped, annotation, context)

    def _unwrap_deferred(self, call: ast.Call, scope: Scope) -> ast.expr:
        """``deferred(Column(...))`` is still a column."""
        if len(call.args) == 1 and _is_sa(self.resolver.qualify(call.func, scope), "sqlalchemy.orm.deferred"):
            return call.args[0]
        return call

    def _column_style(self, target: Any, depth: int = 0) -> tuple[Optional[str], dict]:
        """Column / mapped_column / Field, or a functools.partial of one of them."""
        if isinstance(target, External):
            return is_column_function(target.dotted), {}
        if isinstance(target, Value) and isinstance(target.node, ast.Call) and depth < 8:
            partial = target.node
            scope = target.module.scope
            if self.resolver.qualify(partial.func, scope) == "functools.partial" and partial.args:
                inner_style, inner_defaults = self._column_style(
                    self.resolver.resolve_expr(partial.args[0], scope), depth + 1
                )
                if inner_style is not None:
                    defaults = dict(inner_defaults)
                    defaults.update({kw.arg: kw.value for kw in partial.keywords if kw.arg})
                    return inner_style, defaults
        return None, {}

    def _read_column_call(self, key, call, keywords, style, partial_defaults, statement,
                          annotation_inner, is_mapped, written, context):
        args = list(call.args)
        db_name = key
        if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            db_name = args.pop(0).value
        type_node = keywords.get("type_")
        foreign_key = False
        for arg in args:
            if isinstance(arg, ast.Call) and self._is_schema_item(arg.func, context.scope):
                foreign_key = foreign_key or _is_sa(
                    self.resolver.qualify(arg.func, context.scope), "sqlalchemy.ForeignKey"
                )
                continue
            if type_node is None:
                type_node = arg
        optional = None
        explicit_annotated = None
        if is_mapped and style == "mapped":
            annotation_inner, optional, explicit_annotated = unwrap_optional(annotation_inner)
        nullable = literal(keywords.get("nullable"))
        if nullable is None and explicit_annotated is not None:
            nullable = explicit_annotated
        primary_key = literal(keywords.get("primary_key"))
        if primary_key is None and db_name in context.primary_key_names:
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
        return self._column(
            key,
            db_name,
            statement,
            context,
            facts,
            type_node=type_node,
            annotation=annotation_inner if style == "mapped" else None,
            written_annotation=written if style == "mapped" else None,
            foreign_key_only=foreign_key and type_node is None,
        )

    @staticmethod
    def _column(key, db_name, statement, context, facts, **fields) -> ColumnDeclaration:
        """A column declared by ``statement``, whatever the style."""
        return ColumnDeclaration(
            key=key,
            db_name=db_name,
            line=statement.lineno,
            col=statement.col_offset,
            nullability=facts,
            scope=context.scope,
            path=context.path,
            **fields,
        )

    def _is_schema_item(self, func: ast.expr, scope: Scope) -> bool:
        obj = import_sqlalchemy_object(self.resolver.qualify(func, scope) or "")
        schema_item = import_sqlalchemy_object("sqlalchemy.schema.SchemaItem")
        fetched = import_sqlalchemy_object("sqlalchemy.schema.FetchedValue")
        return isinstance(obj, type) and issubclass(obj, (schema_item, fetched))

    def _read_sqlmodel_field(self, key, keywords, statement, parsed_annotation, written, context):
        sa_column = keywords.get("sa_column")
        if sa_column is not None:
            if isinstance(sa_column, ast.Call):
                target = self.resolver.resolve_expr(sa_column.func, context.scope)
                style, defaults = self._column_style(target)
                if style == "column":
                    inner_keywords = {kw.arg: kw.value for kw in sa_column.keywords if kw.arg}
                    column = self._read_column_call(key, sa_column, inner_keywords, style, defaults,
                                                    statement, None, False, None, context)
                    if parsed_annotation is not None:
                        # The Column alone decides nullability; the annotation is what type
                        # checkers read, which DBC300 compares with it.
                        _base, optional, _ = unwrap_optional(parsed_annotation)
                        column = dataclasses.replace(
                            column,
                            nullability=dataclasses.replace(column.nullability, annotation_optional=optional),
                            written_annotation=statement.annotation,
                        )
                    return column
            return OtherDeclaration(key)
        base, optional, _ = unwrap_optional(parsed_annotation)
        facts = NullabilityFacts(
            style="sqlmodel",
            nullable=literal(keywords.get("nullable")),
            primary_key=literal(keywords.get("primary_key")),
            annotation_optional=optional if parsed_annotation is not None else None,
        )
        return self._column(
            key,
            key,
            statement,
            context,
            facts,
            type_node=keywords.get("sa_type"),
            annotation=base,
            written_annotation=written,
            foreign_key_only=False,
        )

    def _annotation_only(self, key, statement, is_mapped, source, written, context):
        base, optional, explicit = unwrap_optional(source)
        facts = NullabilityFacts(
            style="mapped" if is_mapped else "sqlmodel",
            nullable=explicit,
            primary_key=True if key in context.primary_key_names else None,
            annotation_optional=optional,
        )
        return self._column(
            key,
            key,
            statement,
            context,
            facts,
            type_node=None,
            annotation=base,
            written_annotation=written,
            foreign_key_only=False,
        )

    def _read_relationship(self, key, call, inner, statement, context):
        target: Any = None
        if call.args:
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                target = first.value.rsplit(".", 1)[-1]
            elif isinstance(first, ast.Lambda):
                target = first.body
            else:
                target = first
        elif inner is not None:
            target = _relationship_target_name(inner)
        return RelationshipDeclaration(key=key, line=statement.lineno, target=target, scope=context.scope)


@dataclasses.dataclass(frozen=True)
class _Context:
    scope: Scope
    path: str
    primary_key_names: frozenset
    sqlmodel: bool


def _source(node: Optional[ast.expr]) -> str:
    return ast.unparse(node) if node is not None else ""


def _relationship_target_name(inner: ast.expr) -> Optional[str]:
    """``"Patient"``, ``Optional["Patient"]``, ``List["Patient"]`` -> "Patient"."""
    base, _, _ = unwrap_optional(inner)
    if isinstance(base, ast.Subscript):
        base = _unquote(base.slice)
    text = dotted_text(base) if base is not None else None
    return text.rsplit(".", 1)[-1] if text else None
