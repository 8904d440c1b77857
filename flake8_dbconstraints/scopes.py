"""Name bindings of the checked file, per scope, on the stdlib tree flake8 hands us.

A scope (module, function, lambda, comprehension) records every way each name is
bound in it: parameters, assignments, loop targets, imports, definitions. Receiver
inference trusts a name only when every binding agrees, which makes the analysis
flow-insensitive but safe: ``visit = session.get(...)`` followed anywhere by
``visit = Visit()`` makes ``visit`` unknown.
"""
from __future__ import annotations

import ast
import collections
import dataclasses
import functools
from typing import Iterator, Optional, Union

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclasses.dataclass(frozen=True)
class Binding:
    kind: str  # "param", "assign", "annotated", "for", "import", "class", "function", "other"
    node: ast.AST  # the value, iterable, parameter, import alias or class
    annotation: Optional[ast.expr] = None
    statement: Optional[ast.AST] = None
    # Made in an ``except ImportError:`` handler: a fallback for when the import of
    # the ``try`` fails (``def mapped_column(...)`` for an older SQLAlchemy); or in
    # the body of ``if TYPE_CHECKING:`` that has an ``else``, which binds what runs.
    fallback: bool = False
    # "element": position ``index`` of a flat tuple target of ``size`` names
    # (``for visit, patient in rows``, ``visit, patient = row``).
    index: int = 0
    size: int = 0


class Scope:
    def __init__(self, node: ast.AST, parent: Optional["Scope"], class_node: Optional[ast.ClassDef] = None):
        self.node = node
        self.parent = parent
        # The loader.ModuleInfo this scope belongs to (set on the module scope).
        self.module = parent.module if parent is not None else None
        # The class whose body defines this function (for ``self``), if any.
        self.class_node = class_node
        self._bindings: Optional[dict[str, list[Binding]]] = None
        self.declared_free: set[str] = set()  # global / nonlocal names: unknown here
        # ("visit", "started_at") -> {line where it is assigned or deleted: the value a
        # plain ``=`` assigns it there, or None for any other write (``+=``, ``del``, a
        # tuple target, two on one line)}
        self.written_attributes: dict[tuple[str, str], dict[int, Optional[ast.expr]]] = {}
        self.opaque_names: set[str] = set()  # passed to setattr, make_transient, populate_obj...
        self.memo: dict = {}

    @property
    def bindings(self) -> dict[str, list[Binding]]:
        """Collected on first use: most scopes never hold a guard."""
        if self._bindings is None:
            self._bindings = {}
            _collect(self)
        return self._bindings

    def add(self, name: str, binding: Binding) -> None:
        assert self._bindings is not None
        self._bindings.setdefault(name, []).append(binding)

    def lookup(self, name: str) -> tuple[Optional["Scope"], list[Binding]]:
        """The innermost scope binding ``name`` (class bodies are skipped, as in Python)."""
        scope: Optional[Scope] = self
        first = True
        while scope is not None:
            bindings = scope.bindings
            if name in scope.declared_free:
                return None, []
            if name in bindings and (first or not isinstance(scope.node, ast.ClassDef)):
                return scope, bindings[name]
            first = False
            scope = scope.parent
        return None, []

    @property
    def function(self) -> Optional[FunctionNode]:
        if isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return self.node
        return None

    @property
    def function_scope(self) -> "Scope":
        """The scope of the function (or lambda, or module) this one is in:
        comprehensions and class bodies are not functions."""
        current = self
        while current.parent is not None and current.function is None:
            current = current.parent
        return current


NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def own_nodes(function: ast.AST) -> list:
    """Nodes of a function body, not entering nested functions, lambdas and classes."""
    found: list = []
    stack = list(function.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, NESTED_SCOPES):
            stack.extend(child_nodes(node))
    return found


def function_nodes(function: Scope) -> list:
    """The nodes of a function (or module) scope, not entering nested functions; all
    of a lambda's."""
    nodes = function.memo.get("own nodes")
    if nodes is None:
        body = getattr(function.node, "body", None)
        nodes = function.memo["own nodes"] = list(
            own_nodes(function.node) if isinstance(body, list) else walk(function.node)
        )
    return nodes


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` (breadth first, in the same order) without the context and
    operator nodes (``Load``, ``Add``, ``Is``...), which no rule looks at."""
    pending = collections.deque([node])
    while pending:
        current = pending.popleft()
        pending.extend(child_nodes(current))
        yield current


def child_nodes(node: ast.AST) -> list:
    """``ast.iter_child_nodes`` without context and operator nodes, as a list. Each
    node type's fields are looked up once, where ``ast.iter_child_nodes`` asks every
    field of every node: these walks run over most functions checked (measured with
    ``benchmarks/phases.py`` on the 100-package monorepo: checks 8% faster)."""
    children: list = []
    for field in child_fields(type(node)):
        value = getattr(node, field, None)
        if type(value) is list:
            children.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


# Fields that hold only contexts and operators, which no rule looks at.
LEAF_FIELDS = frozenset({"ctx", "op", "ops"})


@functools.lru_cache(maxsize=None)
def child_fields(node_type: type) -> tuple:
    """The fields of a node type that may hold nodes (not contexts and operators)."""
    return tuple(field for field in node_type._fields if field not in LEAF_FIELDS)


def is_first_method_parameter(binding: Binding, scope: Scope) -> bool:
    """Is ``binding`` the first parameter (``self``, ``cls``) of a method defined in a
    class body?"""
    function = scope.function
    return (
        scope.class_node is not None
        and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        and bool(function.args.args)
        and function.args.args[0] is binding.node
    )


def self_method_scope(func: ast.expr, scope: Scope) -> Optional[Scope]:
    """The scope of the method whose ``self`` (or ``cls``) ``func`` is an attribute of."""
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return None
    owner, bindings = scope.lookup(func.value.id)
    if owner is None or len(bindings) != 1 or not is_first_method_parameter(bindings[0], owner):
        return None
    if any(last_name(decorator) == "staticmethod" for decorator in owner.node.decorator_list):
        return None  # its first parameter is no self
    return owner


def last_name(node: ast.AST) -> Optional[str]:
    """``attr`` of ``a.b.attr``, ``name`` of a bare ``name``; None for anything else."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def target_text(node: ast.AST) -> Optional[str]:
    """``visit`` / ``self.patient`` for a receiver expression made of names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def methods_with_self(class_node: ast.ClassDef) -> list:
    """The functions of a class body that take a first parameter."""
    return [
        statement for statement in class_node.body
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.args.args
    ]


def own_init(class_node: ast.ClassDef) -> Optional[ast.FunctionDef]:
    """The ``__init__`` the class body defines: a later ``def __init__`` replaces an
    earlier one."""
    inits = [method for method in methods_with_self(class_node) if method.name == "__init__"]
    return inits[-1] if inits else None


def assigned_only_by_init(class_node: ast.ClassDef) -> tuple[Optional[ast.FunctionDef], dict[str, ast.Assign]]:
    """The class's ``__init__``, and for each ``self.attr`` that no other statement of
    the class assigns or deletes: the single-target ``=`` of ``__init__`` (at any depth
    of its body) that sets it. ``self`` is each method's first parameter."""
    init = own_init(class_node)
    if init is None:
        return None, {}
    methods = methods_with_self(class_node)
    writes: dict[str, int] = {}
    kept: dict[str, ast.Assign] = {}
    assignments: dict[int, ast.Assign] = {}  # id of each single target of __init__ -> its ``=``
    for method in methods:
        self_name = method.args.args[0].arg
        for node in walk(method):
            if method is init and isinstance(node, ast.Assign) and len(node.targets) == 1:
                assignments[id(node.targets[0])] = node  # walked before its target
            if not (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, (ast.Store, ast.Del))
                and isinstance(node.value, ast.Name)
                and node.value.id == self_name
            ):
                continue
            writes[node.attr] = writes.get(node.attr, 0) + 1
            if method is init and id(node) in assignments:
                kept[node.attr] = assignments[id(node)]
    return init, {attr: statement for attr, statement in kept.items() if writes[attr] == 1}


# Calls that may change any attribute of the object handed first: SQLAlchemy's
# ``set_attribute(row, "name", value)`` as ``setattr`` does; WTForms'
# ``form.populate_obj(row)`` sets the attribute of every field of the form, None for
# an empty date or number field (``field.populate_obj(row, "name")`` sets one).
OPAQUE_CALLS = frozenset({"setattr", "delattr", "set_attribute", "del_attribute", "make_transient",
                          "make_transient_to_detached", "expunge", "populate_obj"})
# Text that means expressions may bind names or make objects opaque (the names of
# ``opaque_arguments``' calls); without it the collector looks at statements only
# (measured: two thirds of its time on indico).
EXPRESSION_BINDING_TEXT = (":=", "instance=", "sqlmodel_update", *sorted(OPAQUE_CALLS))


def opaque_arguments(call: ast.Call) -> list:
    """What a call may change any attribute of: the first argument of ``OPAQUE_CALLS``
    (``setattr(row, key, value)`` changes ``row``, not ``value``; OpenTelemetry's
    ``span.set_attribute("key", value)`` no object), the ``instance=`` a
    marshmallow-sqlalchemy schema's ``load(data, instance=row)`` fills from its data,
    and the SQLModel row of ``row.sqlmodel_update(data)``."""
    name = last_name(call.func)
    if name in OPAQUE_CALLS:
        return call.args[:1]
    if name == "load":
        return [keyword.value for keyword in call.keywords if keyword.arg == "instance"]
    if name == "sqlmodel_update" and isinstance(call.func, ast.Attribute):
        return [call.func.value]
    return []


def may_bind_in_expressions(source: str) -> bool:
    return any(text in source for text in EXPRESSION_BINDING_TEXT)


class _BindingCollector:
    """Fills one scope; nested scopes are recorded as bindings and not entered."""

    def __init__(self, scope: Scope, scan_expressions: bool) -> None:
        self.scope = scope
        self.scan_expressions = scan_expressions
        self._fallback = False

    def collect(self, body: list) -> None:
        stack = [(statement, False) for statement in reversed(body)]
        while stack:
            statement, fallback = stack.pop()
            self._fallback = fallback
            self._statement(statement)
            for field in ("body", "orelse", "finalbody"):
                children = getattr(statement, field, None)
                if isinstance(children, list) and not isinstance(statement, SCOPE_NODES):
                    # ``if TYPE_CHECKING: ... else: ...``: the body is for type checkers,
                    # the else branch binds what runs.
                    in_fallback = fallback or (field == "body" and _type_checking_with_else(statement))
                    stack.extend((child, in_fallback) for child in reversed(children))
            for handler in getattr(statement, "handlers", ()):
                if handler.name:
                    self._add(handler.name, Binding("other", handler))
                in_fallback = fallback or _catches_import_error(handler)
                stack.extend((child, in_fallback) for child in reversed(handler.body))
            for case in getattr(statement, "cases", ()):
                self._bind_pattern(case.pattern)
                stack.extend((child, fallback) for child in reversed(case.body))

    def _add(self, name: str, binding: Binding) -> None:
        self.scope.add(name, dataclasses.replace(binding, fallback=True) if self._fallback else binding)

    def _statement(self, node: ast.stmt) -> None:
        add = self._add
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            add(node.name, Binding("function", node))
            self.scan(node.decorator_list)
            return
        if isinstance(node, ast.ClassDef):
            add(node.name, Binding("class", node))
            self.scan(node.decorator_list)
            return
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    add(target.id, Binding("assign", node.value, statement=node))
                elif not self._bind_elements(target, node.value, node):
                    self._bind_other(target, node)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name):
                add(node.target.id,
                    Binding("annotated", node.value or node.annotation, annotation=node.annotation, statement=node))
            else:
                self._bind_other(node.target, node)
        elif isinstance(node, (ast.AugAssign, ast.Delete)):
            for target in node.targets if isinstance(node, ast.Delete) else [node.target]:
                self._bind_other(target, node)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            if isinstance(node.target, ast.Name):
                add(node.target.id, Binding("for", node.iter, statement=node))
            elif not self._bind_elements(node.target, node.iter, node):
                self._bind_other(node.target, node)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bind_other(item.optional_vars, node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.asname or alias.name.split(".")[0], Binding("import", alias, statement=node))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    add(alias.asname or alias.name, Binding("import", alias, statement=node))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            self.scope.declared_free.update(node.names)
        if self.scan_expressions:
            self.scan([child for child in child_nodes(node) if isinstance(child, ast.expr)])

    def scan(self, expressions: list) -> None:
        """Walrus targets and opaque calls (setattr, make_transient) inside expressions."""
        if not self.scan_expressions:
            return
        stack = list(expressions)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                self._add(node.target.id, Binding("assign", node.value, statement=node))
            elif isinstance(node, ast.Call):
                self.scope.opaque_names.update(filter(None, map(target_text, opaque_arguments(node))))
            elif isinstance(node, ast.Lambda):
                continue
            elif isinstance(node, COMPREHENSIONS):
                # Only walrus targets inside a comprehension bind in the enclosing scope.
                for child in walk(node):
                    if isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                        self._add(child.target.id, Binding("other", child))
                continue
            stack.extend(child_nodes(node))

    def _bind_pattern(self, pattern: ast.AST) -> None:
        for child in walk(pattern):
            name = getattr(child, "name", None)
            if isinstance(name, str):
                self._add(name, Binding("other", child))

    def _bind_elements(self, target: ast.AST, source: ast.expr, statement: ast.AST) -> bool:
        """``a, b = source`` / ``for a, b in source``: each name bound to its position."""
        elements = target.elts if isinstance(target, (ast.Tuple, ast.List)) else ()
        if not elements or not all(isinstance(element, ast.Name) for element in elements):
            return False
        for index, element in enumerate(elements):
            self._add(element.id, Binding("element", source, statement=statement, index=index, size=len(elements)))
        return True

    def _bind_other(self, target: ast.AST, statement: ast.AST) -> None:
        """Names a target rebinds; attributes it writes (``visit.started_at = ...``)."""
        if isinstance(target, ast.Name):
            self._add(target.id, Binding("other", statement))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_other(element, statement)
        elif isinstance(target, ast.Starred):
            self._bind_other(target.value, statement)
        elif isinstance(target, ast.Attribute):
            text = target_text(target.value)
            if text:
                writes = self.scope.written_attributes.setdefault((text, target.attr), {})
                plain = isinstance(statement, ast.Assign) and any(t is target for t in statement.targets)
                line = statement.lineno
                writes[line] = statement.value if plain and line not in writes else None


SETTLING_KINDS = frozenset({"assign", "annotated", "class", "function", "import"})


def settled_module_bindings(scope: Scope, name: str, bindings: list[Binding]) -> list[Binding]:
    """The binding of a name bound more than once in a module's scope that importers
    and functions see.

    ``class Base: ...`` then ``Base = declarative_base(cls=Base)`` (SQLAlchemy's own
    recipe) binds ``Base`` twice; once the module has run, only the last binding
    counts. It is taken alone when every binding is a statement of the module's own
    body, nothing run before the last one reads the name or imports (a circular
    import would see an earlier binding), and no function rebinds it through
    ``global``. Otherwise every binding is returned, and they must agree."""
    body = scope.node.body
    positions = {id(statement): index for index, statement in enumerate(body)}
    indexes = [positions.get(id(binding.statement or binding.node), -1) for binding in bindings]
    if -1 in indexes:
        return bindings
    last = max(indexes)
    settling = bindings[indexes.index(last)]
    if settling.kind not in SETTLING_KINDS or name in _rebound_by_functions(scope):
        return bindings
    before = body[min(indexes):last]
    if any(isinstance(statement, (ast.Import, ast.ImportFrom)) for statement in before) or any(
        _read_when_run(statement, name) for statement in body[:last]
    ):
        return bindings
    return [settling]


def _read_when_run(statement: ast.stmt, name: str) -> bool:
    """Does running ``statement`` read ``name``? Function bodies run later."""
    stack: list = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack.extend([*node.decorator_list, node.args, *filter(None, [node.returns])])
        elif isinstance(node, ast.Lambda):
            stack.append(node.args)
        else:
            stack.extend(child_nodes(node))
    return False


def _rebound_by_functions(scope: Scope) -> frozenset:
    """Names declared ``global`` somewhere in the module and bound somewhere inside
    a function or class (conservatively: by any of them)."""
    key = ("rebound through global",)
    if key not in scope.memo:
        declared: set = set()
        bound: set = set()
        for node in walk(scope.node):
            if isinstance(node, ast.Global):
                declared.update(node.names)
            elif isinstance(node, SCOPE_NODES):
                bound.update(_names_bound_in(node))
        scope.memo[key] = frozenset(declared & bound)
    return scope.memo[key]


def _names_bound_in(definition: ast.AST) -> Iterator[str]:
    for node in walk(definition):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            yield node.id
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from ((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif node is not definition:
            # a nested def or class, ``except ... as name``, a match capture
            for field in ("name", "rest"):
                value = getattr(node, field, None)
                if isinstance(value, str):
                    yield value


def _type_checking_with_else(statement: ast.stmt) -> bool:
    if not (isinstance(statement, ast.If) and statement.orelse):
        return False
    test = statement.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _collect(scope: Scope) -> None:
    node = scope.node
    module = scope.module
    collector = _BindingCollector(scope, module is None or module.may_bind_in_expressions)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        for arg in parameters(node.args):
            scope.add(arg.arg, Binding("param", arg, annotation=arg.annotation))
        if isinstance(node, ast.Lambda):
            collector.scan([node.body])
        else:
            collector.collect(node.body)
    elif isinstance(node, COMPREHENSIONS):
        for generator in node.generators:
            if isinstance(generator.target, ast.Name):
                scope.add(generator.target.id, Binding("for", generator.iter, statement=generator))
            elif not collector._bind_elements(generator.target, generator.iter, generator):
                collector._bind_other(generator.target, generator)
    else:
        collector.collect(getattr(node, "body", []))


def parameter_names(function: ast.AST) -> set[str]:
    """The names of every parameter of a function or lambda."""
    return {argument.arg for argument in parameters(function.args)}


def parameters(arguments: ast.arguments) -> Iterator[ast.arg]:
    yield from getattr(arguments, "posonlyargs", [])
    yield from arguments.args
    if arguments.vararg:
        yield arguments.vararg
    yield from arguments.kwonlyargs
    if arguments.kwarg:
        yield arguments.kwarg


IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _catches_import_error(handler: ast.excepthandler) -> bool:
    """``except ImportError:`` or ``except (ImportError, ...)`` (not a bare ``except``)."""
    caught = handler.type
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(isinstance(name, ast.Name) and name.id in IMPORT_ERRORS for name in names)
