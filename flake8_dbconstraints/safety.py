"""The safety net: no input may raise out of the plugin, and no failure is silent.

Every unit of work that reads user code (one model module, one class, one guard)
runs inside :func:`guarded`. A failure there costs that one unit: it is logged on
the ``flake8.dbconstraints`` logger, which ``flake8 -v`` shows, and the rest of the
file goes on. The test suite sets ``DBC_STRICT=1`` so that the same failures raise
and bugs are not hidden by the net.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Iterator

LOG = logging.getLogger("flake8.dbconstraints")


def is_strict() -> bool:
    return os.environ.get("DBC_STRICT", "") == "1"


@contextlib.contextmanager
def guarded(what: str) -> Iterator[None]:
    """Run a block that reads user code; log and swallow what it raises."""
    try:
        yield
    except Exception as exc:  # RecursionError and MemoryError included
        swallow(what, exc)


def swallow(what: str, exc: BaseException) -> None:
    """What :func:`guarded` does with a failure, for hot loops that catch it themselves."""
    if isinstance(exc, (RecursionError, MemoryError)):
        # Deeply nested user code: give up on this unit, say so, never re-raise.
        LOG.info("flake8-dbconstraints: gave up on %s: %s", what, type(exc).__name__)
        return
    if is_strict():
        raise exc
    LOG.info("flake8-dbconstraints: could not read %s: %r", what, exc)
