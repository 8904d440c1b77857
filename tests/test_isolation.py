"""What the plugin learns about one checked file's own classes never leaks into the next
file (regression: answers were memoized by id() of tree nodes, which Python reuses
once a checked tree is freed, so a plain class was reported as another file's model)."""
import ast

from flake8_dbconstraints.plugin import DBConstraintsChecker
from flake8_dbconstraints.project import clear_caches
from flake8_dbconstraints.settings import build_settings
from tests.project_builder import MODELS, write_project

CHILD = (
    "from app.models import Visit\n\n\nclass Child(Visit):\n    def m(self):\n        return self.started_at is None\n"
)
PLAIN = "from app.models import Visit\n\n\nclass Plain:\n    def m(self):\n        return self.started_at is None\n"


def check(name, source):
    checker = DBConstraintsChecker(ast.parse(source), name, source.splitlines(True))
    checker.settings = build_settings(no_cache=True)
    return [message.split(" ")[0] for _, _, message, _ in checker.run()]


def test_alternating_files_keep_their_own_answers(tmp_path, monkeypatch):
    write_project(tmp_path, {"app/__init__.py": "", "app/models.py": MODELS})
    monkeypatch.chdir(tmp_path)
    clear_caches()
    try:
        answers = [(check("app/a.py", CHILD), check("app/b.py", PLAIN)) for _ in range(200)]
    finally:
        clear_caches()
    assert set(map(tuple, (pair[0] for pair in answers))) == {("DBC101",)}
    assert all(pair[1] == [] for pair in answers)
