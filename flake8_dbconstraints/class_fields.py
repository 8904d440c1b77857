"""What a class that is not a model declares about one of its attributes.

A parameter annotated ``run: DagRun | DagRunPydantic`` is a row of the model or an
object of the other class. A None test on ``run.dag_id`` is dead only if neither
can read None: the model's column is NOT NULL and the other class declares the
field with a type that excludes None (``dag_id: str``, as pydantic models and
dataclasses declare their fields). The declaration is trusted as the parameter's
annotation is; anything less explicit is unknown.
"""
from __future__ import annotations

import ast
import dataclasses
from typing import Callable, Iterator, Optional

from flake8_dbconstraints.declarations import unwrap_optional
from flake8_dbconstraints.names import ClassRef, External, NameResolver, unquote
from flake8_dbconstraints.registry import display_path
from flake8_dbconstraints.scopes import Scope

# Annotations that do not say "never None" (``ClassVar[Optional[str]]`` may hold it).
UNTYPED = frozenset({"Any", "object", "InitVar", "Literal", "TypeVar", "ClassVar", "Final", "NoneType"})


@dataclasses.dataclass(frozen=True)
class DeclaredField:
    member: str  # the class the receiver may be an instance of
    key: str
    annotation: str  # as written
    path: str
    line: int

    @property
    def declared_at(self) -> str:
        return f"{display_path(self.path)}:{self.line}"


def never_none_field(cls: ClassRef, key: str, resolver: NameResolver,
                     is_never_none: Callable[[ast.expr, object], bool]) -> Optional[DeclaredField]:
    """``key: T`` in the body of ``cls`` or of the first project base that names
    ``key``, with ``T`` neither Optional nor untyped and no default that may be None.
    ``None`` when the class (or a base the walk cannot read) may define it otherwise.
    The class's own declaration wins over its bases, as it does for type checkers."""
    for owner in _own_class_then_bases(cls, resolver):
        if owner is None:
            return None  # an unreadable base may define the attribute
        # The class body's bindings, as every other class-attribute lookup reads them.
        bindings = Scope(owner.node, owner.module.scope).bindings.get(key)
        if not bindings:
            continue
        if bindings[-1].kind != "annotated":
            return None  # a method, property or plain assignment: not a declared field
        statement = bindings[-1].statement
        base, optional, _explicit = unwrap_optional(statement.annotation)
        if base is None or optional or not _names_a_class(base, owner, resolver):
            return None
        if statement.value is not None and not is_never_none(statement.value, owner.module.scope):
            return None
        written = unquote(statement.annotation) or statement.annotation
        return DeclaredField(cls.name, key, ast.unparse(written), owner.module.path, statement.lineno)
    return None


def _own_class_then_bases(cls: ClassRef, resolver: NameResolver) -> Iterator[Optional[ClassRef]]:
    """The class, then its bases (``None`` for one that cannot be read); bases from
    outside the project (``pydantic.BaseModel``) declare no field of the project's."""
    yield cls
    for ref in resolver.iter_base_refs(cls):
        if ref is None or isinstance(ref, ClassRef):
            yield ref


def _names_a_class(annotation: ast.expr, owner: ClassRef, resolver: NameResolver) -> bool:
    """``str``, ``datetime``, ``list[int]``, a project class: not an alias or a type
    variable that may stand for Optional, nor ``Any`` or ``Literal[None]``."""
    origin = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    ref = resolver.resolve_expr(origin, owner.module.scope)
    if isinstance(ref, External):
        return ref.dotted.rpartition(".")[2] not in UNTYPED
    return isinstance(ref, ClassRef)
