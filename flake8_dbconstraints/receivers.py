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
from typing import Any, Callable, Optional

from flake8_dbconstraints.declarations import union_members
from flake8_dbconstraints.names import ClassRef, External, FunctionRef, Instance, ModuleRef
from flake8_dbconstraints.registry import ModelInfo
from flake8_dbconstraints.scopes import (
    OPAQUE_CALLS, Binding, Scope, assigned_only_by_init, is_first_method_parameter, last_name, methods_with_self,
    own_init, own_nodes, target_text, walk,
)

MAX_DEPTH = 12
# How many calls deep a helper's (or a row's method's) writes to the row are looked for.
MAX_HELPER_DEPTH = 3
# What a helper may do to an attribute of an object it is handed, beyond assigning it:
# change it opaquely, or mark it changed (for DBC200, as good as a new value).
MARKING_CALLS = OPAQUE_CALLS | {"flag_modified"}
NAMING_CALLS = frozenset({"setattr", "delattr", "flag_modified"})  # the attribute's name comes second
# ``setattr(obj, name, value)`` with a computed name: it may write any attribute.
ANY_ATTRIBUTE = "*"

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
        self._methods_memo: dict = {}  # (class node, method name) -> the functions it may run
        self._callees_memo: dict = {}  # (function, positions, keywords, attr, class, depth) -> writes?
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
    def may_be_written(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST, model: ModelInfo,
                       anywhere: bool = False, ignored: frozenset = frozenset(),
                       harmless: Optional[Callable[[ast.expr], bool]] = None) -> bool:
        """``is_written`` (the function's own writes), or the receiver (a row of
        ``model``) handed first to a project function, or to a method of its class,
        that writes the column: its value may then be anything. The same through
        another name for the same object (``v = visit``, ``for v in [visit]``), and
        for any row once the function merges an object into the session: the
        stored object of that identity takes the merged one's values, None included.
        The same column written on another object of the model may also be a write
        to this one (``_column_written_on_another_object``), a helper the list
        the row was taken from is handed to may write it (``clear_all(visits)``), and
        so may one a row it is reached from is handed to (``forget_birth(visit)``
        for ``visit.patient``) and a closure capturing it (``_written_by_a_closure``).
        What counts as a helper: ``_call_writes``."""
        if is_written(scope, receiver_expr, attr, at, anywhere=anywhere, ignored=ignored, harmless=harmless):
            return True
        if _merges_first(scope.function_scope, at, anywhere):
            return True
        if self._column_written_on_another_object(scope, receiver_expr, attr, at, model, anywhere, harmless):
            return True
        function = scope.function_scope
        text = target_text(receiver_expr)
        for name in [receiver_expr, *_aliases_of(function, text), *_collections_of(function, text)]:
            if name is not receiver_expr and is_written(scope, name, attr, at, anywhere=anywhere, harmless=harmless):
                return True
            if self._handed_to_what_writes(scope, name, attr, at, model, anywhere):
                return True
        return (self._written_through_an_owner(scope, receiver_expr, attr, at, anywhere)
                or self._written_by_a_closure(scope, receiver_expr, attr, at, model, anywhere))

    def handed_on_to_mark(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST,
                          model: ModelInfo) -> bool:
        """DBC200: does the function hand the row, anywhere, to what writes ``attr`` or
        marks it changed: a project function or a method of its class
        (``mark(patient)`` doing ``flag_modified(patient, "profile")``,
        ``patient.touch()``), a function known only at run time, or a closure? A mark
        before the change counts too (the flush writes the current value); a flush
        between them is not looked for."""
        function = scope.function_scope
        for name in [receiver_expr, *_aliases_of(function, target_text(receiver_expr))]:
            if self._handed_to_what_writes(scope, name, attr, at, model, True):
                return True
        return self._written_by_a_closure(scope, receiver_expr, attr, at, model, True)

    def _written_through_an_owner(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST,
                                  anywhere: bool) -> bool:
        """For a related row (``visit.patient``), was a row it is reached from handed
        first to a helper, or had a method called on it, that writes the column by the
        same path (``forget_birth(visit)`` doing ``visit.patient.born_on = None``)?"""
        function = scope.function_scope
        owner_expr, chain = receiver_expr, attr
        while isinstance(owner_expr, ast.Attribute):
            owner_expr, chain = owner_expr.value, f"{owner_expr.attr}.{chain}"
            text = target_text(owner_expr)
            if text not in _calls_by_argument(function) and text not in _method_calls_by_owner(function):
                continue  # handed to nothing: no need to know what it is
            owner = self.receiver_of(owner_expr, scope)
            if owner is not None and self._handed_to_what_writes(scope, owner_expr, chain, at, owner.model,
                                                                 anywhere):
                return True
        return False

    def _handed_to_what_writes(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST,
                               model: ModelInfo, anywhere: bool) -> bool:
        """Was the object handed to a helper (``_handed_to_a_writer``), or had a method
        of its class called on it (``_changed_by_its_own_method``), that writes ``attr``?"""
        return (self._handed_to_a_writer(scope, receiver_expr, attr, at, model, anywhere)
                or self._changed_by_its_own_method(scope, receiver_expr, attr, at, model, anywhere))

    def _column_written_on_another_object(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST,
                                          model: ModelInfo, anywhere: bool,
                                          harmless: Optional[Callable[[ast.expr], bool]]) -> bool:
        """Does the function write ``attr`` of another expression, with the timing of
        ``is_written``, that may be the same object: a row of the same model or of a
        model not known (``visits[0].started_at = None`` then ``for v in visits``,
        ``for v in visits: v.started_at = ...`` before another loop over them, the
        same row loaded twice, which the session's identity map makes one object)?"""
        function = scope.function_scope
        text = target_text(receiver_expr)
        writes = _attribute_writes(function)
        for line, owner, value in [*writes.get(attr, ()), *writes.get(ANY_ATTRIBUTE, ())]:
            if target_text(owner) == text:
                continue  # the receiver's own writes are is_written's
            before = line < at.lineno and not _share_loop(function, line, at.lineno)
            if not _runs_first(function, line, at, anywhere):
                continue
            if harmless is not None and before and value is not None and harmless(value):
                continue
            if self._only_new_objects(owner, function):
                continue  # ``copy = Visit(); copy.started_at = ...``: never a stored row
            other = self.receiver_of(owner, function)
            if other is None or other.model.qname == model.qname:
                return True
        return False

    def _handed_to_a_writer(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST,
                            model: ModelInfo, anywhere: bool) -> bool:
        """Was the receiver passed, before ``at`` or in a loop around it, to a project
        function that assigns or deletes ``attr`` of the parameter it arrives in
        (``apply_shared(server, other)`` doing ``server.username = other.username``)?
        The column then holds whatever the helper put there. With ``anywhere``, a
        later call counts too, as a later assignment does for ``is_written``. A callee
        the plugin cannot read (``session.add(visit)``) is not followed; what the
        callee hands the row to in turn is (``_callee_writes``)."""
        function = scope.function_scope
        return any(
            _runs_first(function, node.lineno, at, anywhere)
            and self._call_writes(node, scope, tuple(positions), frozenset(keywords), attr, model, 1)
            for node, (positions, keywords) in _calls_by_argument(function).get(target_text(receiver_expr), {}).items()
        )

    def _changed_by_its_own_method(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST,
                                   model: ModelInfo, anywhere: bool) -> bool:
        """Was a method of the row called on it first (``visit.reset()``, with the same
        timing as for helpers), which its class defines or inherits from a project class
        and which assigns, deletes or ``setattr``s ``attr`` of ``self``? What the
        method hands ``self`` to in turn is followed as for helpers."""
        function = scope.function_scope
        calls = _method_calls_by_owner(function).get(target_text(receiver_expr))
        return any(
            _runs_first(function, node.lineno, at, anywhere) and self._method_writes(node.func.attr, attr, model, 1)
            for node in calls or ()
        )

    def _method_writes(self, method_name: str, attr: str, model: ModelInfo, depth: int) -> bool:
        """Does ``row.method_name(...)`` write ``attr`` of the row (``_callee_writes``)?"""
        key = (model.cls.node, method_name)
        if key not in self._methods_memo:
            self._methods_memo[key] = self.file_models.registry.instance_methods(model.cls, method_name)
        return any(self._callee_writes(method, (0,), frozenset(), attr, model, depth)
                   for method in self._methods_memo[key])

    def _call_writes(self, call: ast.Call, scope: Scope, positions: tuple, keywords: frozenset, attr: str,
                     model: ModelInfo, depth: int) -> bool:
        """Does ``call``, read in ``scope``, write ``attr`` of the row it is handed at
        ``positions`` or as ``keywords``? A project function or method is read; a
        function only known at run time (a callback parameter, a function kept on
        ``self``) may do anything; any other callee (``session.add``) is trusted."""
        func = call.func
        callee = self._function_value(func, scope)
        if isinstance(callee, External) and callee.dotted == "functools.partial" and call.args:
            # ``partial(clear, visit)``: the row reaches ``clear`` one position earlier
            return self._call_writes(ast.Call(func=call.args[0], args=call.args[1:], keywords=call.keywords), scope,
                                     tuple(index - 1 for index in positions if index), keywords, attr, model, depth)
        if isinstance(callee, ClassRef):
            # ``Updater(visit)``: its ``__init__`` gets the row after ``self``
            return any(self._callee_writes(init, tuple(index + 1 for index in positions), keywords, attr, model,
                                           depth)
                       for init in self.file_models.registry.methods_along_mro(callee, "__init__"))
        callees = [callee] if isinstance(callee, FunctionRef) else self._methods_of_self(func, scope)
        if not callees:
            return self._called_only_at_run_time(func, scope) or self._hands_on_to_a_function(call, scope, attr,
                                                                                              model, depth)
        return any(
            self._callee_writes(ref, tuple(index + self._implicit_arguments(func, ref, scope) for index in positions),
                                keywords, attr, model, depth)
            for ref in callees
        )

    def _hands_on_to_a_function(self, call: ast.Call, scope: Scope, attr: str, model: ModelInfo,
                                depth: int) -> bool:
        """A callee the plugin cannot read that is handed a project function along
        with the row (``pool.submit(clear, visit)``, ``map(clear, [visit])``) may call
        it with the row: does the function write ``attr`` of any of its parameters?"""
        for argument in [*call.args, *(keyword.value for keyword in call.keywords)]:
            function = self._function_value(argument, scope)
            for ref in [function] if isinstance(function, FunctionRef) else self._methods_of_self(argument, scope):
                parameters = ref.node.args
                positions = tuple(range(len(parameters.posonlyargs) + len(parameters.args)))
                keywords = frozenset(each.arg for each in [*parameters.args, *parameters.kwonlyargs])
                if self._callee_writes(ref, positions, keywords, attr, model, depth):
                    return True
        return False

    def _function_value(self, expr: ast.expr, scope: Scope) -> Any:
        """What a called (or handed) expression is: a name or attribute resolved, a
        project class's static or class method, a chain on ``self`` or a lambda bound
        once in the function."""
        ref = self.file_models.resolver.resolve_expr(expr, scope) or self._class_method(expr, scope)
        if isinstance(ref, (FunctionRef, ClassRef, External)):
            return ref
        return self._resolve_on_self(expr, scope) or _local_lambda(expr, scope) or ref

    def _resolve_on_self(self, func: ast.expr, scope: Scope) -> Any:
        """``self.repo.reset`` in a method: the chain read from an instance of the
        method's class (``self.repo = Repo()`` in ``__init__`` makes it ``Repo.reset``)."""
        attrs = []
        while isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):
            attrs.append(func.attr)
            func = func.value
        owner = self._self_scope(func, scope) if attrs else None
        if owner is None:
            return None
        ref: Any = Instance(ClassRef(owner.module, owner.class_node))
        for attr in [func.attr, *reversed(attrs)]:
            ref = self.file_models.resolver.resolve_attribute(ref, attr)
        return ref

    def _methods_of_self(self, func: ast.expr, scope: Scope) -> list[FunctionRef]:
        """``self.clear(visit)`` in a method: what ``clear`` is along the MRO of the
        method's class, a project base's method included (``_own_method`` reads only
        the class's own body)."""
        owner = self._self_scope(func, scope)
        if owner is None:
            return []
        return self.file_models.registry.methods_along_mro(ClassRef(owner.module, owner.class_node), func.attr)

    def _called_only_at_run_time(self, func: ast.expr, scope: Scope) -> bool:
        """Is ``func`` a function the code is handed at run time: one looked up in a
        mapping or returned by a call, a parameter of an enclosing function
        (``callback(visit)``), or an attribute of ``self`` that a
        method of its class or of a project base assigns (``self.cleaner = clear_later``)?"""
        if isinstance(func, (ast.Subscript, ast.Call)):
            return True  # ``handlers[kind](visit)``, ``getattr(self, name)(visit)``
        if isinstance(func, ast.Name):
            _owner, bindings = scope.lookup(func.id)
            return any(binding.kind == "param" for binding in bindings)
        owner = self._self_scope(func, scope)
        if owner is None:
            return False
        classes = self.file_models.registry.linearize(ClassRef(owner.module, owner.class_node))
        return any(func.attr in _attributes_set_on_self(ref.node) for ref in classes)

    @staticmethod
    def _self_scope(func: ast.expr, scope: Scope) -> Optional[Scope]:
        """The scope of the method whose ``self`` (or ``cls``) ``func`` is an attribute of."""
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return None
        owner, bindings = scope.lookup(func.value.id)
        if owner is None or len(bindings) != 1 or not is_first_method_parameter(bindings[0], owner):
            return None
        if any(last_name(decorator) == "staticmethod" for decorator in owner.node.decorator_list):
            return None  # its first parameter is no self
        return owner

    def _callee_writes(self, ref: FunctionRef, positions: tuple, keywords: frozenset, attr: str,
                       model: ModelInfo, depth: int) -> bool:
        """Does the function ``ref`` write ``attr`` of the row arriving as the
        parameters at ``positions`` or named ``keywords``: itself, or through a project
        function or a method of the row's class it hands that parameter to in turn
        (``apply(visit)`` calling ``_fill(visit)``, ``self.reset()`` in a method),
        up to ``MAX_HELPER_DEPTH`` calls deep?"""
        key = (ref.node, positions, keywords, attr, model.cls.node, depth)
        if key not in self._callees_memo:  # a recursive helper asks one level deeper: a new key
            self._callees_memo[key] = self._compute_callee_writes(ref, positions, keywords, attr, model, depth)
        return self._callees_memo[key]

    def _compute_callee_writes(self, ref: FunctionRef, positions: tuple, keywords: frozenset, attr: str,
                               model: ModelInfo, depth: int) -> bool:
        return self._names_written(ref, _parameter_names(ref.node, positions, keywords), attr, model, depth)

    def _names_written(self, ref: FunctionRef, names: set, attr: str, model: ModelInfo, depth: int) -> bool:
        """Does the function ``ref`` write ``attr`` of what its ``names`` hold, itself
        or through what it hands them to?"""
        if _writes_parameter_attribute(ref.node, names, attr):
            return True
        if depth >= MAX_HELPER_DEPTH:
            return False
        scope = Scope(ref.node, ref.module.scope, _defining_class(ref))
        for node in walk(ref.node):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in names
                    and self._method_writes(func.attr, attr, model, depth + 1)):
                return True
            handed = tuple(index for index, argument in enumerate(node.args)
                           if names.intersection(_argument_texts(argument)))
            named = frozenset(keyword.arg for keyword in node.keywords
                              if keyword.arg and names.intersection(_argument_texts(keyword.value)))
            if (handed or named) and self._call_writes(node, scope, handed, named, attr, model, depth + 1):
                return True
        return False

    def _written_by_a_closure(self, scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST,
                              model: ModelInfo, anywhere: bool) -> bool:
        """Does a function or lambda nested in the function, defined before ``at`` (or
        in a loop around it), write the column of the receiver it captures, itself or
        through what it hands it to (``def job(): visit.started_at = None``, then
        ``job()`` or ``pool.submit(job)``)? Where it is called is not followed."""
        function = scope.function_scope
        root, _, path = (target_text(receiver_expr) or "").partition(".")
        chain = f"{path}.{attr}" if path else attr
        for node, parameters in _closures(function):
            if _runs_first(function, node.lineno, at, anywhere) and root not in parameters:
                key = (node, root, chain, model.cls.node)
                if key not in self._callees_memo:
                    self._callees_memo[key] = self._names_written(FunctionRef(function.module, node), {root}, chain,
                                                                  model, 1)
                if self._callees_memo[key]:
                    return True
        return False

    def _implicit_arguments(self, func: ast.expr, ref: FunctionRef, scope: Scope) -> int:
        """The parameters a call fills itself: ``cls`` of a class method, ``self`` of a
        method called on an instance (``service.apply(visit)``)."""
        decorators = {last_name(decorator) for decorator in getattr(ref.node, "decorator_list", ())}
        if "staticmethod" in decorators or not isinstance(func, ast.Attribute):
            return 0
        if "classmethod" in decorators:
            return 1
        owner = self.file_models.resolver.resolve_expr(func.value, scope)
        return 0 if isinstance(owner, (ClassRef, ModuleRef)) else 1

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
            or self._class_method(func, scope)
            or self._own_method(func, scope)
        )
        return ref if isinstance(ref, FunctionRef) and ref.node.returns is not None else None

    def _own_method(self, func: ast.expr, scope: Scope) -> Optional[FunctionRef]:
        """``self.get(name)`` in a method: the one method of that name in the body of
        the method's own class. A subclass may override it, but a type checker holds
        the override to the same return annotation."""
        owner = self._self_scope(func, scope)
        if owner is None:
            return None
        return self.file_models.resolver.method_of(ClassRef(owner.module, owner.class_node), func.attr)

    def _class_method(self, func: ast.expr, scope: Scope) -> Optional[FunctionRef]:
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

    def _only_new_objects(self, expr: ast.expr, scope: Scope) -> bool:
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


def _function_nodes(function: Scope) -> list:
    """The nodes of a function (or module) scope, not entering nested functions; all
    of a lambda's."""
    nodes = function.memo.get("own nodes")
    if nodes is None:
        body = getattr(function.node, "body", None)
        nodes = function.memo["own nodes"] = list(
            own_nodes(function.node) if isinstance(body, list) else walk(function.node)
        )
    return nodes


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

    for node in _function_nodes(function):
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
    nodes = _function_nodes(function)
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
    another of ``OPAQUE_CALLS``) on anything keeps nothing."""
    init, assigned = assigned_only_by_init(class_node)
    if init is None or any(
        isinstance(node, ast.Call) and last_name(node.func) in OPAQUE_CALLS
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


def is_written(scope: Scope, receiver_expr: ast.expr, attr: str, at: ast.AST, anywhere: bool = False,
               ignored: frozenset = frozenset(), harmless: Optional[Callable[[ast.expr], bool]] = None) -> bool:
    """Can ``receiver.attr`` have been assigned or deleted by the time ``at`` runs: a
    write earlier in the function or anywhere in a loop around ``at``? Or was the
    receiver handed to setattr or make_transient? Then its value may be anything.

    With ``anywhere``, a later write counts too: code that tests a column and then
    sets it (``if self.state is None: self.state = ...``) is written for objects still
    being built, so a receiver that is not known to come from a query may be one.
    Writes on the ``ignored`` lines of ``scope`` do not count, nor writes before
    ``at`` in ``scope`` itself, outside a loop around it, whose value ``harmless``
    accepts (``visit.started_at = datetime(...)`` cannot make it None)."""
    text = target_text(receiver_expr)
    if text is None:
        return True
    current: Optional[Scope] = scope
    while current is not None:
        current.bindings  # collecting the bindings also collects the writes
        if text in current.opaque_names:
            return True
        for line, value in current.written_attributes.get((text, attr), {}).items():
            if current is scope and line in ignored:
                continue
            if (
                harmless is not None
                and current is scope
                and line < at.lineno
                and not _share_loop(current, line, at.lineno)
                and harmless(value)
            ):
                continue
            # In an enclosing function, a write may run before a closure is called.
            if anywhere or current is not scope or line < at.lineno or _share_loop(current, line, at.lineno):
                return True
        current = current.parent
    return False


def _calls_by_argument(function: Scope) -> dict:
    """{argument text: {call: (its positions, its keywords)}} of the calls in a function
    (or module) scope, gathered once: every guard of the function asks."""
    index = function.memo.get("calls by argument")
    if index is None:
        index = function.memo["calls by argument"] = {}
        for node in _function_nodes(function):
            if not isinstance(node, ast.Call):
                continue
            for position, argument in enumerate(node.args):
                for text in _argument_texts(argument):
                    index.setdefault(text, {}).setdefault(node, ([], set()))[0].append(position)
            for keyword in node.keywords:
                for text in _argument_texts(keyword.value) if keyword.arg else ():
                    index.setdefault(text, {}).setdefault(node, ([], set()))[1].add(keyword.arg)
    return index


def _argument_texts(argument: ast.expr) -> list:
    """The name chains an argument hands over: itself, or the items of a display
    (``clear_all([visit, other])``, ``map(clear, (visit,))``)."""
    items = argument.elts if isinstance(argument, (ast.List, ast.Tuple, ast.Set)) else [argument]
    return [text for text in map(target_text, items) if text is not None]


def _attribute_writes(function: Scope) -> dict:
    """{attribute: [(line, owner expression, assigned value or None)]} of the
    attributes a function (or module) scope assigns or deletes, on any owner, also
    through ``setattr``/``delattr`` (under ANY_ATTRIBUTE when the name is computed)."""
    writes = function.memo.get("attribute writes")
    if writes is None:
        writes = function.memo["attribute writes"] = {}
        for node in _function_nodes(function):
            if isinstance(node, ast.Call) and last_name(node.func) in ("setattr", "delattr") and len(node.args) >= 2:
                name = node.args[1]
                attr = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else ANY_ATTRIBUTE
                value = node.args[2] if len(node.args) == 3 else None
                writes.setdefault(attr, []).append((node.lineno, node.args[0], value))
                continue
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            else:
                continue
            plain = node.value if isinstance(node, ast.Assign) else None
            for target in targets:
                for written in walk(target):
                    if isinstance(written, ast.Attribute) and isinstance(written.ctx, (ast.Store, ast.Del)):
                        writes.setdefault(written.attr, []).append((node.lineno, written.value, plain))
    return writes


def _merges_first(function: Scope, at: ast.AST, anywhere: bool) -> bool:
    """Does the function call ``.merge(obj)`` (``session.merge(Visit(id=1,
    started_at=None))``) before ``at``, or in a loop around it (anywhere, with
    ``anywhere``)? Which stored object it overwrites is not known here."""
    lines = function.memo.get("merges")
    if lines is None:
        lines = function.memo["merges"] = [
            node.lineno for node in _function_nodes(function)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "merge"
            and node.args
        ]
    return any(_runs_first(function, line, at, anywhere) for line in lines)


def _runs_first(function: Scope, line: int, at: ast.AST, anywhere: bool) -> bool:
    """May ``line`` of the function run before ``at``: earlier, or in a loop around
    both (and, with ``anywhere``, any line: a later one counts too)?"""
    return anywhere or line < at.lineno or _share_loop(function, line, at.lineno)


def _aliases_of(function: Scope, text: Optional[str]) -> list:
    """Other names the function gives the object ``text`` names, as expressions: the
    names linked to it by plain assignments (``v = visit``, ``visit = v``), either
    way and in chains, or by a loop over a display holding it (``for v in [visit]``)."""
    links = function.memo.get("aliases")
    if links is None:
        links = function.memo["aliases"] = {}
        for node in _function_nodes(function):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                pairs = [pair for target in targets for pair in _item_pairs(target, node.value)]
            elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.iter, (ast.List, ast.Tuple, ast.Set)):
                pairs = [(node.target, source) for source in node.iter.elts]
            else:
                continue
            for target, source in pairs:
                _link(links, target, source)
    found, pending = {text}, [text]
    while pending:
        for linked in links.get(pending.pop(), ()):
            if linked not in found:
                found.add(linked)
                pending.append(linked)
    found.discard(text)
    return [_expression_of(name) for name in sorted(found)]


def _item_pairs(target: ast.expr, value: Optional[ast.expr]) -> list:
    """What ``target = value`` binds to what: item by item when a display is unpacked
    into one of the same length without a starred item (``a, b = visit, other``)."""
    if (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts)
            and not any(isinstance(item, ast.Starred) for item in [*target.elts, *value.elts])):
        return list(zip(target.elts, value.elts))
    return [(target, value)]


def _link(links: dict, target: ast.expr, source: Optional[ast.expr]) -> None:
    """Record that the name ``target`` and the name chain ``source`` name one object."""
    first, second = target_text(target), target_text(source) if source is not None else None
    if isinstance(target, ast.Name) and first is not None and second is not None and first != second:
        links.setdefault(first, set()).add(second)
        links.setdefault(second, set()).add(first)


def _defining_class(ref: FunctionRef) -> Optional[ast.ClassDef]:
    """The class whose body defines the function, if it is a method: its ``self``
    calls (``self.reset(visit)``) are then read as the class's methods."""
    classes = ref.module.scope.memo.get("class of method")
    if classes is None:
        classes = ref.module.scope.memo["class of method"] = {
            id(statement): (statement, node) for node in walk(ref.module.tree) if isinstance(node, ast.ClassDef)
            for statement in node.body
        }
    statement, cls = classes.get(id(ref.node), (None, None))
    return cls if statement is ref.node else None


def _closures(function: Scope) -> list:
    """(node, parameter names) of the functions and lambdas nested in a function (or
    module) scope, gathered once: every guard of the function asks."""
    closures = function.memo.get("closures")
    if closures is None:
        closures = function.memo["closures"] = [
            (node, {argument.arg for argument in walk(node.args) if isinstance(argument, ast.arg)})
            for node in _function_nodes(function)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        ]
    return closures


def _local_lambda(func: ast.expr, scope: Scope) -> Optional[FunctionRef]:
    """``fix(visit)`` where the function bound ``fix = lambda v: ...`` once."""
    if not isinstance(func, ast.Name):
        return None
    owner, bindings = scope.lookup(func.id)
    if owner is None or len(bindings) != 1 or not isinstance(bindings[0].node, ast.Lambda):
        return None
    return FunctionRef(owner.module, bindings[0].node)


def _attributes_set_on_self(class_node: ast.ClassDef) -> frozenset:
    """The attributes the methods of a class assign on their ``self``."""
    return frozenset(
        target.attr for method in methods_with_self(class_node) for node in walk(method)
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
        and target.value.id == method.args.args[0].arg
    )


def _collections_of(function: Scope, text: Optional[str]) -> list:
    """The lists (name chains) the function's loops take the object ``text`` names
    from (``for visit in visits``), as expressions."""
    sources = function.memo.get("loop sources")
    if sources is None:
        sources = function.memo["loop sources"] = {}
        for node in _function_nodes(function):
            if (isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name)
                    and target_text(node.iter) is not None):
                sources.setdefault(node.target.id, set()).add(target_text(node.iter))
    return [_expression_of(name) for name in sorted(sources.get(text, ()))]


def _expression_of(text: str) -> ast.expr:
    """The Name or Attribute chain that ``target_text`` gives ``text`` for."""
    first, *rest = text.split(".")
    node: ast.expr = ast.Name(id=first, ctx=ast.Load())
    for attr in rest:
        node = ast.Attribute(value=node, attr=attr, ctx=ast.Load())
    return node


def _method_calls_by_owner(function: Scope) -> dict:
    """{owner text: [calls]} of the method calls ``owner.name(...)`` in a function (or
    module) scope, gathered once."""
    index = function.memo.get("method calls by owner")
    if index is None:
        index = function.memo["method calls by owner"] = {}
        for node in _function_nodes(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                text = target_text(node.func.value)
                if text is not None:
                    index.setdefault(text, []).append(node)
    return index


def _parameter_names(function: ast.AST, positions, keywords) -> set:
    """The names of ``function``'s parameters at ``positions`` or named ``keywords``,
    and of the loop variables over them (a list of rows arrives: ``for v in visits``)."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    names = {positional[index].arg for index in positions if index < len(positional)}
    names |= set(keywords) & {argument.arg for argument in [*arguments.args, *arguments.kwonlyargs]}
    for node in walk(function):
        if (isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name)
                and isinstance(node.iter, ast.Name) and node.iter.id in names):
            names.add(node.target.id)
    return names


def _writes_parameter_attribute(function: ast.AST, names: set, chain: str) -> bool:
    """Does ``function`` assign or delete ``chain`` of the parameters ``names`` (see
    ``_parameter_names``), or hand what holds it to setattr or make_transient? The
    chain is an attribute (``started_at``) or the path to one (``patient.born_on``)."""
    written = {f"{name}.{chain}" for name in names}
    owners = {text.rpartition(".")[0] for text in written}
    for node in walk(function):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            if any(
                isinstance(target, ast.Attribute) and target_text(target) in written
                for each in targets for target in walk(each)
            ):
                return True
        elif isinstance(node, ast.Call) and last_name(node.func) in MARKING_CALLS and node.args:
            if target_text(node.args[0]) in owners and _may_name(node, chain.rpartition(".")[2]):
                return True
    return False


def _may_name(call: ast.Call, attr: str) -> bool:
    """May an opaque call on an object touch its ``attr``? ``setattr(obj, "note", v)``
    and ``flag_modified(obj, "note")`` name another attribute; a computed name,
    ``make_transient`` and the like may touch any."""
    if last_name(call.func) not in NAMING_CALLS:
        return True
    name = call.args[1] if len(call.args) > 1 else None
    return not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or name.value == attr


def _share_loop(scope: Scope, first: int, second: int) -> bool:
    loops = scope.memo.get("loops")
    if loops is None:
        loops = [
            (node.lineno, node.end_lineno or node.lineno)
            for node in walk(scope.node)
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While))
        ]
        scope.memo["loops"] = loops
    return any(start <= first <= end and start <= second <= end for start, end in loops)
