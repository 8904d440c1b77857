"""Which model is ``obj`` in ``obj.col``, and is ``obj`` a stored row?

Answers come from the checked file's own tree (the one flake8 hands the plugin) and
are ``None`` whenever there is doubt (pylint's ``safe_infer`` contract):

* ``"loaded"``: the object came from a query (``session.get``, ``query(M).first()``,
  ``scalars(select(M))``, ``M.query...``, SQLModel ``exec``, or a position of the
  rows of ``select(M, N)`` / ``query(M, N)`` unpacked in a ``for`` or an assignment,
  or a module-level project function annotated with the model whose every ``return``
  is such a query, or a function annotated ``-> ScalarResult[M]`` / ``-> Query[M]``):
  every column is loaded and even the primary key is set (SEMANTICS 3).
* ``"row"``: a parameter or variable annotated with a model, ``self`` in an ordinary
  method or property of a model, such a parameter kept by a plain class's ``__init__``
  (``self.visit``), or a relationship of a known row: a stored row in
  normal use, but the primary key is not trusted (``obj.id is None`` is the standard
  "is it new?" idiom). A parameter annotated with the union of one model and other
  project classes is such a row with ``others``: only what each of those classes
  declares can be decided (``class_fields``).

Objects built in the function (``Visit(...)``), names bound in more than one way,
and ``self`` in ``__init__``, ``__repr__``, validators, setters, hybrids, listeners
and other decorated methods are unknown.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
from typing import Any, Optional

from flake8_dbconstraints.declarations import union_members
from flake8_dbconstraints.names import ClassRef, FunctionRef
from flake8_dbconstraints.registry import ModelInfo
from flake8_dbconstraints.scopes import (
    Binding, Scope, assigned_only_by_init, function_nodes, is_first_method_parameter, last_name,
    methods_with_self, opaque_arguments, own_init, own_nodes, self_method_scope, target_text, walk,
)

MAX_DEPTH = 12

# Query / Select methods that keep the selected entity.
CHAIN_METHODS = frozenset({
    "filter", "filter_by", "where", "order_by", "limit", "offset", "options", "join", "outerjoin",
    "join_from", "outerjoin_from", "group_by", "having", "distinct", "execution_options",
    "with_for_update", "populate_existing", "params", "enable_eagerloads", "autoflush",
    "select_from", "correlate", "slice", "yield_per", "execution_options", "with_parent",
})
ONE_METHODS = frozenset({"first", "one", "one_or_none", "first_or_404", "one_or_404"})
QUERY_ONE_METHODS = ONE_METHODS | {"get", "get_or_404"}
SESSION_GET_METHODS = frozenset({"get", "get_one", "get_or_404"})
SCALAR_ONE_METHODS = frozenset({"scalar_one", "scalar_one_or_none", "scalar"})
# Methods of a model whose ``self`` may not be a stored row (SEMANTICS 3).
UNSAFE_SELF_METHODS = frozenset({"__init__", "__post_init__", "__repr__", "__str__", "__new__",
                                 "__init_subclass__", "__setattr__", "__getattr__"})
SAFE_DECORATORS = frozenset({"property", "cached_property"})
LISTENER_DECORATORS = frozenset({"listens_for"})


@dataclasses.dataclass(frozen=True)
class Receiver:
    model: ModelInfo
    state: str  # "loaded" or "row"
    many: bool = False  # a list / query of rows rather than one row
    # A Row of column values (``query(M.a, M.b).first()``), not an ORM object:
    # nothing is saved through it, so in-place changes are no lost writes.
    values: bool = False
    # ``run: DagRun | DagRunPydantic``: the other classes the object may be an
    # instance of (ClassRefs); only a test that each of them declares is decided.
    others: tuple = ()
    # Attributes the object's own class constructor may leave None on a new object
    # (``def __init__(self, kind=None): self.kind = kind``), for ``self`` in its methods.
    none_when_new: frozenset = frozenset()


@dataclasses.dataclass(frozen=True)
class SelectedColumn:
    """``M.col`` selected by ``select(M.a, M.b)`` / ``query(M.a, M.b)``."""

    model: ModelInfo
    key: str


class ReceiverResolver:
    """Receiver inference for one checked file."""

    def __init__(self, file_models: Any) -> None:
        # file_models: resolves class expressions of the checked file to models
        self.file_models = file_models
        self._listeners: Optional[set] = None
        self._used_by_unsafe: dict = {}  # class node -> _used_by_unsafe_methods
        self._kept_parameters: dict = {}  # class node -> _parameters_kept_by_init
        self._class_method_memo: dict = {}  # (method node, id of the model) -> its rows
        self._none_when_new: dict = {}  # class node -> _left_none_by_init of its constructor

    def _is_listener(self, function: ast.AST) -> bool:
        """Event listeners see objects before they are flushed (SEMANTICS 3): a
        function decorated ``@listens_for`` or handed to ``event.listen(...)``."""
        for decorator in getattr(function, "decorator_list", ()):
            call = decorator.func if isinstance(decorator, ast.Call) else decorator
            if last_name(call) in LISTENER_DECORATORS:
                return True
        if self._listeners is None:
            self._listeners = set()
            # Walking the whole file costs more than the rest of a file's check: only
            # when its text calls listen(...) (measured: 0.5 s of 3.7 s on a monorepo).
            tree = self.file_models.module.tree if self.file_models.calls_listen else ast.Module(body=[])
            for node in walk(tree):
                if isinstance(node, ast.Call) and last_name(node.func) == "listen" and len(node.args) >= 3:
                    self._listeners.add(last_name(node.args[2]))
        return getattr(function, "name", None) in self._listeners

    # -- public --------------------------------------------------------------------
    def receiver_of(self, expr: ast.expr, scope: Scope) -> Optional[Receiver]:
        receiver = self._expr(expr, scope, 0)
        if receiver is None or receiver.many:
            return None
        return receiver

    # -- expressions ---------------------------------------------------------------------
    def _expr(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[Receiver]:
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            return self._expr(expr.value, scope, depth + 1)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, scope, depth + 1)
        if isinstance(expr, ast.Attribute):
            owner = self._expr(expr.value, scope, depth + 1)
            if owner is None:
                return self._kept_parameter(expr, scope)
            if owner.many or owner.others:
                return None
            target = self.file_models.relationship_target(owner.model, expr.attr)
            if target is None or _relationship_reassigned(expr, scope):
                return None  # the related object may be a new one
            return Receiver(target, "row")
        if isinstance(expr, ast.Call):
            return (
                self._query(expr, scope, depth + 1)
                or self._helper_result(expr, scope)
                or self._class_method_rows(expr, scope)
            )
        return None

    def _helper_result(self, call: ast.Call, scope: Scope) -> Optional[Receiver]:
        """A project function annotated ``-> Model`` (or ``Optional[Model]``), trusted as
        an annotated variable is, unless its body builds that model itself."""
        ref = self._annotated_function(call, scope)
        if ref is None:
            return None
        model = self.file_models.model_from_annotation(ref.node.returns, ref.module.scope)
        if model is None:
            # ``-> list[Visit]``: rows when iterated (airflow's ``DagRun.get_latest_runs()``)
            elements = self.file_models.element_model_from_annotation(ref.node.returns, ref.module.scope)
            if elements is None or _may_return_new_object(ref.node, elements.name):
                return None
            return Receiver(elements, "row", many=True)
        if _may_return_new_object(ref.node, model.name):
            return None
        return Receiver(model, "loaded" if self._returns_queried_rows(ref, model) else "row")

    def _annotated_function(self, call: ast.Call, scope: Scope) -> Optional[FunctionRef]:
        """The project function, or model's class method, that ``call`` calls, when it
        has a return annotation."""
        func = call.func
        ref = (
            self.file_models.resolver.resolve_expr(func, scope)
            or self.class_method(func, scope)
            or self._own_method(func, scope)
        )
        return ref if isinstance(ref, FunctionRef) and ref.node.returns is not None else None

    def _own_method(self, func: ast.expr, scope: Scope) -> Optional[FunctionRef]:
        """``self.get(name)`` in a method: the one method of that name in the body of
        the method's own class. A subclass may override it, but a type checker holds
        the override to the same return annotation."""
        owner = self_method_scope(func, scope)
        if owner is None:
            return None
        return self.file_models.resolver.method_of(ClassRef(owner.module, owner.class_node), func.attr)

    def class_method(self, func: ast.expr, scope: Scope) -> Optional[FunctionRef]:
        """``Visit.latest()``: a ``@classmethod`` or ``@staticmethod`` in the body of a
        project class (not one it inherits)."""
        if not isinstance(func, ast.Attribute):
            return None
        owner = self.file_models.resolver.resolve_expr(func.value, scope)
        if not isinstance(owner, ClassRef):
            return None
        for statement in owner.node.body:
            if (
                isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and statement.name == func.attr
                and any(last_name(d) in ("classmethod", "staticmethod") for d in statement.decorator_list)
            ):
                return FunctionRef(owner.module, statement)
        return None

    def _returns_queried_rows(self, ref: FunctionRef, model: ModelInfo) -> bool:
        """Does every ``return`` of a module-level helper hand back a row of ``model``
        straight from a query (or ``None``)? Then its result is as loaded as the
        query's. A returned name may have been changed in between: it does not count."""
        if ref.node not in ref.module.tree.body:
            return False  # a nested function: names of its enclosing scope are unknown here
        returned = self._returned_rows(Scope(ref.node, ref.module.scope), model)
        return returned is not None and not returned.many

    def _class_method_rows(self, call: ast.Call, scope: Scope) -> Optional[Receiver]:
        """``Ticket.get(pk)``: a ``@classmethod`` the model defines or inherits (zou's
        ``BaseMixin.get``) whose every ``return`` hands back a query's row, or rows, of
        ``cls``, read with ``cls`` as the model it is called on. No annotation needed:
        the query says what comes back."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        owner = self.file_models.resolver.resolve_expr(func.value, scope)
        if not isinstance(owner, ClassRef):
            return None
        model = self.file_models.registry.model_for_class(owner)
        found = self.file_models.registry.class_method(owner, func.attr) if model is not None else None
        if found is None:
            return None
        key = (found[1].node, id(model))
        if key not in self._class_method_memo:
            self._class_method_memo[key] = self._rows_of_cls(*found, model)
        return self._class_method_memo[key]

    def _rows_of_cls(self, defined_in: ClassRef, method: FunctionRef, model: ModelInfo) -> Optional[Receiver]:
        with self.file_models.cls_bound_to(method.node, model):
            return self._returned_rows(Scope(method.node, method.module.scope, defined_in.node), model)

    def _returned_rows(self, scope: Scope, model: ModelInfo) -> Optional[Receiver]:
        """The rows of ``model`` that every ``return`` (but ``return None``) of the
        function hands back straight from a query: one row each, or a list each. A
        returned name may have been changed in between: it does not count."""
        values = [
            node.value for node in own_nodes(scope.node) if isinstance(node, ast.Return) and not _is_none(node.value)
        ]
        if not values or any(isinstance(v.value if isinstance(v, ast.Await) else v, ast.Name) for v in values):
            return None
        results = [self._query(value, scope, 1) for value in values]
        if any(
            result is None or result.model is not model or result.state != "loaded" or result.many != results[0].many
            for result in results
        ):
            return None
        return results[0]

    def _name(self, name: str, scope: Scope, depth: int) -> Optional[Receiver]:
        owner, bindings = scope.lookup(name)
        if owner is None or not bindings:
            return None
        memo_key = ("receiver", name)
        if memo_key in owner.memo:
            return owner.memo[memo_key]
        owner.memo[memo_key] = None  # a name defined through itself is unknown
        results = [self._binding(name, binding, owner, depth + 1) for binding in bindings]
        result = _agree(results)
        owner.memo[memo_key] = result
        return result

    def _binding(self, name: str, binding: Binding, scope: Scope, depth: int) -> Optional[Receiver]:
        if binding.kind == "param":
            return self._parameter(name, binding, scope)
        if binding.kind == "assign":
            return self._expr(binding.node, scope, depth)
        if binding.kind == "annotated":
            return self._annotated(binding, scope, depth)
        if binding.kind == "for":
            return self._element(binding.node, scope, depth)
        if binding.kind == "element":
            return self._unpacked(binding, scope, depth)
        return None

    def _annotated(self, binding: Binding, scope: Scope, depth: int) -> Optional[Receiver]:
        value = binding.node if binding.node is not binding.annotation else None
        if value is not None:
            from_value = self._expr(value, scope, depth)
            if from_value is not None:
                return from_value
            if self._is_constructor(value, scope):
                return None  # ``visit: Visit = Visit()`` is transient
            if isinstance(value, DISPLAYS):
                return None  # ``visits: list[Visit] = []``: filled here, maybe with new objects
        return self._annotation(binding.annotation, scope)

    def _annotation(self, annotation: ast.expr, scope: Scope) -> Optional[Receiver]:
        """``visit: Visit`` is a row; ``visits: list[Visit]`` rows when iterated."""
        model = self.file_models.model_from_annotation(annotation, scope)
        if model is not None:
            return Receiver(model, "row")
        elements = self.file_models.element_model_from_annotation(annotation, scope)
        if elements is not None:
            return Receiver(elements, "row", many=True)
        return self._union(annotation, scope)

    def _union(self, annotation: ast.expr, scope: Scope) -> Optional[Receiver]:
        """``run: DagRun | DagRunPydantic``: a row of the one model among project
        classes, or an instance of one of the others."""
        refs = [self.file_models.resolver.resolve_expr(member, scope) for member in union_members(annotation)]
        if len(refs) < 2 or not all(isinstance(ref, ClassRef) for ref in refs):
            return None
        models = [self.file_models.registry.model_for_class(ref) for ref in refs]
        rows = [model for model in models if model is not None]
        if len(rows) != 1:
            return None
        return Receiver(rows[0], "row", others=tuple(ref for ref, model in zip(refs, models) if model is None))

    def only_new_objects(self, expr: ast.expr, scope: Scope) -> bool:
        """Is ``expr`` a name every binding of which is a model's constructor call?"""
        if not isinstance(expr, ast.Name):
            return False
        owner, bindings = scope.lookup(expr.id)
        return bool(bindings) and all(
            binding.kind in ("assign", "annotated") and self._is_constructor(binding.node, owner)
            for binding in bindings
        )

    def _is_constructor(self, value: ast.expr, scope: Scope) -> bool:
        return isinstance(value, ast.Call) and self.file_models.model_from_class_expr(value.func, scope) is not None

    def _parameter(self, name: str, binding: Binding, scope: Scope) -> Optional[Receiver]:
        function = scope.function
        if is_first_method_parameter(binding, scope):
            return self._self(scope.class_node, function)
        if binding.annotation is None or self._is_listener(function):
            return None
        return self._annotation(binding.annotation, scope)

    def _self(self, class_node: ast.ClassDef, function: ast.AST) -> Optional[Receiver]:
        """``self`` of an ordinary method or property getter of a model, unless a method
        whose ``self`` may be new (``__repr__``...) uses it."""
        used = self._used_by_unsafe.get(class_node)
        if used is None:
            used = self._used_by_unsafe[class_node] = _used_by_unsafe_methods(class_node)
        if not _is_safe_method(function) or function.name in used:
            return None
        model = self.file_models.model_for_local_class(class_node)
        if model is None:
            return None
        none_when_new = self._none_when_new.get(class_node)
        if none_when_new is None:
            mro = self.file_models.registry.linearize(ClassRef(self.file_models.module, class_node))
            init = next((init for init in (own_init(ref.node) for ref in mro) if init is not None), None)
            none_when_new = self._none_when_new[class_node] = _left_none_by_init(init)
        return Receiver(model, "row", none_when_new=none_when_new)

    def _kept_parameter(self, expr: ast.Attribute, scope: Scope) -> Optional[Receiver]:
        """``self.workout`` in a method of a plain class (a service object) whose
        ``__init__`` keeps an annotated parameter there, ``def __init__(self, workout:
        Workout): self.workout = workout``, and that nothing else in the class assigns:
        trusted as that parameter is."""
        if not isinstance(expr.value, ast.Name):
            return None
        owner, bindings = scope.lookup(expr.value.id)
        if (
            len(bindings) != 1
            or not is_first_method_parameter(bindings[0], owner)
            or owner.function.name == "__init__"
            or owner.function.decorator_list
            or self.file_models.model_for_local_class(owner.class_node) is not None
        ):
            return None  # ``self`` of a model has its own rules (``_self``)
        kept = self._kept_parameters.get(owner.class_node)
        if kept is None:
            kept = self._kept_parameters[owner.class_node] = _parameters_kept_by_init(owner.class_node)
        annotation = kept.get(expr.attr)
        return self._annotation(annotation, owner) if annotation is not None else None

    # -- iteration ------------------------------------------------------------------------
    def _element(self, iterable: ast.expr, scope: Scope, depth: int) -> Optional[Receiver]:
        if isinstance(iterable, ast.Attribute):
            owner = self._expr(iterable.value, scope, depth + 1)
            if owner is not None and not owner.many and not owner.others:
                target = self.file_models.relationship_target(owner.model, iterable.attr)
                if target is None or _relationship_may_grow(iterable, scope):
                    return None  # a new object added to it is pending until the next flush
                return Receiver(target, "row")
            return None
        collection = self._query(iterable, scope, depth + 1, iterate=True)
        if collection is None and isinstance(iterable, ast.Name):
            collection = self._name(iterable.id, scope, depth + 1)  # a list of rows, say
        elif collection is None and isinstance(iterable, ast.Call):
            collection = self._helper_result(iterable, scope) or self._class_method_rows(iterable, scope)
        if collection is not None and isinstance(iterable, ast.Name) and _may_grow(iterable.id, scope):
            return None  # ``rows.append(Visit())``: a new object may be among them
        if collection is not None and collection.many:
            return dataclasses.replace(collection, many=False)
        return None

    # -- queries ------------------------------------------------------------------------
    def _query(self, expr: ast.expr, scope: Scope, depth: int, iterate: bool = False) -> Optional[Receiver]:
        """A call that returns rows of one model: one row, or ``many`` when iterated."""
        kind_models = self._query_kind(expr, scope, depth)
        if kind_models is None:
            return None
        kind, models = kind_models
        if not _one_entity(models):
            return self._row_of_values(kind, models, iterate)
        model = models[0]
        if kind == "one":
            return Receiver(model, "loaded")
        if kind == "many" or (iterate and kind in ("query", "result")):
            return Receiver(model, "loaded", many=True)
        return None

    def _row_of_values(self, kind: str, models: tuple, iterate: bool) -> Optional[Receiver]:
        """``query(M.a, M.b).first().b``: the selected columns of one model, read by key.
        Rows of several entities are told apart only by unpacking."""
        columns = [model for model in models if isinstance(model, SelectedColumn)]
        keys = [column.key for column in columns]
        if not columns or len(set(keys)) != len(keys) or any(c.model is not columns[0].model for c in columns):
            return None
        source = columns[0].model
        row = dataclasses.replace(source, columns={key: source.columns[key] for key in keys}, relationships={})
        if kind == "row":
            return Receiver(row, "loaded", values=True)
        if kind == "rows" or (iterate and kind == "query"):
            return Receiver(row, "loaded", many=True, values=True)
        return None

    def _unpacked(self, binding: Binding, scope: Scope, depth: int) -> Optional[Receiver]:
        """``for visit, patient in session.execute(select(Visit, Patient))``, ``visit,
        patient = query.first()``: the entity at the name's position of each row."""
        kind_models = self._query_kind(binding.node, scope, depth)
        if kind_models is None:
            return None
        kind, models = kind_models
        iterated = isinstance(binding.statement, (ast.For, ast.AsyncFor, ast.comprehension))
        rows = kind == "rows" or (kind == "query" and len(models) > 1)
        if not (rows if iterated else kind == "row") or len(models) != binding.size:
            return None
        model = models[binding.index]
        return Receiver(model, "loaded") if isinstance(model, ModelInfo) else None

    def _query_kind(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[tuple[str, tuple]]:
        """(kind, the model of each entity selected, None where not a model). Kinds:
        "query" and "select" (statements), "result" (rows of one entity's objects),
        "one" and "many" (one object, a list of them), "rows" and "row" (rows of
        several entities or of columns, iterable or one)."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            return self._query_kind(expr.value, scope, depth + 1)
        if isinstance(expr, ast.Name):
            return self._query_name(expr.id, scope, depth)  # which counts its bindings' step
        if isinstance(expr, ast.Attribute):
            if expr.attr == "query":  # Flask-SQLAlchemy / query_property: ``M.query``
                model = self.file_models.model_from_class_expr(expr.value, scope)
                return ("query", (model,)) if model is not None else None
            return None
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        if not isinstance(func, ast.Attribute):
            models = self._select_of(expr, scope)
            return ("select", models) if models is not None else self._annotated_query(expr, scope)
        method = func.attr
        args = expr.args
        if method in SESSION_GET_METHODS and len(args) >= 2:
            model = self.file_models.model_from_class_expr(args[0], scope)
            if model is not None:
                return ("one", (model,))
        if method == "query" and args and not expr.keywords:
            models = self._entities(args, scope)
            return ("query", models) if models is not None else None
        if method in ("scalars", "exec", "execute", "scalar", "first_or_404", "one_or_404") and args:
            statement = self._query_kind(args[0], scope, depth + 1)
            if statement is not None and statement[0] == "select":
                models = statement[1]
                if method == "scalars" or (method == "exec" and len(models) == 1):
                    return ("result", models[:1])  # the first entity of each row
                if method in ("execute", "exec"):
                    return ("rows", models)
                return ("one", models[:1])
        if method == "select":
            models = self._select_of(expr, scope)
            if models is not None:
                return ("select", models)
        inner = self._query_kind(func.value, scope, depth + 1)
        if inner is None:
            return self._annotated_query(expr, scope)
        if inner is REFINED:
            return REFINED if method in CHAIN_METHODS and not _is_outer_join(expr) else None
        kind, models = inner
        several = not _one_entity(models)
        if kind in ("query", "select") and method in CHAIN_METHODS:
            if several and _is_outer_join(expr):
                # A column of the optional side reads None. An entity there is None
                # too, but then ``entity.col`` raises before any test can run.
                models = tuple(None if isinstance(model, SelectedColumn) else model for model in models)
                if all(model is None for model in models):
                    return None
            return (kind, models)
        if kind == "query":
            if method in QUERY_ONE_METHODS:
                return ("row" if several else "one", models)
            if method == "all":
                return ("rows" if several else "many", models)
        if kind == "result":
            if method in ONE_METHODS:
                return ("one", models)
            if method in ("all", "fetchall"):
                return ("many", models)
            if method == "unique":
                return ("result", models)
        if kind == "rows":
            if method == "scalars":
                return ("result", models[:1])
            if method in SCALAR_ONE_METHODS:
                return ("one", models[:1])
            if method in ONE_METHODS:
                return ("row", models)
            if method in ("unique", "all", "fetchall"):
                return ("rows", models)
        return None

    def _query_name(self, name: str, scope: Scope, depth: int) -> Optional[tuple[str, tuple]]:
        """A name bound only by ``=``, each to the same statement, query or result, or
        to a refinement of the name itself (``statement = statement.where(...)``)."""
        owner, bindings = scope.lookup(name)
        if owner is None or not bindings or any(binding.kind != "assign" for binding in bindings):
            return None
        memo_key = ("query", name)
        if memo_key in owner.memo:
            return owner.memo[memo_key]  # REFINED while its own bindings are read
        owner.memo[memo_key] = REFINED
        results = [self._query_kind(binding.node, owner, depth + 1) for binding in bindings]
        known = [result for result in results if result is not REFINED]
        result = known[0] if known else None
        if result is not None and (
            result[0] not in ("query", "select", "result", "rows", "many", "row")
            or any(other is None or other[0] != result[0] or not _same_models(other[1], result[1]) for other in known)
            or (len(known) < len(results) and result[0] not in ("query", "select"))
        ):
            result = None
        owner.memo[memo_key] = result
        return result

    def _annotated_query(self, call: ast.Call, scope: Scope) -> Optional[tuple[str, tuple]]:
        """A project function or a model's class method annotated ``-> ScalarResult[M]``
        or ``-> Query[M]`` (freqtrade's ``Trade.get_trades()``): such results hold
        objects read from the database, whatever the body does to build the query."""
        ref = self._annotated_function(call, scope)
        if ref is None:
            return None
        found = self.file_models.query_from_annotation(ref.node.returns, ref.module.scope)
        return (found[0], (found[1],)) if found is not None else None

    def _select_of(self, call: ast.Call, scope: Scope) -> Optional[tuple]:
        """``select(M)``, ``select(M, N, ...)`` (SQLAlchemy, SQLModel, ``db.select``)."""
        if not call.args or call.keywords or not self.file_models.is_select_function(call.func, scope):
            return None
        return self._entities(call.args, scope)

    def _entities(self, args: list, scope: Scope) -> Optional[tuple]:
        """The model of each selected entity, or the ``SelectedColumn`` of a column;
        None at other positions, and as a whole when nothing is known."""
        models = tuple(self._entity(arg, scope) for arg in args)
        return models if any(model is not None for model in models) else None

    def _entity(self, arg: ast.expr, scope: Scope) -> Any:
        model = self.file_models.model_from_class_expr(arg, scope)
        if model is not None or not isinstance(arg, ast.Attribute):
            return model
        owner = self.file_models.model_from_class_expr(arg.value, scope)
        return SelectedColumn(owner, arg.attr) if owner is not None and arg.attr in owner.columns else None


def _one_entity(models: tuple) -> bool:
    """A select of one model's objects, not of rows (several entities, or columns)."""
    return len(models) == 1 and isinstance(models[0], ModelInfo)


def _is_outer_join(call: ast.Call) -> bool:
    """``.outerjoin(...)``, ``.join(..., isouter=True)``, or ``.select_from()`` of an
    outer ``join()`` / ``outerjoin()`` construct."""
    method = last_name(call.func)
    if method in ("outerjoin", "outerjoin_from"):
        return True
    if method == "select_from":
        return any(isinstance(node, ast.Call) and _is_outer_join(node) for arg in call.args for node in walk(arg))
    return method in ("join", "join_from") and any(
        keyword.arg in ("isouter", "full") and not (isinstance(keyword.value, ast.Constant) and not keyword.value.value)
        for keyword in call.keywords
    )


# What a name's refinement of itself (``q = q.filter(...)``) selects while that name's
# bindings are being read: whatever its other bindings select.
REFINED = ("refined", ())


def _same_models(first: tuple, second: tuple) -> bool:
    return len(first) == len(second) and all(a is b for a, b in zip(first, second))


def _agree(results: list) -> Optional[Receiver]:
    """All bindings must give the same model; a state is only as strong as the weakest."""
    if not results or any(result is None for result in results):
        return None
    first = results[0]
    for other in results[1:]:
        if other.model is not first.model or other.many != first.many or other.others != first.others:
            return None
    state = "loaded" if all(result.state == "loaded" for result in results) else "row"
    none_when_new = frozenset().union(*(result.none_when_new for result in results))
    return Receiver(first.model, state, first.many, first.values, first.others, none_when_new)


def _is_none(value: Optional[ast.expr]) -> bool:
    return value is None or (isinstance(value, ast.Constant) and value.value is None)


def _left_none_by_init(init: Optional[ast.AST]) -> frozenset:
    """Attributes a model's constructor may set to None on a new object: ``self.attr =
    None``, or ``self.attr = param`` where ``param`` defaults to None (galaxy's
    ``DatasetCollection(collection_type=None)``, whose ``validate()`` then tests
    ``self.collection_type is None``)."""
    if init is None:
        return frozenset()
    arguments = init.args
    positional = arguments.posonlyargs + arguments.args
    defaults = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    defaults += [(argument, default) for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults)
                 if default is not None]
    none_by_default = {argument.arg for argument, default in defaults if _is_none(default)}
    self_names = {argument.arg for argument in arguments.args[:1]}
    left = set()
    for node in own_nodes(init):
        if isinstance(node, ast.Assign) and (
            _is_none(node.value) or (isinstance(node.value, ast.Name) and node.value.id in none_by_default)
        ):
            left.update(
                target.attr for target in node.targets
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                and target.value.id in self_names
            )
    return frozenset(left)


# Values built here: a collection annotated with a model is then filled in this function.
DISPLAYS = (ast.List, ast.Set, ast.Tuple, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
GROWING_METHODS = frozenset({"append", "extend", "insert", "add", "update", "setdefault"})


def _may_grow(name: str, scope: Scope) -> bool:
    """Does the function that binds ``name`` add to it (``rows.append(...)``,
    ``rows[0] = ...``)? A collection bound outside a function is not followed."""
    owner, _bindings = scope.lookup(name)
    if owner is None or not isinstance(owner.function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return True  # a lambda's parameter, a module's name: not followed
    for node in own_nodes(owner.function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in GROWING_METHODS:
            target = node.func.value
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = next((t.value for t in targets if isinstance(t, ast.Subscript)), None)
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            return True
    return False


def _once_per_function(kind: str):
    """Memoize a ``(relation, scope)`` question in the memo of the function the scope
    is in: every guard on ``visit.patient`` asks it again."""
    def decorate(question):
        @functools.wraps(question)
        def asked(relation: ast.Attribute, scope: Scope) -> bool:
            function = scope.function_scope
            key = (kind, target_text(relation))
            if key not in function.memo:
                function.memo[key] = question(relation, function)
            return function.memo[key]
        return asked
    return decorate


@_once_per_function("reassigned")
def _relationship_reassigned(relation: ast.Attribute, function: Scope) -> bool:
    """Does the function set ``row.parent`` (``visit.patient = Patient()``), or put the
    row in a new or another object's collection, which a backref turns into
    ``row.parent`` (``Patient(visits=[visit])``, ``other.visits.append(visit)``,
    ``other.visits = [visit]``)? The related object may then be a new one, its
    defaults unset until the flush."""
    text, owner_text = target_text(relation), target_text(relation.value)

    def mentions(expr: ast.AST) -> bool:
        return any(target_text(node) == owner_text for node in walk(expr))

    for node in function_nodes(function):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(target_text(t) == text for t in targets):
                return True
            if node.value is not None and any(isinstance(t, ast.Attribute) for t in targets) and mentions(node.value):
                return True
        elif isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in GROWING_METHODS
                    and isinstance(func.value, ast.Attribute) and any(mentions(arg) for arg in node.args)):
                return True
            name = last_name(func)
            if name and name[:1].isupper() and any(mentions(kw.value) for kw in node.keywords):
                return True
    return False


@_once_per_function("grows")
def _relationship_may_grow(collection: ast.Attribute, function: Scope) -> bool:
    """Does the function iterating ``row.children`` add to it: ``row.children.append(
    Child())``, an assignment to it, or a new object pointed at ``row`` (``Child(
    parent=row)``, ``child.parent = row``), which a backref adds to the collection in
    memory? Iterating a loaded collection flushes nothing, so such an object is still
    pending there, its defaults unset (SEMANTICS 3)."""
    text, owner_text = target_text(collection), target_text(collection.value)
    nodes = function_nodes(function)
    texts = {text} | {  # ``messages = row.messages`` is the same list
        target.id for node in nodes if isinstance(node, ast.Assign) and target_text(node.value) == text
        for target in node.targets if isinstance(target, ast.Name)
    }
    for node in nodes:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in GROWING_METHODS and target_text(func.value) in texts:
                return True
            name = last_name(func)
            if name and name[:1].isupper() and any(target_text(kw.value) == owner_text for kw in node.keywords):
                return True
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            grown = texts if isinstance(node, ast.AugAssign) else {text}  # ``alias += [...]`` extends it
            if any(target_text(t) in grown or (isinstance(t, ast.Subscript) and target_text(t.value) in texts)
                   for t in targets):
                return True
            if target_text(node.value) == owner_text and any(isinstance(t, ast.Attribute) for t in targets):
                return True
    return False


def _may_return_new_object(function: ast.AST, class_name: str) -> bool:
    """Does the body call something named like the model (``Visit(...)``,
    ``models.Visit(...)``, a classmethod's ``cls(...)``), or yield? A new object is
    not a stored row."""
    names = {class_name}
    arguments = function.args.posonlyargs + function.args.args
    if arguments and any(last_name(d) == "classmethod" for d in function.decorator_list):
        names.add(arguments[0].arg)
    for node in walk(function):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Call) and last_name(node.func) in names:
            return True
    return False


def _is_safe_method(function: ast.AST) -> bool:
    if function.name in UNSAFE_SELF_METHODS:
        return False
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Name) and decorator.id in SAFE_DECORATORS) and not (
            isinstance(decorator, ast.Attribute) and decorator.attr == "cached_property"
        ):
            return False  # setters, validators, hybrids, listeners, classmethods...
    return True


def _parameters_kept_by_init(class_node: ast.ClassDef) -> dict:
    """attribute -> annotation, for each ``self.attr = param`` of ``__init__`` whose
    parameter is annotated and never rebound, when no other statement of the class
    assigns or deletes ``self.attr``. A class whose methods call ``setattr`` (or
    another call of ``opaque_arguments``) on anything keeps nothing."""
    init, assigned = assigned_only_by_init(class_node)
    if init is None or any(
        isinstance(node, ast.Call) and opaque_arguments(node)
        for method in methods_with_self(class_node) for node in walk(method)
    ):
        return {}
    arguments = init.args.args[1:] + init.args.kwonlyargs
    annotations = {argument.arg: argument.annotation for argument in arguments if argument.annotation is not None}
    for node in walk(init):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            annotations.pop(node.id, None)  # the parameter is rebound
    return {
        attr: annotations[statement.value.id] for attr, statement in assigned.items()
        if isinstance(statement.value, ast.Name) and statement.value.id in annotations
    }


def _used_by_unsafe_methods(class_node: ast.ClassDef) -> frozenset:
    """Methods and properties that ``__repr__``, validators and the like reach through
    ``self.name``, directly or through each other: they may run on a new object too."""
    methods = {
        statement.name: statement
        for statement in class_node.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    pending = [function for function in methods.values() if not _is_safe_method(function)]
    reached: set = set()
    while pending:
        function = pending.pop()
        for node in walk(function):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and node.attr in methods
                and node.attr not in reached
            ):
                reached.add(node.attr)
                pending.append(methods[node.attr])
    return frozenset(reached)
