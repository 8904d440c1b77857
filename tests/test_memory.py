"""Long-lived model trees are frozen out of the collector's way, in doubling batches."""
import pytest

from flake8_dbconstraints import memory


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(memory, "_bytes", {"frozen": 0, "unfrozen": 0})
    monkeypatch.setattr(memory.gc, "collect", lambda: seen.append("collect"))
    monkeypatch.setattr(memory.gc, "freeze", lambda: seen.append("freeze"))
    return seen


def test_freezes_after_the_first_batch_then_when_the_unfrozen_part_doubles(calls):
    memory.note_long_lived(memory.FIRST_FREEZE_BYTES - 1)
    assert calls == []
    memory.note_long_lived(1)
    assert calls == ["collect", "freeze"]  # collected first: frozen garbage could never be freed
    memory.note_long_lived(memory.FIRST_FREEZE_BYTES - 1)
    assert calls == ["collect", "freeze"]
    memory.note_long_lived(1)
    assert calls == ["collect", "freeze"] * 2
    memory.note_long_lived(2 * memory.FIRST_FREEZE_BYTES - 1)
    assert len(calls) == 4  # 2 batches frozen: the next waits for as much again
    memory.note_long_lived(1)
    assert len(calls) == 6


def test_nothing_is_frozen_when_the_collector_is_off(calls, monkeypatch):
    monkeypatch.setattr(memory.gc, "isenabled", lambda: False)
    memory.note_long_lived(10 * memory.FIRST_FREEZE_BYTES)
    assert calls == []
