"""Keep what the plugin learned out of the garbage collector's way.

The trees of model modules live as long as the process, and every full collection
that flake8's own checks trigger walks them again: measured on the 100-package
benchmark monorepo, a flake8 process with the plugin spent 3.7 s in the collector
against 0.9 s when those objects were frozen. So after reading a batch of model
source, the collector is run once and everything alive is moved to the permanent
generation (``gc.freeze()``), where no collection looks again.

Batches are small and of a fixed size: the collection before each freeze only
walks what is not frozen yet, so it is cheap while little is; batches that doubled
in size left up to half of the models unfrozen, and the full collections flake8
triggers meanwhile walked them (measured on that monorepo, per worker: 1.3-1.5 s
in full collections with doubling batches, 0.4-0.45 s with 16 KB batches).

The price: a cycle that is alive at that moment and becomes garbage later is never
collected. The checked file's own tree is such a cycle once pyflakes has linked its
nodes to their parents, so each freeze keeps one checked file's tree for the rest of
the process (about 40 in a worker that reads 650 KB of models: 5 MB of peak memory
on that monorepo).
"""
from __future__ import annotations

import gc

FREEZE_EVERY_BYTES = 16_000

_bytes = {"unfrozen": 0}


def note_long_lived(source_bytes: int) -> None:
    """Call after keeping a parsed module of ``source_bytes`` for the process's life."""
    _bytes["unfrozen"] += source_bytes
    if _bytes["unfrozen"] >= FREEZE_EVERY_BYTES and gc.isenabled():
        _bytes["unfrozen"] = 0
        gc.collect()  # garbage of earlier files first: frozen, it could never be freed
        gc.freeze()
