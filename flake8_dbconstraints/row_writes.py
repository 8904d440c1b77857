"""May a row's column have been written before it is read here?

A stored row's NOT NULL column still reads None, or anything else, once the code
has written it (SEMANTICS 3): ``visit.started_at = None`` earlier in the function or
in a loop around the read, through another name for the same object, by a helper or
a method of the row it is handed to, by a closure that captures it, or by a session
merge. DBC100 and DBC101 stay silent then; DBC200 also stays silent when the row is
handed to what marks the column changed (``flag_modified`` in a helper).

``RowWrites`` answers for one checked file, following project functions three calls
deep; ``ReceiverResolver`` (``receivers``) says which model a row is of and whether
it is stored.
"""
from __future__ import annotations

import ast
from typing import Any, Callable, Optional

from flake8_dbconstraints.names import ClassRef, External, FunctionRef, Instance, ModuleRef
from flake8_dbconstraints.registry import ModelInfo
from flake8_dbconstraints.scopes import (
    Scope, function_nodes, last_name, methods_with_self, opaque_arguments, parameter_names, self_method_scope,
    target_text, walk,
)

# How many calls deep a helper's (or a row's method's) writes to the row are looked for.
MAX_HELPER_DEPTH = 3
# The attribute's name comes second (``field.populate_obj(row, "title")``).
NAMING_CALLS = frozenset({"setattr", "delattr", "set_attribute", "del_attribute", "flag_modified", "populate_obj"})
# ``setattr(obj, name, value)`` with a computed name: it may write any attribute.
ANY_ATTRIBUTE = "*"


class RowWrites:
    """Write analysis for one checked file."""

    def __init__(self, resolver: Any) -> None:
        # resolver: the file's ReceiverResolver (what a related row or another owner is)
        self.resolver = resolver
        self.file_models = resolver.file_models
        self._methods_memo: dict = {}  # (class node, method name) -> the functions it may run
        self._callees_memo: dict = {}  # (function, positions, keywords, attr, class, depth) -> writes?

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
            owner = self.resolver.receiver_of(owner_expr, scope)
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
            if self.resolver.only_new_objects(owner, function):
                continue  # ``copy = Visit(); copy.started_at = ...``: never a stored row
            other = self.resolver.receiver_of(owner, function)
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
        """Does ``row.method_name(...)`` write ``attr`` of the row (``_callee_writes``)?
        A method of a base the plugin cannot read may (``from_an_unread_base``, which
        only a name no project class binds can be: asked when no method was found)."""
        key = (model.cls.node, method_name)
        if key not in self._methods_memo:
            registry = self.file_models.registry
            methods = registry.instance_methods(model.cls, method_name)
            self._methods_memo[key] = (methods, not methods and registry.from_an_unread_base(model.cls, method_name))
        methods, unread = self._methods_memo[key]
        return unread or any(self._callee_writes(method, (0,), frozenset(), attr, model, depth) for method in methods)

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
        ref = self.file_models.resolver.resolve_expr(expr, scope) or self.resolver.class_method(expr, scope)
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
        owner = self_method_scope(func, scope) if attrs else None
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
        owner = self_method_scope(func, scope)
        if owner is None:
            return []
        return self.file_models.registry.methods_along_mro(ClassRef(owner.module, owner.class_node), func.attr)

    def _called_only_at_run_time(self, func: ast.expr, scope: Scope) -> bool:
        """Is ``func`` a function the code is handed at run time: one looked up in a
        mapping or returned by a call, a parameter of an enclosing function
        (``callback(visit)``), an attribute of ``self`` that a method of its class or
        of a project base assigns (``self.cleaner = clear_later``), or a method of
        ``self`` that only a base the plugin cannot read may define
        (``self.populate(visit, data)`` in a view whose base is installed)?"""
        if isinstance(func, (ast.Subscript, ast.Call)):
            return True  # ``handlers[kind](visit)``, ``getattr(self, name)(visit)``
        if isinstance(func, ast.Name):
            _owner, bindings = scope.lookup(func.id)
            return any(binding.kind == "param" for binding in bindings)
        owner = self_method_scope(func, scope)
        if owner is None:
            return False
        registry = self.file_models.registry
        cls = ClassRef(owner.module, owner.class_node)
        return (any(func.attr in _attributes_set_on_self(ref.node) for ref in registry.linearize(cls))
                or registry.from_an_unread_base(cls, func.attr))

    def _callee_writes(self, ref: FunctionRef, positions: tuple, keywords: frozenset, attr: str,
                       model: ModelInfo, depth: int) -> bool:
        """Does the function ``ref`` write ``attr`` of the row arriving as the
        parameters at ``positions`` or named ``keywords``: itself, or through a project
        function or a method of the row's class it hands that parameter to in turn
        (``apply(visit)`` calling ``_fill(visit)``, ``self.reset()`` in a method),
        up to ``MAX_HELPER_DEPTH`` calls deep?"""
        key = (ref.node, positions, keywords, attr, model.cls.node, depth)
        if key not in self._callees_memo:  # a recursive helper asks one level deeper: a new key
            self._callees_memo[key] = self._names_written(ref, _names_handed_the_row(ref.node, positions, keywords),
                                                          attr, model, depth)
        return self._callees_memo[key]

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
        for node in function_nodes(function):
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
        for node in function_nodes(function):
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
            node.lineno for node in function_nodes(function)
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
        for node in function_nodes(function):
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
            (node, parameter_names(node))
            for node in function_nodes(function)
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
        for node in function_nodes(function):
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
        for node in function_nodes(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                text = target_text(node.func.value)
                if text is not None:
                    index.setdefault(text, []).append(node)
    return index


def _names_handed_the_row(function: ast.AST, positions, keywords) -> set:
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
    ``_names_handed_the_row``), or hand what holds it to a call of ``_changed_by``
    (setattr, make_transient, populate_obj...)? The chain is an attribute
    (``started_at``) or the path to one (``patient.born_on``)."""
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
        elif isinstance(node, ast.Call) and any(target_text(changed) in owners for changed in _changed_by(node)):
            if _may_name(node, chain.rpartition(".")[2]):
                return True
    return False


def _changed_by(call: ast.Call) -> list:
    """What a call may change attributes of (``opaque_arguments``: ``setattr(visit,
    ...)``, ``form.populate_obj(visit)``, ``schema.load(data, instance=visit)``), or
    mark one changed (``flag_modified(visit, ...)``: for DBC200 as good as a new value)."""
    if last_name(call.func) == "flag_modified":
        return call.args[:1]
    return opaque_arguments(call)


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
