"""Keep what the plugin learned out of the garbage collector's way.

The trees of model modules live as long as the process, and every full collection
that flake8's own checks trigger walks them again: measured on the 100-package
benchmark monorepo, a flake8 process with the plugin spent 3.7 s in the collector
against 0.9 s when those objects were frozen. So after reading a batch of model
source, the collector is run once and everything alive is moved to the permanent
generation (``gc.freeze()``), where no collection looks again.

The price: a cycle that is alive at that moment and becomes garbage later is never
collected. The checked file's own tree is such a cycle once pyflakes has linked its
nodes to their parents, so each freeze keeps one checked file's tree for the rest of
the process; freezing only after ``FREEZE_EVERY_BYTES`` of model source bounds that
to a few trees (10 in a worker that reads 600 KB of models).
"""
from __future__ import annotations

import gc

FIRST_FREEZE_BYTES = 32_000

_bytes = {"frozen": 0, "unfrozen": 0}


def note_long_lived(source_bytes: int) -> None:
    """Call after keeping a parsed module of ``source_bytes`` for the process's life."""
    _bytes["unfrozen"] += source_bytes
    if _bytes["unfrozen"] >= max(FIRST_FREEZE_BYTES, _bytes["frozen"]) and gc.isenabled():
        _bytes["frozen"] += _bytes["unfrozen"]
        _bytes["unfrozen"] = 0
        gc.collect()  # garbage of earlier files first: frozen, it could never be freed
        gc.freeze()
