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


def packs(root):
    return sorted(glob.glob(os.path.join(root, ".dbc_cache", cache_module.PACKS, "*.json")))


def entries(root):
    """Every entry of every pack, by checked file (relative to the project)."""
    found = {}
    for pack in packs(root):
        for path, entry in json.loads(read(pack))["entries"].items():
            found.setdefault(os.path.relpath(path, root), []).append(entry)
    return found


def rewrite_pack(root, change):
    (pack,) = packs(root)
    data = json.loads(read(pack))
    change(data)
    with open(pack, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = default_project(tmp_path)
    monkeypatch.chdir(root)
    clear_caches()
    yield root
    clear_caches()


def test_second_run_is_served_from_the_cache(project, monkeypatch):
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    assert packs(project) == []  # written when the process ends, as clear_caches() does here
    clear_caches()
    assert list(entries(project)) == [os.path.join("app", "services.py")]
    # A warm run must not build the checker at all.
    monkeypatch.setattr("flake8_dbconstraints.checker.FileChecker.run", lambda self: pytest.fail("not cached"))
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_sqlalchemy_version_comes_from_the_installed_metadata():
    import sqlalchemy

    assert cache_module.installed_sqlalchemy_version() == sqlalchemy.__version__


def test_cache_folder_is_tagged_and_ignored_by_git(project):
    check(project)
    clear_caches()
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


def test_changed_schema_class_of_a_union_updates_findings(project):
    """``visit: Visit | VisitOut``: the other class's module is a dependency too."""
    write_project(project, {
        "app/schemas.py": "import datetime\n\n\nclass VisitOut:\n    started_at: datetime.datetime\n",
        "app/union.py": (
            "from app.models import Visit\nfrom app.schemas import VisitOut\n\n\n"
            "def missing(visit: Visit | VisitOut) -> bool:\n    return visit.started_at is None\n"
        ),
    })
    assert check(project, "app/union.py") == ["DBC101"]
    schemas = os.path.join(project, "app", "schemas.py")
    with open(schemas, "w") as handle:
        handle.write(read(schemas).replace("datetime.datetime", "datetime.datetime | None") + "\n")
    clear_caches()
    assert check(project, "app/union.py") == []


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
    clear_caches()
    assert len(packs(project)) == 2  # the new entry in a pack of its own; the old one stays
    assert [len(found) for found in entries(project).values()] == [2]
    assert check(project) == ["DBC100", "DBC101"]  # the newest entry wins


def test_packs_are_merged_once_enough_have_piled_up(project, monkeypatch):
    services = os.path.join(project, "app", "services.py")
    for run in range(cache_module.COMPACT_AT + 1):
        with open(services, "a") as handle:
            handle.write(f"# run {run}\n")  # a changed file: one more entry each run
        assert check(project) == ["DBC100", "DBC101", "DBC200"]
        clear_caches()
    # The run that read COMPACT_AT packs wrote them all into one and removed them.
    assert len(packs(project)) == 1
    assert [len(found) for found in entries(project).values()] == [1]


@pytest.fixture
def compacting(monkeypatch):
    """Every process that writes merges the packs it read (what COMPACT_AT packs do)."""
    monkeypatch.setattr(cache_module, "COMPACT_AT", 1)


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
        json.dumps({"format": cache_module.FORMAT, "salt": "x", "entries": {}}),
        json.dumps({"format": cache_module.FORMAT, "entries": []}),
    ],
)
def test_corrupt_or_foreign_packs_are_rebuilt(project, content):
    check(project)
    clear_caches()
    (pack,) = packs(project)
    with open(pack, "w") as handle:
        handle.write(content)
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    clear_caches()
    (rebuilt,) = packs(project)
    assert rebuilt != pack and not os.path.exists(pack)
    assert json.loads(read(rebuilt))["format"] == cache_module.FORMAT


@pytest.mark.parametrize(
    "change",
    [
        lambda entry: entry.update(findings=[["not", "a", "finding"]]),
        lambda entry: entry.pop("deps"),
        lambda entry: entry.update(deps=7),
    ],
)
def test_entry_with_wrong_shape_is_ignored(project, change):
    check(project)
    clear_caches()
    rewrite_pack(project, lambda data: [change(entry) for entry in data["entries"].values()])
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_entry_that_is_not_an_object_is_ignored(project):
    check(project)
    clear_caches()
    rewrite_pack(project, lambda data: data["entries"].update({path: "x" for path in data["entries"]}))
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_entry_claiming_a_changed_module_is_stale(project):
    check(project)
    clear_caches()

    def claim_old_stamps(data):
        for entry in data["entries"].values():
            entry["findings"] = []
            entry["deps"] = [[name, path, [0, 0] if path else None] for name, path, _ in entry["deps"]]

    rewrite_pack(project, claim_old_stamps)
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_newest_entry_wins_when_packs_disagree(project):
    check(project)
    clear_caches()
    (pack,) = packs(project)
    data = json.loads(read(pack))
    stale = json.loads(read(pack))
    for entry in stale["entries"].values():
        entry["at"] -= 60
        entry["findings"] = []
    folder, name = os.path.split(pack)
    salt = name.split("-")[0]
    for older in (f"{salt}-0-older.json", f"{salt}-~-older.json"):  # read before and after it
        with open(os.path.join(folder, older), "w", encoding="utf-8") as handle:
            json.dump(stale, handle)
    assert data["entries"] != stale["entries"]
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_pack_removed_between_listing_and_reading_is_skipped(project, monkeypatch):
    check(project)
    clear_caches()
    (pack,) = packs(project)
    monkeypatch.setattr(cache_module.glob, "glob", lambda pattern: [pack + ".gone.json", pack])
    assert check(project) == ["DBC100", "DBC101", "DBC200"]


def test_pack_merged_by_another_process_meanwhile_is_not_an_error(project, compacting):
    check(project)
    clear_caches()
    check(project, "app/models.py")  # reads the pack, computes one more entry
    (read_pack,) = packs(project)
    os.remove(read_pack)  # another process merged and removed it first
    clear_caches()
    assert sorted(entries(project)) == [os.path.join("app", "models.py"), os.path.join("app", "services.py")]


def test_entry_resting_on_a_module_gone_meanwhile_is_not_kept(project, tmp_path):
    settings = build_settings(cache_dir=".dbc_cache")
    cache = cache_module.ResultCache(".dbc_cache", settings)
    cache.store("app/services.py", "x = 1\n", [], [("app.gone", str(tmp_path / "gone.py"))])
    cache.flush()
    assert packs(project) == []


def test_missing_pack_folder_is_made_again_beside_the_existing_tags(project):
    check(project)
    clear_caches()
    import shutil

    shutil.rmtree(os.path.join(project, ".dbc_cache", cache_module.PACKS))
    check(project)
    clear_caches()
    assert len(packs(project)) == 1
    assert read(os.path.join(project, ".dbc_cache", "CACHEDIR.TAG")).startswith("Signature:")


def test_pack_of_another_process_written_meanwhile_is_left_alone(project, compacting):
    check(project)
    clear_caches()
    check(project, "app/models.py")  # this process reads the existing pack first
    (theirs,) = packs(project)
    later = theirs.replace(".json", "-later.json")
    with open(later, "w", encoding="utf-8") as handle:
        handle.write(read(theirs))
    clear_caches()
    assert os.path.exists(later) and not os.path.exists(theirs)
    assert sorted(entries(project)) == [os.path.join("app", "models.py"), os.path.join("app", "services.py")]


def test_entries_of_deleted_files_are_dropped(project, compacting):
    write_project(project, {"app/other.py": read(os.path.join(project, "app/services.py"))})
    check(project)
    check(project, "app/other.py")
    clear_caches()
    assert len(entries(project)) == 2
    os.remove(os.path.join(project, "app", "other.py"))
    check(project, "app/models.py")
    clear_caches()
    assert sorted(entries(project)) == [os.path.join("app", "models.py"), os.path.join("app", "services.py")]


def test_a_forked_process_does_not_write_what_its_parent_computed(project, monkeypatch):
    check(project)
    monkeypatch.setattr(cache_module.os, "getpid", lambda: -1)
    clear_caches()
    assert packs(project) == []


def test_warm_run_writes_nothing(project):
    check(project)
    clear_caches()
    before = {pack: os.stat(pack).st_mtime_ns for pack in packs(project)}
    check(project)
    clear_caches()
    assert {pack: os.stat(pack).st_mtime_ns for pack in packs(project)} == before


def test_no_cache_writes_nothing(project):
    assert check(project, no_cache=True) == ["DBC100", "DBC101", "DBC200"]
    assert not os.path.exists(os.path.join(project, ".dbc_cache"))


def test_unwritable_cache_costs_nothing_but_the_cache(project, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(cache_module.tempfile, "NamedTemporaryFile", refuse)
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    clear_caches()
    assert packs(project) == []


def test_interrupted_write_leaves_no_entry(project, monkeypatch):
    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module.os, "replace", interrupt)
    assert check(project) == ["DBC100", "DBC101", "DBC200"]
    with pytest.raises(KeyboardInterrupt):
        clear_caches()
    assert packs(project) == []
    assert glob.glob(os.path.join(project, ".dbc_cache", "*", "*.tmp")) == []


def test_parallel_processes_share_one_cache(project):
    write_project(project, {f"app/more{i}.py": read(os.path.join(project, "app/services.py")) for i in range(6)})
    first = run_flake8(project, "--select=DBC", "--jobs=2", "app")
    assert first.stdout.count(" DBC") == 21
    # Each worker that computed something wrote its pack when it ended.
    written = {pack: os.stat(pack).st_mtime_ns for pack in packs(project)}
    assert 1 <= len(written) <= 2
    assert sorted(entries(project)) == sorted(
        os.path.join("app", name) for name in os.listdir(os.path.join(project, "app")) if name.endswith(".py")
    )
    second = run_flake8(project, "--select=DBC", "--jobs=2", "app")
    assert second.stdout == first.stdout
    # Everything was served from the packs: nothing new was written.
    assert {pack: os.stat(pack).st_mtime_ns for pack in packs(project)} == written


def test_missing_sqlalchemy_metadata_still_gives_a_salt(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert cache_module.installed_sqlalchemy_version() == "none"


STAMPED_GUARD = "from app.stamped import Visit\n\n\ndef f(visit: Visit):\n    return 1 if visit.started_at else 0\n"


def test_changed_type_module_updates_every_file_reading_the_column(project):
    """A column's type is classified once per process, when a file first reads it; the
    modules looked up for it are dependencies of every file reading the column, also
    of the second, which found it classified already."""
    write_project(project, {
        "app/types.py": (
            "from sqlalchemy import DateTime, String, TypeDecorator\n\n\n"
            "class Stamp(TypeDecorator):\n    impl = DateTime\n    cache_ok = True\n"
        ),
        "app/stamped.py": (
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n"
            "from app.types import Stamp\n\n\n"
            "class Base(DeclarativeBase):\n    pass\n\n\n"
            "class Visit(Base):\n    __tablename__ = 'visit'\n"
            "    id: Mapped[int] = mapped_column(primary_key=True)\n"
            "    started_at = mapped_column(Stamp, nullable=False)\n"
        ),
        "app/first.py": STAMPED_GUARD,
        "app/second.py": STAMPED_GUARD,
    })
    assert check(project, "app/first.py") == ["DBC100"]
    assert check(project, "app/second.py") == ["DBC100"]
    clear_caches()
    types = os.path.join(project, "app", "types.py")
    with open(types, "w") as handle:
        handle.write(read(types).replace("impl = DateTime", "impl = String") + "\n")
    clear_caches()
    assert check(project, "app/second.py") == []
    assert check(project, "app/first.py") == []
