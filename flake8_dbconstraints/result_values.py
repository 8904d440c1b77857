"""What a project ``TypeDecorator``'s ``process_result_value`` returns for a stored row.

SEMANTICS.md section 2 calls such a type unknown because the method "may return
anything, None included". For a NOT NULL column the method is only ever given a
non-NULL value, so reading its body tells what a stored row holds when the body is
simple enough to follow: ``if value is None: return None`` branches are unreachable,
``value.replace(tzinfo=...)`` on a ``datetime`` is a ``datetime``, ``uuid.UUID(value)``
is a UUID and ``self.enum(value)`` is a member of the enum the column passed in.

Anything this module cannot follow (loops, ``try``, an unknown call, a path that falls
off the end and so returns ``None``) makes the whole result unknown: the rules then
stay silent, as SEMANTICS.md asks.
"""
from __future__ import annotations

import ast
import dataclasses
import datetime
import functools
import uuid
from typing import Callable, Dict, Iterable, Optional, Tuple

from flake8_dbconstraints.scopes import parameter_names, walk

ALWAYS_TRUTHY_PYTHON_TYPES = (datetime.date, datetime.time, uuid.UUID)  # datetime is a date
# Methods that return a new value of the receiver's own class (``date.replace`` is a
# ``date``; ``datetime.astimezone`` a ``datetime``), never None.
SAME_CLASS_METHODS = {
    "replace": (datetime.date, datetime.time),
    "astimezone": (datetime.datetime,),
}


@dataclasses.dataclass(frozen=True)
class Result:
    """What one expression evaluates to, as far as it is known."""

    never_none: bool = False
    always_truthy: bool = False
    python_type: Optional[type] = None

    def join(self, other: "Result") -> "Result":
        return Result(
            never_none=self.never_none and other.never_none,
            always_truthy=self.always_truthy and other.always_truthy,
            python_type=self.python_type if self.python_type is other.python_type else None,
        )


UNKNOWN = Result()
Env = Dict[str, Result]
# Evaluates a call the interpreter does not know itself (a class, ``self.enum``).
CallEvaluator = Callable[[ast.Call], Optional[Result]]
# Resolves a class named in ``isinstance(value, C)`` to a Python class.
ClassResolver = Callable[[ast.expr], Optional[type]]


class _Unfollowable(Exception):
    """The method does something this reader does not follow."""


def returned_value(
    function: ast.AST, incoming: Result, evaluate_call: CallEvaluator, resolve_class: ClassResolver
) -> Result:
    """What ``function`` (``def process_result_value(self, value, dialect)``) returns when
    given ``incoming``; ``UNKNOWN`` unless every path returns something known."""
    if not isinstance(function, ast.FunctionDef) or function.decorator_list:
        return UNKNOWN
    params = function.args.posonlyargs + function.args.args
    if len(params) < 2:
        return UNKNOWN
    reader = _Reader(evaluate_call, resolve_class, _local_names(function))
    try:
        returns, falls_through = reader.run(function.body, {params[1].arg: incoming})
    except _Unfollowable:
        return UNKNOWN
    if falls_through is not None or not returns:
        return UNKNOWN  # falling off the end returns None
    result = returns[0]
    for other in returns[1:]:
        result = result.join(other)
    return result


def _local_names(function: ast.FunctionDef) -> frozenset:
    names = parameter_names(function)
    for node in walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return frozenset(names)


class _Reader:
    def __init__(self, evaluate_call: CallEvaluator, resolve_class: ClassResolver, local_names) -> None:
        self.evaluate_call = evaluate_call
        self.resolve_class = resolve_class
        self.local_names = local_names

    # -- statements: each returns (values returned, the env after it or None) --------
    def run(self, body: Iterable[ast.stmt], env: Env) -> Tuple[list, Optional[Env]]:
        returns: list = []
        current: Optional[Env] = env
        for statement in body:
            if current is None:
                break  # after a return or raise: unreachable
            more, current = self.statement(statement, current)
            returns.extend(more)
        return returns, current

    def statement(self, node: ast.stmt, env: Env) -> Tuple[list, Optional[Env]]:
        if isinstance(node, (ast.Expr, ast.Pass)):
            return [], env
        if isinstance(node, ast.Return):
            value = self.evaluate(node.value, env) if node.value is not None else UNKNOWN
            return [value], None
        if isinstance(node, ast.Raise):
            return [], None
        if isinstance(node, ast.Assign):
            targets = node.targets
            value = self.evaluate(node.value, env) if len(targets) == 1 else UNKNOWN
            return [], _assign(env, targets, value)
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            return [], _assign(env, [node.target], self.evaluate(node.value, env))
        if isinstance(node, ast.If):
            return self.branch(node, env)
        raise _Unfollowable(type(node).__name__)

    def branch(self, node: ast.If, env: Env) -> Tuple[list, Optional[Env]]:
        when_true, when_false = self.narrow(node.test, env)
        returns: list = []
        ends = []
        for taken, body in ((when_true, node.body), (when_false, node.orelse)):
            if taken is None:
                continue  # this branch cannot run
            more, end = self.run(body, taken)
            returns.extend(more)
            if end is not None:
                ends.append(end)
        return returns, _join_envs(ends)

    # -- conditions: the env where the test is true, and where it is false ---------
    def narrow(self, test: ast.expr, env: Env) -> Tuple[Optional[Env], Optional[Env]]:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            when_true, when_false = self.narrow(test.operand, env)
            return when_false, when_true
        if isinstance(test, ast.BoolOp):
            return self._narrow_bool(test, env)
        if isinstance(test, ast.Name) and test.id in env and env[test.id].always_truthy:
            return env, None
        if (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Is, ast.IsNot))
            and isinstance(test.left, ast.Name)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        ):
            return self._narrow_none(test.left.id, isinstance(test.ops[0], ast.Is), env)
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id == "isinstance"
            and "isinstance" not in self.local_names
            and len(test.args) == 2
            and not test.keywords
            and isinstance(test.args[0], ast.Name)
        ):
            cls = self.resolve_class(test.args[1])
            if cls is not None:
                narrowed = dict(env)
                narrowed[test.args[0].id] = instance_of(cls)
                return narrowed, env
        return env, env

    def _narrow_none(self, name: str, tests_is_none: bool, env: Env):
        current = env.get(name, UNKNOWN)
        if current.never_none:
            none_env = None  # the test for None cannot be true
        else:
            none_env = dict(env)
            none_env[name] = UNKNOWN
        not_none_env = dict(env)
        not_none_env[name] = dataclasses.replace(current, never_none=True)
        return (none_env, not_none_env) if tests_is_none else (not_none_env, none_env)

    def _narrow_bool(self, test: ast.BoolOp, env: Env):
        # ``a and b`` is true where both are; false where a is, or a is true and b false.
        is_and = isinstance(test.op, ast.And)
        decided: list = []  # envs where the whole test is already decided by an operand
        pending: Optional[Env] = env
        for operand in test.values:
            if pending is None:
                break
            when_true, when_false = self.narrow(operand, pending)
            if is_and:
                decided.append(when_false)
                pending = when_true
            else:
                decided.append(when_true)
                pending = when_false
        other = _join_envs([e for e in decided if e is not None])
        return (pending, other) if is_and else (other, pending)

    # -- expressions ------------------------------------------------------------------
    def evaluate(self, node: ast.expr, env: Env) -> Result:
        if isinstance(node, ast.Name):
            return env.get(node.id, UNKNOWN)
        if isinstance(node, ast.Constant):
            if node.value is None:
                return UNKNOWN
            return Result(never_none=True, always_truthy=bool(node.value), python_type=type(node.value))
        if isinstance(node, ast.Call):
            return self._evaluate_call(node, env)
        if isinstance(node, ast.IfExp):
            # ``uuid.UUID(bytes=value) if self.binary else uuid.UUID(value)``: each
            # branch where its test can hold (a test never makes both impossible)
            when_true, when_false = self.narrow(node.test, env)
            results = [self.evaluate(value, taken)
                       for taken, value in ((when_true, node.body), (when_false, node.orelse)) if taken is not None]
            return functools.reduce(Result.join, results)
        return UNKNOWN

    def _evaluate_call(self, node: ast.Call, env: Env) -> Result:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in SAME_CLASS_METHODS:
            receiver = self.evaluate(func.value, env)
            kinds = SAME_CLASS_METHODS[func.attr]
            if receiver.python_type is not None and issubclass(receiver.python_type, kinds):
                return receiver
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.local_names and root.id != "self":
            return UNKNOWN  # a local value's method: not followed
        result = self.evaluate_call(node)
        return UNKNOWN if result is None else result


def instance_of(cls: type) -> Result:
    """An instance of ``cls`` (from a constructor call or ``isinstance``): never None."""
    return Result(never_none=True, always_truthy=issubclass(cls, ALWAYS_TRUTHY_PYTHON_TYPES), python_type=cls)


def _assign(env: Env, targets, value: Result) -> Env:
    updated = dict(env)
    for target in targets:
        if isinstance(target, ast.Name):
            updated[target.id] = value
        else:
            for node in walk(target):
                if isinstance(node, ast.Name):
                    updated[node.id] = UNKNOWN  # unpacking: not followed
    return updated


def _join_envs(envs: list) -> Optional[Env]:
    if not envs:
        return None
    joined = dict(envs[0])
    for env in envs[1:]:
        for name in set(joined) | set(env):
            joined[name] = joined.get(name, UNKNOWN).join(env.get(name, UNKNOWN))
    return joined
