"""The on-disk cache: served only when nothing it rests on changed; never trusted when
corrupt or foreign; written atomically."""
import ast
import glob
import json
import os

import pytest

from flake8_dbconstraints import cache as cache_module
from flake8_dbconstraints.plugin import DBConstraintsChecker
from flake8_dbconstraints.project import clear_caches
from flake8_dbconstraints.settings import build_settings
from tests.project_builder import default_project, run_flake8, write_project


def check(root, relative="app/services.py", cache_dir=".dbc_cache", **settings):
    path = os.path.join(root, relative)
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    checker = DBConstraintsChecker(ast.parse(source), relative, source.splitlines(keepends=True))
    checker.settings = build_settings(cache_dir=cache_dir, **settings)
    return [message.split(" ")[0] for _, _, message, _ in checker.run()]


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def entries(root):
    return sorted(glob.glob(os.path.join(root, ".dbc_cache", "v1", "*", "*.json")))


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = default_project(tmp_path)
    monkeypatch.chdir(root)
    clear_caches()
    yield root
    clear_caches()


def test_second_run_is_served_from_the_cache(project, monkeypatch):
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    assert len(entries(project)) == 1
    clear_caches()
    # A warm run must not build the checker at all.
    monkeypatch.setattr("flake8_dbconstraints.checker.FileChecker.run", lambda self: pytest.fail("not cached"))
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_sqlalchemy_version_comes_from_the_installed_metadata():
    import sqlalchemy

    assert cache_module.installed_sqlalchemy_version() == sqlalchemy.__version__


def test_cache_folder_is_tagged_and_ignored_by_git(project):
    check(project)
    assert read(os.path.join(project, ".dbc_cache", "CACHEDIR.TAG")).startswith("Signature: 8a477f597d28d172")
    assert "*" in read(os.path.join(project, ".dbc_cache", ".gitignore"))


def test_changed_model_module_updates_findings(project):
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    models = os.path.join(project, "app", "models.py")
    text = read(models).replace("mapped_column(DateTime, nullable=False)", "mapped_column(DateTime, nullable=True)")
    with open(models, "w") as handle:
        handle.write(text + "\n")  # also changes the size, whatever the clock's resolution
    clear_caches()
    assert check(project) == ["DBC200"]


def test_added_model_module_is_noticed(project):
    write_project(project, {
        "app/orders.py": "from app.shop import Order\n\n\ndef f(order: Order):\n    return order.placed_at is None\n",
    })
    assert check(project, "app/orders.py") == []
    write_project(project, {
        "app/shop.py": "import datetime\nfrom sqlalchemy.orm import DeclarativeBase, Mapped\n"
        "class Base(DeclarativeBase):\n    pass\nclass Order(Base):\n    __tablename__ = 'o'\n"
        "    id: Mapped[int]\n    placed_at: Mapped[datetime.date]\n",
    })
    clear_caches()
    assert check(project, "app/orders.py") == ["DBC101"]


def test_removed_model_module_is_noticed(project):
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    os.remove(os.path.join(project, "app", "models.py"))
    clear_caches()
    assert check(project) == []


def test_changed_checked_file_is_rechecked(project):
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    services = os.path.join(project, "app", "services.py")
    text = read(services).replace('visit.extra["k"] = 1', "pass")
    with open(services, "w") as handle:
        handle.write(text)
    clear_caches()
    assert check(project) == ["DBC100", "DBC101"]
    assert len(entries(project)) == 1  # one entry per checked file, replaced in place


@pytest.mark.parametrize("change", ["version", "sqlalchemy", "settings"])
def test_new_plugin_or_sqlalchemy_version_or_settings_is_a_miss(project, monkeypatch, change):
    check(project)
    clear_caches()
    if change == "version":
        monkeypatch.setattr(cache_module, "__version__", "99.0")
    elif change == "sqlalchemy":
        monkeypatch.setattr(cache_module, "installed_sqlalchemy_version", lambda: "0.0.1")
    calls = []
    original = cache_module.ResultCache.store
    monkeypatch.setattr(cache_module.ResultCache, "store", lambda self, *a: calls.append(a) or original(self, *a))
    extra = {"json_types": ["x.Y"]} if change == "settings" else {}
    assert check(project, **extra) == ["DBC100", "DBC101", "DBC200"]
    assert len(calls) == 1  # recomputed and stored again


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        json.dumps({"format": "something-else"}),
        json.dumps({"format": cache_module.FORMAT, "salt": "x"}),
    ],
)
def test_corrupt_or_foreign_entries_are_rebuilt(project, content):
    check(project)
    (entry,) = entries(project)
    with open(entry, "w") as handle:
        handle.write(content)
    clear_caches()
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    assert json.loads(read(entry))["format"] == cache_module.FORMAT


def test_entry_with_wrong_shape_is_ignored(project):
    check(project)
    (entry,) = entries(project)
    data = json.loads(read(entry))
    data["findings"] = [["not", "a", "finding"]]
    with open(entry, "w") as handle:
        json.dump(data, handle)
    clear_caches()
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_entry_claiming_a_changed_module_is_stale(project):
    check(project)
    (entry,) = entries(project)
    data = json.loads(read(entry))
    data["findings"] = []
    data["deps"] = [[name, path, [0, 0] if path else None] for name, path, _ in data["deps"]]
    with open(entry, "w") as handle:
        json.dump(data, handle)
    clear_caches()
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_no_cache_writes_nothing(project):
    assert check(project, no_cache=True) == ["DBC100", "DBC101", "DBC200"]
    assert not os.path.exists(os.path.join(project, ".dbc_cache"))


def test_unwritable_cache_costs_nothing_but_the_cache(project, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(cache_module.tempfile, "NamedTemporaryFile", refuse)
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    assert entries(project) == []


def test_interrupted_write_leaves_no_entry(project, monkeypatch):
    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        check(project)
    assert entries(project) == []
    assert glob.glob(os.path.join(project, ".dbc_cache", "v1", "*", "*.tmp")) == []


def test_parallel_processes_share_one_cache(project):
    write_project(project, {f"app/more{i}.py": read(os.path.join(project, "app/services.py")) for i in range(6)})
    first = run_flake8(project, "--select=DBC", "--jobs=2", "app")
    second = run_flake8(project, "--select=DBC", "--jobs=2", "app")
    assert first.stdout == second.stdout
    assert first.stdout.count(" DBC") == 21
    for entry in entries(project):
        assert json.loads(read(entry))["format"] == cache_module.FORMAT


def test_missing_sqlalchemy_metadata_still_gives_a_salt(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert cache_module.installed_sqlalchemy_version() == "none"
