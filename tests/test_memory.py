"""Long-lived model trees are frozen out of the collector's way, in fixed batches."""
import gc

import pytest

from flake8_dbconstraints import memory


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(memory, "_bytes", {"unfrozen": 0})
    monkeypatch.setattr(memory.gc, "collect", lambda: seen.append("collect"))
    monkeypatch.setattr(memory.gc, "freeze", lambda: seen.append("freeze"))
    return seen


def test_freezes_after_each_batch_of_model_source(calls):
    memory.note_long_lived(memory.FREEZE_EVERY_BYTES - 1)
    assert calls == []
    memory.note_long_lived(1)
    assert calls == ["collect", "freeze"]  # collected first: frozen garbage could never be freed
    memory.note_long_lived(memory.FREEZE_EVERY_BYTES - 1)
    assert calls == ["collect", "freeze"]  # the count starts again after a freeze
    memory.note_long_lived(1)
    assert calls == ["collect", "freeze"] * 2
    memory.note_long_lived(5 * memory.FREEZE_EVERY_BYTES)
    assert calls == ["collect", "freeze"] * 3  # one large module: one freeze


def test_nothing_is_frozen_when_the_collector_is_off(calls, monkeypatch):
    monkeypatch.setattr(memory.gc, "isenabled", lambda: False)
    memory.note_long_lived(10 * memory.FREEZE_EVERY_BYTES)
    assert calls == []


def test_frozen_objects_are_out_of_the_collectors_reach(monkeypatch):
    """What the batches rely on: after gc.freeze() a full collection no longer walks
    the objects alive at that moment."""
    monkeypatch.setattr(memory, "_bytes", {"unfrozen": 0})
    kept = [[index] for index in range(1000)]
    before = gc.get_freeze_count()
    try:
        memory.note_long_lived(memory.FREEZE_EVERY_BYTES)
        assert gc.get_freeze_count() >= before + len(kept)
        assert not any(item is kept[0] for item in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
