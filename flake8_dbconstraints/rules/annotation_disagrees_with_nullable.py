"""DBC300 annotation-disagrees-with-nullable.

What it does: finds model columns whose annotation and ``nullable=`` disagree:
``started_at: Mapped[datetime] = mapped_column(nullable=True)`` (the database stores
NULLs that type checkers believe impossible) and
``ended_at: Mapped[Optional[datetime]] = mapped_column(nullable=False)`` (type checkers
demand None checks that this plugin then reports as dead). Also SQLModel fields with
``Field(nullable=...)``, and SQLModel fields annotated without ``None`` whose
``Field(sa_column=Column(..., nullable=True))`` stores NULLs.

Why it matters: mypy and pyright read only the annotation; SQLAlchemy lets the
explicit ``nullable=`` win (SEMANTICS 1). Code written against the annotation crashes
on NULLs, or carries dead branches.

Reported at the declaration, in mapped classes (abstract ones included) and SQLModel
tables; silent where there is no annotation, no literal ``nullable=``, or they agree.
"""
from __future__ import annotations

import ast
from typing import Iterator

from flake8_dbconstraints import codes
from flake8_dbconstraints.checker import Finding
from flake8_dbconstraints.declarations import ColumnDeclaration
from flake8_dbconstraints.names import ClassRef

CODE = codes.ANNOTATION_DISAGREES_WITH_NULLABLE
NAME = CODE.name
NODE_TYPES = (ast.ClassDef,)
CHECKED_KINDS = frozenset({"model", "abstract", "sqlmodel_table"})


def check(node: ast.ClassDef, scope, checker) -> Iterator[Finding]:
    if not _declares_nullable(node):
        return
    registry = checker.file_models.registry
    cls = ClassRef(checker.file_models.module, node)
    kind = registry.kind(cls)
    if kind not in CHECKED_KINDS:
        return
    for declaration in registry.reader.read_class(cls, kind == "sqlmodel_table"):
        if not isinstance(declaration, ColumnDeclaration) or not declaration.annotation_text:
            continue
        facts = declaration.nullability
        optional = facts.annotation_optional
        if optional is None or facts.nullable not in (True, False):
            continue
        if facts.style == "column" and facts.nullable is False:
            # A SQLModel field's sa_column=Column(..., nullable=False): the annotation is
            # the Python object's type, and ``x: datetime | None = Field(default=None,
            # sa_column=Column(..., server_default=now(), nullable=False))`` is honest for
            # a new object, which reads None until its INSERT (25 such fields in langflow).
            continue
        if facts.nullable is optional:
            continue
        consequence = codes.CONSEQUENCE_NEVER_NONE if facts.nullable else codes.CONSEQUENCE_MAYBE_NONE
        yield Finding(
            declaration.line,
            declaration.col,
            CODE.format(
                model=node.name,
                attr=declaration.key,
                annotation=declaration.annotation_text,
                nullable=facts.nullable,
                consequence=consequence,
            ),
        )


def _declares_nullable(node: ast.ClassDef) -> bool:
    """Cheap pre-check: does any annotated column of the body pass ``nullable=``, to
    its call or to the ``Column`` of a SQLModel ``sa_column=``?"""
    return any(
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.value, ast.Call)
        and any(
            keyword.arg == "nullable"
            or (keyword.arg == "sa_column" and isinstance(keyword.value, ast.Call)
                and any(inner.arg == "nullable" for inner in keyword.value.keywords))
            for keyword in statement.value.keywords
        )
        for statement in node.body
    )
