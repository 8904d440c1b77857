"""No input may raise out of the plugin, hang it, or run the project's code (#5).

The suite runs with DBC_STRICT=1, so a failure caught by the safety net still fails
these tests: only genuinely broken *input* (a model module that does not parse) is
expected to be skipped quietly.
"""
import ast
import os
import sys
import time

import pytest

from flake8_dbconstraints.plugin import DBConstraintsChecker
from flake8_dbconstraints.project import clear_caches
from flake8_dbconstraints.settings import build_settings
from tests.project_builder import MODELS, run_flake8, write_project

SERVICE = """\
from app.models import Visit


def check(visit: Visit):
    if visit.started_at is None:
        return 1
    visit.extra["k"] = 1
"""


def run_checker(root, relative="app/services.py", source=None):
    path = os.path.join(root, relative)
    if source is None:
        with open(path, "rb") as handle:
            source = handle.read().decode("utf-8", "replace")
    tree = ast.parse(source)
    checker = DBConstraintsChecker(tree, relative, source.splitlines(keepends=True))
    checker.settings = build_settings(no_cache=True)
    started = time.perf_counter()
    findings = [message.split(" ")[0] for _, _, message, _ in checker.run()]
    return findings, time.perf_counter() - started


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clear_caches()
    yield tmp_path
    clear_caches()


def write_bytes(root, relative, data: bytes):
    path = os.path.join(str(root), relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


# -- broken model modules: skipped, the rest of the file goes on -------------------
BROKEN_MODELS = {
    "syntax error": b"class Visit(:\n",
    "null bytes": b"import sqlalchemy\x00\n",
    "undecodable without a cookie": "x = '\u00e9'\n".encode("latin-1"),
    "truncated": MODELS.encode()[: len(MODELS) // 2],
    "PEP 695 generics on an older Python": b"class Box[T]:\n    pass\n",
    "PEP 758 except without parentheses": b"try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
}


@pytest.mark.parametrize("content", BROKEN_MODELS.values(), ids=BROKEN_MODELS.keys())
def test_unreadable_model_module_makes_its_guards_silent(project, content):
    write_project(project, {"app/__init__.py": "", "app/services.py": SERVICE})
    write_bytes(project, "app/models.py", content)
    findings, _ = run_checker(project)
    # Where a newer Python parses PEP 695 / 758, those modules hold no model either.
    assert findings == []


READABLE_MODELS = {
    "a BOM": b"\xef\xbb\xbf" + MODELS.encode(),
    "latin-1 with a coding cookie": b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + MODELS.encode(),
    "CRLF line ends": MODELS.replace("\n", "\r\n").encode(),
}


@pytest.mark.parametrize("content", READABLE_MODELS.values(), ids=READABLE_MODELS.keys())
def test_odd_but_valid_encodings_are_read(project, content):
    write_project(project, {"app/__init__.py": "", "app/services.py": SERVICE})
    write_bytes(project, "app/models.py", content)
    findings, _ = run_checker(project)
    assert findings == ["DBC101", "DBC200"]


def test_empty_files(project):
    write_project(project, {"app/__init__.py": "", "app/models.py": "", "app/services.py": SERVICE})
    assert run_checker(project)[0] == []
    assert run_checker(project, source="")[0] == []


def test_huge_file_is_bounded(project):
    guards = "".join(
        f"\n\ndef check{i}(visit: Visit):\n    if visit.started_at is None:\n        return {i}\n"
        for i in range(10_000)
    )
    write_project(project, {"app/__init__.py": "", "app/models.py": MODELS,
                            "app/services.py": "from app.models import Visit\n" + guards})
    findings, seconds = run_checker(project)
    assert len(findings) == 10_000
    assert seconds < 20


def test_huge_model_module_is_skipped(project, monkeypatch):
    from flake8_dbconstraints import loader

    monkeypatch.setattr(loader, "MAX_MODULE_BYTES", 100)
    write_project(project, {"app/__init__.py": "", "app/models.py": MODELS, "app/services.py": SERVICE})
    assert run_checker(project)[0] == []


def test_deeply_nested_expressions(project):
    depth = 180  # the stdlib parser's own limit is about 200 nested parentheses
    expression = "(" * depth + "visit.started_at" + ")" * depth
    chain = " or ".join(["visit.note"] * 2000)
    source = (
        "from app.models import Visit\n\n\ndef f(visit: Visit):\n"
        f"    if {expression} is None:\n        pass\n"
        f"    x = {chain} or visit.started_at\n"
        f"    return not ({chain})\n"
    )
    write_project(project, {"app/__init__.py": "", "app/models.py": MODELS, "app/services.py": source})
    findings, seconds = run_checker(project)
    assert findings == ["DBC101"]
    assert seconds < 10


def test_deeply_nested_statements(project):
    body = ""
    for level in range(90):  # CPython refuses more than 100 nested blocks
        body += "    " * (level + 1) + "if visit.note:\n"
    body += "    " * 91 + "assert visit.started_at is None or visit.started_at\n"
    body += "    " * 91 + "y = visit.started_at is None\n"
    source = "from app.models import Visit\n\n\ndef f(visit: Visit):\n" + body
    write_project(project, {"app/__init__.py": "", "app/models.py": MODELS, "app/services.py": source})
    assert run_checker(project)[0] == ["DBC101"]


HOSTILE_PROJECTS = {
    "import cycle between model modules": {
        "app/models.py": "from app.other import Base\n" + MODELS.split("class Base")[0] + "class Visit(Base):\n"
        "    __tablename__ = 'v'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    started_at: Mapped[datetime.datetime]\n",
        "app/other.py": "from app.models import Visit\nfrom sqlalchemy.orm import DeclarativeBase\n"
        "class Base(DeclarativeBase):\n    pass\n",
    },
    "inheritance cycle": {
        "app/models.py": "from app.other import B\nclass Visit(B):\n    pass\n",
        "app/other.py": "from app.models import Visit\nclass B(Visit):\n    pass\n",
    },
    "self-referencing base": {
        "app/models.py": "class Visit(Visit):\n    started_at = 1\n",
    },
    "partial that refers to itself": {
        "app/models.py": "import functools\nColumn = functools.partial(Column, nullable=False)\n"
        "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
        "class Visit(Base):\n    __tablename__ = 'v'\n    started_at = Column(None)\n",
    },
    "name assigned to itself": {
        "app/models.py": "Base = Base\nclass Visit(Base):\n    pass\n",
    },
    "mutual aliases": {
        "app/models.py": "A = B\nB = A\nclass Visit(A):\n    pass\n",
    },
    "models in a factory, with block, TYPE_CHECKING and loop": {
        "app/models.py": "from typing import TYPE_CHECKING\nfrom sqlalchemy.orm import declarative_base\n"
        "if TYPE_CHECKING:\n    from app.types import Thing\n"
        "def make():\n    Base = declarative_base()\n    class Visit(Base):\n        pass\n    return Visit\n"
        "with open('x') as handle:\n    class Visit:\n        pass\n"
        "for i in range(3):\n    class Visit:\n        pass\n",
    },
    "star imports and missing third-party packages": {
        "app/models.py": "from not_installed_anywhere import *\nfrom app.other import *\n",
        "app/other.py": "from app.models import *\nimport also_missing.deep.module as m\n"
        "class Visit(m.Base):\n    pass\n",
    },
    "names shadowed and deleted": {
        "app/models.py": "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n"
        "DeclarativeBase = object\ndel Base\nclass Visit(Base):\n    pass\n",
    },
    "a package module with relative imports beyond the top": {
        "app/models.py": "from .... import Visit\nfrom . import missing\n",
    },
}


@pytest.mark.parametrize("files", HOSTILE_PROJECTS.values(), ids=HOSTILE_PROJECTS.keys())
def test_hostile_projects_never_raise(project, files):
    write_project(project, {"app/__init__.py": "", "app/services.py": SERVICE, **files})
    findings, seconds = run_checker(project)
    assert seconds < 10
    expected = {"import cycle between model modules": ["DBC101"]}
    assert findings == expected.get(next(k for k, v in HOSTILE_PROJECTS.items() if v is files), [])


SIDE_EFFECTS = """\
import pathlib
print("MODEL MODULE RAN")
pathlib.Path("side_effect.txt").write_text("ran")
raise SystemExit("the model module was imported")
"""


def test_model_modules_are_never_imported(project):
    write_project(project, {
        "app/__init__.py": "print('PACKAGE RAN')\n",
        "app/models.py": SIDE_EFFECTS + MODELS,
        "app/services.py": SERVICE,
    })
    result = run_flake8(project, "--select=DBC", "app/services.py")
    assert "RAN" not in result.stdout + result.stderr
    assert not os.path.exists(os.path.join(str(project), "side_effect.txt"))
    assert [line.split(": ")[1].split(" ")[0] for line in result.stdout.splitlines()] == ["DBC101", "DBC200"]
    assert "app.models" not in sys.modules


def test_flake8_run_over_hostile_inputs_exits_cleanly(project):
    files = {"app/__init__.py": "", "app/services.py": SERVICE}
    for index, content in enumerate(HOSTILE_PROJECTS.values()):
        for name, text in content.items():
            files[f"case{index}/{name}"] = text
            files[f"case{index}/app/__init__.py"] = ""
    write_project(project, files)
    write_bytes(project, "broken_checked.py", b"def f(:\n")
    write_bytes(project, "bom_checked.py", b"\xef\xbb\xbf" + SERVICE.encode())
    write_bytes(project, "nul_checked.py", b"x = 1\x00\n")
    result = run_flake8(project, "--select=DBC,E999", "--jobs=2", ".")
    assert result.returncode in (0, 1)
    assert "Traceback" not in result.stderr
    assert "PluginExecutionFailed" not in result.stderr + result.stdout
