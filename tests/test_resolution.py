"""Name resolution across a project: imports in every spelling, relative imports,
star imports, Flask-SQLAlchemy's ``db``, unreadable model modules, and the scopes of
the checked file (what binds a name, and when a binding makes it unknown).

Each case is a small project on disk, checked in-process the way flake8 runs the
plugin. Expected findings are marked in the checked source with ``# expect: DBC101``
(tests/fixture_runner.py); every unmarked line must stay silent.
"""
from __future__ import annotations

import ast
import importlib.machinery
import logging
import os
import sys
import textwrap

import pytest

from flake8_dbconstraints import loader as loader_module
from flake8_dbconstraints import names
from flake8_dbconstraints.loader import ModuleInfo, ProjectLoader, module_name_for_file
from flake8_dbconstraints.names import ClassRef, External, FunctionRef, ModuleRef, NameResolver, Value
from flake8_dbconstraints.plugin import DBConstraintsChecker
from flake8_dbconstraints.project import clear_caches
from flake8_dbconstraints.scopes import Scope
from flake8_dbconstraints.settings import build_settings
from tests.fixture_runner import read_expectations
from tests.project_builder import write_project

MODELS = '''\
import datetime
from typing import List, Optional

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Patient(Base):
    __tablename__ = "patient"
    id: Mapped[int] = mapped_column(primary_key=True)
    born_on: Mapped[datetime.date]
    visits: Mapped[List["Visit"]] = relationship(back_populates="patient")


class Visit(Base):
    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    started_at: Mapped[datetime.datetime]
    note: Mapped[Optional[str]] = mapped_column(String(200))
    extra: Mapped[dict] = mapped_column(JSON)
    patient: Mapped[Patient] = relationship(back_populates="visits")
'''

# app/models is a package re-exporting its modules with star imports; the
# checked file lives in app/services.
LAYOUT = {
    "app/__init__.py": "",
    "app/models/__init__.py": "from .visits import *\n",
    "app/models/visits.py": MODELS,
    "app/services/__init__.py": "",
}
CHECKED = "app/services/check.py"


class Project:
    """A project on disk, checked in-process like flake8 would (no result cache)."""

    def __init__(self, root: str) -> None:
        self.root = root
        # Every checked tree stays alive: the registry memoizes classes by id(node),
        # and a freed tree's ids are reused by the next one (see the report on
        # ModelRegistry._memoized); tests must not depend on that.
        self.trees: list = []

    def write(self, files: dict) -> None:
        write_project(self.root, files)

    def check(self, relative: str = CHECKED, filename: str | None = None, source: str | None = None,
              **settings) -> list[tuple[int, str]]:
        """(line, code) of every finding; ``filename`` is what flake8 would pass
        (``stdin`` for standard input); ``source`` is flake8's text of the file."""
        if source is None:
            with open(os.path.join(self.root, relative), encoding="utf-8") as handle:
                source = handle.read()
        self.trees.append(ast.parse(source))
        checker = DBConstraintsChecker(self.trees[-1], filename or relative, source.splitlines(keepends=True))
        checker.settings = build_settings(no_cache=True, **settings)
        return sorted((line, message.split(" ")[0]) for line, _, message, _ in checker.run())


def expected(source: str) -> list[tuple[int, str]]:
    """The ``# expect:`` markers of a checked source, as (line, code)."""
    return sorted((item.line, item.code) for item in read_expectations(textwrap.dedent(source)))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Each test has its own directory, so caches keyed by path cannot leak into it;
    they are cleared afterwards so that no other test sees this project."""
    monkeypatch.chdir(tmp_path)
    yield Project(str(tmp_path))
    clear_caches()


def guard_on(reference: str, marker: str = "  # expect: DBC101") -> str:
    return f"\n\n\ndef check(visit: {reference}):\n    return visit.started_at is None{marker}\n"


# -- import spellings -----------------------------------------------------------------
RESOLVED_IMPORTS = {
    "absolute from-import": ("from app.models.visits import Visit", "Visit"),
    "re-exported by a star import": ("from app.models import Visit", "Visit"),
    "relative, two levels up": ("from ..models.visits import Visit", "Visit"),
    "relative package, submodule imported by name": ("from ..models import visits", "visits.Visit"),
    "relative dots only": ("from .. import models", "models.Visit"),
    "import a.b as c": ("import app.models.visits as visits_module", "visits_module.Visit"),
    "import a.b, then a.b.Model": ("import app.models.visits", "app.models.visits.Visit"),
    "submodules reached as attributes": ("from app import models", "models.visits.Visit"),
    "alias of the class": ("from app.models.visits import Visit\nModel = Visit", "Model"),
    "same class imported twice": (
        "try:\n    from app.models.visits import Visit\nexcept ImportError:\n    from app.models import Visit",
        "Visit",
    ),
    "same module imported twice": (
        "try:\n    import app.models.visits as m\nexcept ImportError:\n    from app.models import visits as m",
        "m.Visit",
    ),
    "string annotation": ("from app.models import visits", '"visits.Visit"'),
}


@pytest.mark.parametrize("import_line, reference", RESOLVED_IMPORTS.values(), ids=RESOLVED_IMPORTS.keys())
def test_model_is_found_through_every_import_spelling(project, import_line, reference):
    source = import_line + guard_on(reference)
    project.write({**LAYOUT, CHECKED: source})
    assert project.check() == expected(source) == [(len(import_line.splitlines()) + 4, "DBC101")]


UNRESOLVED_IMPORTS = {
    "too many dots": ("from ....models.visits import Visit", "Visit"),
    "dots beyond the top-level package": ("from ... import models", "models.Visit"),
    "missing relative module": ("from ..models.missing import Visit", "Visit"),
    "missing absolute module": ("from app.missing import Visit", "Visit"),
    "name the module does not define": ("from app.models import Nothing", "Nothing"),
    "third-party module": ("from sqlalchemy.orm import Visit", "Visit"),
    "star import in the checked file": ("from app.models.visits import *", "Visit"),
    "name bound to two different classes": (
        "from app.models.visits import Patient, Visit\nif Patient:\n    Visit = Patient",
        "Visit",
    ),
    "self-referencing assignment": ("Model = Model", "Model"),
    "assignment cycle": ("First = Second\nSecond = First", "First"),
}


@pytest.mark.parametrize("import_line, reference", UNRESOLVED_IMPORTS.values(), ids=UNRESOLVED_IMPORTS.keys())
def test_unresolved_names_stay_silent(project, import_line, reference):
    source = import_line + guard_on(reference, marker="")
    project.write({**LAYOUT, CHECKED: source})
    assert project.check() == []


def test_relative_import_in_a_package_init_starts_from_the_package(project):
    source = "from ..models.visits import Visit" + guard_on("Visit")
    project.write({**LAYOUT, "app/services/__init__.py": source})
    assert project.check("app/services/__init__.py") == expected(source) != []


def test_single_dot_in_a_package_init_names_the_package_itself(project):
    source = "from .visits import Visit" + guard_on("Visit")
    project.write({**LAYOUT, "app/models/__init__.py": source})
    assert project.check("app/models/__init__.py") == expected(source) != []


def test_name_declared_global_in_the_function_is_unknown(project):
    source = """\
        from app.models.visits import Visit

        visit: Visit = None


        def check():
            global visit
            return visit.started_at is None


        def module_level_row():
            return visit.started_at is None  # expect: DBC101
        """
    project.write({**LAYOUT, CHECKED: textwrap.dedent(source)})
    assert project.check() == expected(source) != []


@pytest.mark.parametrize(
    "source, name, ref",
    [
        ("", "dict", External("builtins.dict")),
        ("def f():\n    pass", "list", External("builtins.list")),
        ("def f():\n    global list", "list", None),
        ("def f():\n    list = make()", "list", Value),
        ("", "no_such_name", None),
    ],
)
def test_builtin_names_resolve_unless_bound_or_declared_global(source, name, ref):
    module = ModuleInfo("check", "check.py", ast.parse(source))
    scope = module.scope
    if module.tree.body:
        scope = Scope(module.tree.body[0], module.scope)
    resolved = NameResolver(ProjectLoader([])).resolve_name(name, scope)
    if isinstance(ref, type):
        assert isinstance(resolved, ref)
    else:
        assert resolved == ref


# -- a module-level name bound more than once ------------------------------------------------
# SQLAlchemy's "augmenting the base" recipe binds ``Base`` twice: a plain class, then
# the declarative base made from it. Importers see the last binding; it is taken alone
# only when nothing could have seen an earlier one.
AUGMENTED_BASE = """\
import datetime

from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.orm import declarative_base


class Base:
    def __repr__(self):
        return type(self).__name__


{between}Base = declarative_base(cls=Base)
{after}

class Visit(Base):
    __tablename__ = "visit"
    id = Column(Integer, primary_key=True)
    started_at = Column(DateTime, nullable=False)
"""
REBINDINGS = {
    "the recipe": ("", "", True),
    "a function reads the name later": ("def describe():\n    return Base\n\n\n", "", True),
    "a lambda reads the name later": ("describe = lambda: Base\n", "", True),
    "a lambda's default reads it now": ("describe = lambda base=Base: base\n", "", False),
    "a function declares it global and only sets an attribute": (
        "", "\ndef init(session):\n    global Base\n    Base.query = session.query_property()\n", True),
    "a class between reads the earlier binding": ("class Mixin(Base):\n    pass\n\n\n", "", False),
    "a decorator between reads it": ("@Base\ndef helper():\n    pass\n\n\n", "", False),
    "an import between could see the earlier binding": ("import app.other\n\n", "", False),
    "a function rebinds it through global": ("", "\ndef reset():\n    global Base\n    Base = object\n", False),
    "a later conditional rebinding": ("", "if datetime.MINYEAR:\n    Base = object\n", False),
    "rebound last by a loop": ("", "for Base in [Base]:\n    pass\n", False),
}


@pytest.mark.parametrize("between, after, reported", REBINDINGS.values(), ids=REBINDINGS.keys())
def test_a_module_name_bound_twice_is_its_last_binding_only_when_nothing_saw_the_first(
    project, between, after, reported
):
    models = AUGMENTED_BASE.format(between=between, after=after)
    source = "from app.models.visits import Visit" + guard_on("Visit", "  # expect: DBC101" if reported else "")
    project.write({**LAYOUT, "app/models/visits.py": models, "app/other.py": "", CHECKED: source})
    assert project.check() == expected(source)
    assert (project.check() != []) is reported


GLOBAL_REBINDINGS = {
    "assigned": ("def f():\n    global Base\n    Base = object", {"Base"}),
    "imported": ("def f():\n    global Base\n    from app.other import Base", {"Base"}),
    "imported as a package": ("def f():\n    global Base\n    import Base.sub", {"Base"}),
    "a nested class": ("def f():\n    global Base\n    class Base:\n        pass", {"Base"}),
    "an exception name": ("def f():\n    global Base\n    try:\n        pass\n    except E as Base:\n        pass",
                          {"Base"}),
    "in a class body": ("class Holder:\n    global Base\n    Base = object", {"Base"}),
    "only an attribute set": ("def f(session):\n    global Base\n    Base.query = session", set()),
    "bound without global": ("def f():\n    Base = object", set()),
}
if sys.version_info >= (3, 10):
    GLOBAL_REBINDINGS["a match capture"] = (
        "def f(x):\n    global Base\n    match x:\n        case {**Base}:\n            pass", {"Base"})


@pytest.mark.parametrize("source, rebound", GLOBAL_REBINDINGS.values(), ids=GLOBAL_REBINDINGS.keys())
def test_names_a_function_may_rebind_through_global(source, rebound):
    from flake8_dbconstraints.scopes import _rebound_by_functions

    scope = Scope(ast.parse(source), None)
    assert _rebound_by_functions(scope) == rebound
    assert _rebound_by_functions(scope) is _rebound_by_functions(scope)  # computed once per module


# -- star imports in model packages -----------------------------------------------------
def test_star_imports_are_searched_in_order_past_unrelated_statements(project):
    package_init = """\
        import os
        from sqlalchemy.types import *
        from .patients import *
        from .visits import *
        """
    source = """\
        from app.models import Patient, Visit


        def check(visit: Visit, patient: Patient):
            if visit.started_at is None:  # expect: DBC101
                pass
            return patient.born_on or None  # expect: DBC100
        """
    project.write({
        **LAYOUT,
        "app/models/__init__.py": textwrap.dedent(package_init),
        "app/models/patients.py": "from .visits import Patient\n",
        CHECKED: textwrap.dedent(source),
    })
    assert project.check() == expected(source)


def test_star_import_of_a_missing_project_module_is_skipped(project):
    project.write({
        **LAYOUT,
        "app/models/__init__.py": "from .gone import *\nfrom .visits import *\n",
        CHECKED: "from app.models import Visit" + guard_on("Visit"),
    })
    assert project.check() == [(5, "DBC101")]


# -- where the checked file lives -------------------------------------------------------
@pytest.mark.parametrize("filename", ["stdin", "-"])
def test_stdin_resolves_absolute_imports_from_the_current_directory(project, filename):
    source = """\
        from app.models.visits import Visit
        from ..models.visits import Visit as Relative


        def check(visit: Visit, other: Relative):
            if other.started_at is None:  # relative to an unknown module: silent
                pass
            return visit.started_at is None  # expect: DBC101
        """
    project.write({**LAYOUT, CHECKED: textwrap.dedent(source)})
    assert project.check(filename=filename) == expected(source)


@pytest.mark.parametrize("relative", ["app/services/my-check.py", "app/services/check.pyi", "app/services/check"])
def test_file_without_a_module_name_resolves_only_absolute_imports(project, relative):
    source = """\
        from app.models.visits import Visit
        from ..models.visits import Visit as Relative


        def check(visit: Visit, other: Relative):
            if other.started_at is None:  # the module name is unknown: silent
                pass
            return visit.started_at is None  # expect: DBC101
        """
    outside = os.path.join(project.root, "..", "outside-models")
    os.makedirs(outside, exist_ok=True)
    project.write({**LAYOUT, relative: textwrap.dedent(source)})
    assert project.check(relative, model_paths=[outside]) == expected(source)


@pytest.mark.parametrize(
    "relative, roots, name",
    [
        ("app/services/check.py", ("{root}",), "app.services.check"),
        ("app/models/__init__.py", ("{root}",), "app.models"),
        ("app/services/check.py", ("{root}/elsewhere", "{root}"), "app.services.check"),
        ("app/services/my-check.py", ("{root}",), None),
        ("app/services/notes.txt", ("{root}",), None),
        ("setup-tools/check.py", ("{root}",), None),
    ],
)
def test_module_name_for_file(tmp_path, relative, roots, name):
    root = str(tmp_path)
    assert module_name_for_file(os.path.join(root, relative), tuple(r.format(root=root) for r in roots)) == name


@pytest.mark.parametrize(
    "module_name, is_package, modname, level, absolute",
    [
        ("app.services.check", False, "models", 0, "models"),
        ("app.services.check", False, None, 0, None),
        ("app.services.check", False, "util", 1, "app.services.util"),
        ("app.services.check", False, None, 1, "app.services"),
        ("app.services.check", False, "models", 2, "app.models"),
        ("app.services.check", False, None, 2, "app"),
        ("app.services.check", False, None, 3, None),
        ("app.services.check", False, "x", 4, None),
        ("app.services", True, "util", 1, "app.services.util"),
        ("app.services", True, "models", 2, "app.models"),
        ("app", True, None, 1, "app"),
        ("", False, "models", 1, None),
    ],
)
def test_absolute_name_of_relative_imports(module_name, is_package, modname, level, absolute):
    module = ModuleInfo(module_name, "x.py", ast.Module(body=[], type_ignores=[]), is_package)
    assert module.absolute_name(modname, level) == absolute


# -- unreadable model modules -------------------------------------------------------------
BROKEN_MODULES = {
    "syntax error": (b"class Visit(:\n", "SyntaxError"),
    "null bytes": (MODELS.encode() + b"\x00\n", "null bytes"),
    "not UTF-8 and no coding cookie": (b'LABEL = "caf\xe9"\n' + MODELS.encode(), "SyntaxError"),
}


@pytest.mark.parametrize("content, error", BROKEN_MODULES.values(), ids=BROKEN_MODULES.keys())
def test_unreadable_model_module_is_logged_and_silent(project, caplog, content, error):
    project.write({**LAYOUT, CHECKED: "from app.models.broken import Visit" + guard_on("Visit", marker="")})
    with open(os.path.join(project.root, "app", "models", "broken.py"), "wb") as handle:
        handle.write(content)
    with caplog.at_level(logging.INFO, logger="flake8.dbconstraints"):
        assert project.check() == []
    (record,) = [r for r in caplog.records if "could not read model module" in r.getMessage()]
    assert "broken.py" in record.getMessage() and error in record.getMessage()


def test_model_module_with_a_coding_cookie_is_decoded(project):
    content = b'# -*- coding: latin-1 -*-\nLABEL = "caf\xe9"\n' + MODELS.encode()
    project.write({**LAYOUT, CHECKED: "from app.models.latin import Visit" + guard_on("Visit")})
    with open(os.path.join(project.root, "app", "models", "latin.py"), "wb") as handle:
        handle.write(content)
    assert project.check() == [(5, "DBC101")]


def test_model_module_larger_than_the_limit_is_skipped(project, monkeypatch, caplog):
    project.write({**LAYOUT, CHECKED: "from app.models.visits import Visit" + guard_on("Visit")})
    assert project.check() == [(5, "DBC101")]
    clear_caches()
    monkeypatch.setattr(loader_module, "MAX_MODULE_BYTES", 100)
    with caplog.at_level(logging.INFO, logger="flake8.dbconstraints"):
        assert project.check() == []
    assert any("larger than 100 bytes" in record.getMessage() for record in caplog.records)


def test_a_submodule_found_outside_the_roots_is_not_the_projects(tmp_path):
    """A project module named like a standard one (``os.py``) is the project's; what
    the finder then gives for ``os.path`` lies outside the roots and is not."""
    write_project(tmp_path, {"os.py": "X = 1\n"})
    loader = ProjectLoader([str(tmp_path)])
    assert loader.find_file("os") == str(tmp_path / "os.py")
    assert loader.find_file("os.path") is None


def test_subpackages_of_a_pkgutil_namespace_package_are_found_whatever_sys_path_holds(project, monkeypatch):
    """``__path__ = pkgutil.extend_path(__path__, __name__)`` makes astroid look the
    subpackages up along sys.path; the project's roots are that path, so ``flake8``
    and ``python -m flake8`` (which adds the current directory) agree."""
    monkeypatch.setattr(sys, "path", [path for path in sys.path if path not in ("", os.getcwd())])
    extend_path = '__path__ = __import__("pkgutil").extend_path(__path__, __name__)\n'
    project.write({**LAYOUT, "app/__init__.py": extend_path,
                   CHECKED: "from app.models.visits import Visit" + guard_on("Visit")})
    before = list(sys.path)
    assert project.check() == [(5, "DBC101")]
    assert sys.path == before


def test_model_module_removed_after_it_was_located_is_silent(project):
    project.write({**LAYOUT, CHECKED: "from app.models.visits import Visit" + guard_on("Visit")})
    assert project.check() == [(5, "DBC101")]
    os.remove(os.path.join(project.root, "app", "models", "visits.py"))
    # The location is still known in this process; reading the file now fails.
    assert project.check() == []


def test_compiled_extension_modules_are_never_read(project):
    project.write({**LAYOUT, CHECKED: "from app.speedups import Visit" + guard_on("Visit", marker="")})
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    with open(os.path.join(project.root, "app", "speedups" + suffix), "wb") as handle:
        handle.write(b"\x7fELF")
    loader = ProjectLoader([project.root])
    assert loader.find_file("app.speedups") is None
    assert project.check() == []


def test_standard_library_modules_are_not_the_projects(project):
    """``os`` is found by the import system but lives outside the project's roots."""
    loader = ProjectLoader([project.root])
    with loader.recording() as consulted:
        assert loader.find_file("os") is None
        assert loader.find_file("app") is None
    assert consulted == {("os", None), ("app", None)}
    module = ModuleInfo("check", "check.py", ast.parse("import os\nimport os.path as p\n"))
    resolver = NameResolver(loader)
    assert resolver.resolve_name("os", module.scope) == External("os")
    assert resolver.resolve_name("p", module.scope) == External("os.path")
    assert resolver.resolve_expr(ast.parse("os.path.join", mode="eval").body, module.scope) == External("os.path.join")


# -- following names across modules: identity and bounds ---------------------------------
def test_refs_to_the_same_module_or_class_compare_equal(project):
    project.write(LAYOUT)
    resolver = NameResolver(ProjectLoader([project.root]))
    module = ModuleInfo(
        "check",
        "check.py",
        ast.parse("import app.models.visits as a\nfrom app.models import visits as b\nfrom app.models import Visit\n"
                  "db = object()\nother = object()\ndef helper():\n    pass\n"),
    )
    first, second = resolver.resolve_name("a", module.scope), resolver.resolve_name("b", module.scope)
    assert isinstance(first, ModuleRef) and first == second and len({first, second}) == 1
    visit = resolver.resolve_name("Visit", module.scope)
    assert isinstance(visit, ClassRef) and visit.qname == "app.models.visits.Visit"
    assert resolver.resolve_in_module(first.module, "Visit") == visit
    again = ClassRef(visit.module, visit.node)  # another ref to the same class
    assert visit == again and hash(visit) == hash(again) and visit is not again
    db, other = resolver.resolve_name("db", module.scope), resolver.resolve_name("other", module.scope)
    assert isinstance(db, Value) and db != other and db == resolver.resolve_name("db", module.scope)
    assert len({db, other, resolver.resolve_name("db", module.scope)}) == 2
    assert first != visit and visit != first and db != first
    helper = resolver.resolve_name("helper", module.scope)
    assert isinstance(helper, FunctionRef) and helper == resolver.resolve_name("helper", module.scope)
    assert len({helper, resolver.resolve_name("helper", module.scope)}) == 1 and helper != visit


@pytest.mark.parametrize("links, reported", [(1, True), (3, True), (12, False)])
def test_alias_chains_are_followed_up_to_a_bound(project, links, reported):
    lines = ["from app.models.visits import Visit", "Alias0 = Visit"]
    lines += [f"Alias{i} = Alias{i - 1}" for i in range(1, links)]
    source = "\n".join(lines) + guard_on(f"Alias{links - 1}")
    project.write({**LAYOUT, CHECKED: source})
    assert project.check() == (expected(source) if reported else [])


@pytest.mark.parametrize("links, reported", [(1, True), (2, True), (9, False)])
def test_re_export_chains_across_modules_are_followed_up_to_a_bound(project, links, reported):
    files = {**LAYOUT, "app/hop0.py": "from app.models.visits import Visit\n"}
    files.update({f"app/hop{i}.py": f"from app.hop{i - 1} import Visit\n" for i in range(1, links)})
    source = f"from app.hop{links - 1} import Visit" + guard_on("Visit")
    project.write({**files, CHECKED: source})
    assert project.check() == (expected(source) if reported else [])


def test_import_cycle_between_modules_ends_silently(project):
    project.write({
        **LAYOUT,
        "app/left.py": "from app.right import Visit\n",
        "app/right.py": "from app.left import Visit\n",
        CHECKED: "from app.left import Visit" + guard_on("Visit", marker=""),
    })
    assert project.check() == []


@pytest.mark.parametrize(
    "links, reported",
    [(1, True), (3, True), (9, False)],
)
def test_alias_chains_reached_through_a_module_attribute_are_bounded(project, links, reported):
    aliases = "from app.models.visits import Visit\nAlias0 = Visit\n"
    aliases += "".join(f"Alias{i} = Alias{i - 1}\n" for i in range(1, links))
    source = "from app import aliases" + guard_on(f"aliases.Alias{links - 1}")
    project.write({**LAYOUT, "app/aliases.py": aliases, CHECKED: source})
    assert project.check() == (expected(source) if reported else [])


@pytest.mark.parametrize("links, reported", [(1, True), (2, True), (9, False)])
def test_module_re_export_chains_reached_as_attributes_are_bounded(project, links, reported):
    files = {**LAYOUT, "app/hop0.py": "from app.models.visits import Visit\n"}
    files.update({f"app/hop{i}.py": f"from app.hop{i - 1} import Visit\n" for i in range(1, links)})
    source = f"import app.hop{links - 1} as last" + guard_on("last.Visit")
    project.write({**files, CHECKED: source})
    assert project.check() == (expected(source) if reported else [])


# -- Flask-SQLAlchemy and SQLModel ----------------------------------------------------------
FLASK_MODELS = """\
from app.ext import db


class Visit(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    started_at = db.Column(db.DateTime, nullable=False)
    opened = db.Column(db.NotAType, nullable=False)
    extra = db.Column(db.JSON, nullable=False)
    patient_id = db.Column(db.Integer, db.ForeignKey("patient.id"))
    patient = db.relationship("Patient")


class Patient(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    born_on = db.Column(db.Date, nullable=False)
"""
FLASK_CHECKED = """\
from app.ext import db
from app.models import Visit


def load(visit_id):
    visit = db.session.get(Visit, visit_id)
    if visit.started_at is None:  # expect: DBC101
        pass
    if visit.opened:  # db.NotAType is no SQLAlchemy type: unknown
        pass
    visit.extra["k"] = 1  # expect: DBC200
    first = db.first_or_404(db.select(Visit).where(Visit.id == visit_id))
    if first.patient.born_on is None:  # expect: DBC101
        pass
    one = Visit.query.filter_by(id=visit_id).one_or_404()
    return not one.started_at  # expect: DBC100
"""
FLASK_EXTENSIONS = {
    "from flask_sqlalchemy": ("from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n", True),
    "module attribute": ("import flask_sqlalchemy\ndb = flask_sqlalchemy.SQLAlchemy()\n", True),
    "from flask_sqlalchemy.extension": ("from flask_sqlalchemy.extension import SQLAlchemy\ndb = SQLAlchemy()\n",
                                        True),
    "subclass": ("from flask_sqlalchemy import SQLAlchemy\nclass AppDB(SQLAlchemy):\n    pass\ndb = AppDB()\n", True),
    "subclass of a subclass in another module": (
        "from app.base_db import BaseDB\nclass AppDB(BaseDB):\n    pass\ndb = AppDB(engine_options={})\n", True),
    "class that is no SQLAlchemy, with a diamond": (
        "class Helper(object):\n    pass\nclass Left(Helper):\n    pass\nclass Right(Helper):\n    pass\n"
        "class AppDB(Left, Right):\n    pass\ndb = AppDB()\n",
        False,
    ),
    "inheritance cycle": ("class A(B):\n    pass\nclass B(A):\n    pass\ndb = A()\n", False),
    "not a call": ("from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy() if SQLAlchemy else None\n", False),
    "call of a function": (
        "from flask_sqlalchemy import SQLAlchemy\ndef make():\n    return SQLAlchemy()\ndb = make()\n", False),
    "another library's class": ("from other_orm import Database\ndb = Database()\n", False),
    # importers see the last binding; read in between, the name is unknown
    "bound twice": ("from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\ndb = SQLAlchemy()\n", True),
    "bound twice, read in between": (
        "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\nModel = db.Model\ndb = SQLAlchemy()\n", False),
}


@pytest.mark.parametrize("extension, reported", FLASK_EXTENSIONS.values(), ids=FLASK_EXTENSIONS.keys())
def test_flask_sqlalchemy_db_defined_in_another_module(project, extension, reported):
    project.write({
        "app/__init__.py": "",
        "app/base_db.py": "import flask_sqlalchemy\n\n\nclass BaseDB(flask_sqlalchemy.SQLAlchemy):\n    pass\n",
        "app/ext.py": extension,
        "app/models.py": FLASK_MODELS,
        CHECKED: FLASK_CHECKED,
        "app/services/__init__.py": "",
    })
    assert project.check() == (expected(FLASK_CHECKED) if reported else [])


# -- models reached through a typed interface (prefect's injected ``db``) ------------------
INTERFACE = """\
import functools
import typing

from app import models
from app.models import visits


class DatabaseInterface:
    @property
    def Typing(self) -> typing.Type[models.Visit]:
        return models.Visit

    @property
    def Listed(self) -> list[models.Visit]:
        return [models.Visit]

    @property
    def OptionalClass(self) -> type[models.Visit | None]:
        return models.Visit

    @classmethod
    def Classy(cls) -> type[models.Visit]:
        return models.Visit

    @property
    def Visit(self) -> type[models.Visit]:
        return models.Visit

    @property
    def Quoted(self) -> "type[visits.Visit]":
        return visits.Visit

    @functools.cached_property
    def Cached(self) -> "Type[models.Visit]":
        return models.Visit

    def Method(self) -> type[models.Visit]:
        return models.Visit

    @property
    def Untyped(self):
        return models.Visit

    @property
    def Instance(self) -> models.Visit:
        return models.Visit()

    @property
    def NotAClass(self) -> type[models.visits]:
        return models.visits

    @property
    def Stacked(self) -> type[models.Visit]:
        return models.Visit

    Stacked = Stacked

    @staticmethod
    @property
    def Twice(self) -> type[models.Visit]:
        return models.Visit

    @property
    async def Awaited(self) -> type[models.Visit]:
        return models.Visit

    Patient = models.Patient
"""
INTERFACE_CHECKED = """\
from sqlalchemy import select

from app.interface import DatabaseInterface


def typed(db: DatabaseInterface, session, visit_id):
    visit = session.get(db.Visit, visit_id)
    for quoted in session.scalars(select(db.Quoted)):
        if quoted.started_at is None:  # expect: DBC101
            pass
    cached = session.scalars(select(db.Cached)).one()
    typed = session.get(db.Typing, visit_id)
    if visit.started_at is None or cached.started_at is None:  # expect: DBC101, DBC101
        pass
    return typed.started_at is None  # expect: DBC101


def quoted_annotation(db: "DatabaseInterface", session):
    visit = session.get(db.Visit, 1)
    return visit.started_at is None  # expect: DBC101


def not_typed_properties(db: DatabaseInterface, session):
    method = session.get(db.Method, 1)
    untyped = session.get(db.Untyped, 1)
    instance = session.get(db.Instance, 1)
    not_a_class = session.get(db.NotAClass, 1)
    stacked = session.get(db.Stacked, 1)
    twice = session.get(db.Twice, 1)
    awaited = session.get(db.Awaited, 1)
    attribute = session.get(db.Patient, 1)
    missing = session.get(db.Missing, 1)
    listed = session.get(db.Listed, 1)
    optional = session.get(db.OptionalClass, 1)
    classy = session.get(db.Classy, 1)
    if listed.started_at is None or optional.started_at is None or classy.started_at is None:
        pass
    return (method.started_at is None, untyped.started_at is None, instance.started_at is None,
            not_a_class.started_at is None, stacked.started_at is None, twice.started_at is None,
            awaited.started_at is None, attribute.born_on is None, missing.started_at is None)


def other_parameters(db, session, typed: DatabaseInterface | None, many: list[DatabaseInterface]):
    untyped = session.get(db.Visit, 1)
    optional = session.get(typed.Visit, 1)
    listed = session.get(many.Visit, 1)
    return untyped.started_at is None, optional.started_at is None, listed.started_at is None


def class_level(db: DatabaseInterface, session):
    return session.scalars(select(db.Visit).where(db.Visit.started_at == None))  # noqa: E711
"""


def test_models_reached_through_the_typed_properties_of_an_annotated_parameter(project):
    """``def f(db: Interface)`` with ``@property def Visit(self) -> type[Visit]``: the
    property's annotation names the class; nothing else about ``db`` is followed."""
    project.write(dict(LAYOUT, **{"app/interface.py": INTERFACE, CHECKED: INTERFACE_CHECKED}))
    assert project.check() == expected(INTERFACE_CHECKED)


def test_an_annotated_parameter_resolves_to_an_instance_only_of_a_project_class(project):
    project.write(dict(LAYOUT, **{"app/interface.py": INTERFACE}))
    source = (
        "from app.interface import DatabaseInterface\nimport collections\n\n\n"
        "def f(db: DatabaseInterface, counter: collections.Counter, shadowed: DatabaseInterface):\n"
        "    DatabaseInterface = None\n"
    )
    module = ModuleInfo("app.services.check", os.path.join(project.root, CHECKED), ast.parse(source), False)
    resolver = NameResolver(ProjectLoader((project.root,)))
    function = Scope(module.tree.body[2], module.scope)
    db = resolver.resolve_name("db", function)
    assert isinstance(db, names.Instance) and db.cls.name == "DatabaseInterface"
    assert resolver.resolve_name("counter", function) is None
    # the annotation is read where the function is defined, not in its body
    assert resolver.resolve_name("shadowed", function) == db
    assert isinstance(resolver.resolve_attribute(db, "Visit"), ClassRef)


def test_sqlmodel_re_exports_are_read_as_sqlalchemy_objects(project):
    models = """\
        import datetime
        from typing import Optional

        from sqlmodel import JSON, Column, DateTime, Field, SQLModel


        class Visit(SQLModel, table=True):
            id: Optional[int] = Field(default=None, primary_key=True)
            started_at: datetime.datetime = Field(sa_column=Column(DateTime, nullable=False))
            extra: dict = Field(sa_column=Column(JSON, nullable=False))
        """
    source = """\
        from sqlmodel import Session, select

        from app.models import Visit


        def check(session: Session):
            visit = session.exec(select(Visit)).one()
            if visit.started_at is None:  # expect: DBC101
                pass
            visit.extra["k"] = 1  # expect: DBC200
        """
    project.write({"app/__init__.py": "", "app/models.py": textwrap.dedent(models), CHECKED: textwrap.dedent(source),
                   "app/services/__init__.py": ""})
    assert project.check() == expected(source)


@pytest.mark.parametrize(
    "dotted, canonical",
    [
        ("sqlmodel.Column", "sqlalchemy.Column"),
        ("sqlmodel.JSON", "sqlalchemy.JSON"),
        ("sqlmodel.Field", "sqlmodel.Field"),
        ("sqlmodel.select", "sqlmodel.select"),
        ("sqlmodel.sql.expression.select", "sqlmodel.sql.expression.select"),
        ("sqlalchemy.Column", "sqlalchemy.Column"),
    ],
)
def test_canonical_external(dotted, canonical):
    assert names.canonical_external(dotted) == canonical


@pytest.mark.parametrize(
    "attr, dotted",
    [
        ("Model", names.FLASK_MODEL),
        ("Column", "sqlalchemy.Column"),
        ("relationship", "sqlalchemy.orm.relationship"),
        ("session", "sqlalchemy.orm.session"),
        ("paginate", "flask_sqlalchemy.SQLAlchemy().paginate"),
    ],
)
def test_flask_attribute(attr, dotted):
    assert names.flask_attribute(attr) == dotted


@pytest.mark.parametrize(
    "dotted, candidates, same",
    [
        ("sqlalchemy.orm.mapped_column", ("sqlalchemy.orm.mapped_column",), True),
        ("sqlalchemy.orm._orm_constructors.mapped_column", ("sqlalchemy.orm.mapped_column",), True),
        ("sqlalchemy.Column", ("sqlalchemy.orm.mapped_column", "sqlalchemy.sql.schema.Column"), True),
        ("sqlalchemy.Column", ("sqlalchemy.orm.mapped_column",), False),
        ("sqlalchemy.NoSuchThing", ("sqlalchemy.NoSuchThing",), False),
        ("sqlalchemy.orm.NoSuchThing.deeper", ("sqlalchemy.orm",), False),
        ("other.Column", ("sqlalchemy.Column",), False),
        (None, ("sqlalchemy.Column",), False),
        ("", ("sqlalchemy.Column",), False),
    ],
)
def test_is_sqlalchemy_compares_the_objects_named(dotted, candidates, same):
    assert names.is_sqlalchemy(dotted, *candidates) is same


def test_sqlalchemy_2_names_are_recognised_by_name_when_sqlalchemy_lacks_them(monkeypatch):
    """Under SQLAlchemy 1.4 ``DeclarativeBase`` cannot be imported; a project spelling
    it needs 2.0 to run anyway, so it is read by its name."""
    monkeypatch.setitem(names._imported, "sqlalchemy.orm.DeclarativeBase", None)
    assert names.sqlalchemy_2_name("sqlalchemy.orm.DeclarativeBase") == "DeclarativeBase"
    assert names.is_sqlalchemy("sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBase")
    assert not names.is_sqlalchemy("sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.Mapped")
    assert names.sqlalchemy_2_name("sqlalchemy.orm.Mapped") is None  # importable: no need
    assert names.sqlalchemy_2_name("sqlmodel.DeclarativeBase") is None
    assert names.sqlalchemy_2_name("sqlalchemy.orm.NoSuchThing") is None


def test_package_root_search_stops_at_the_filesystem_root(monkeypatch):
    from flake8_dbconstraints import loader

    monkeypatch.setattr(loader.os.path, "isfile", lambda path: True)  # __init__.py everywhere
    assert loader.find_package_root("/a/b/c/module.py") == "/"


def test_answers_cut_short_by_the_depth_bound_are_not_memoized():
    """An alias chain longer than MAX_DEPTH is unknown when asked from its far end; a
    name of the same chain asked first from close by must not inherit that answer."""
    count = names.MAX_DEPTH + 4
    source = "import os\nalias0 = os\n" + "".join(f"alias{i} = alias{i - 1}\n" for i in range(1, count))
    module = ModuleInfo("chain", "chain.py", ast.parse(source))
    resolver = NameResolver(ProjectLoader([]))
    assert resolver.resolve_name(f"alias{count - 1}", module.scope) is None  # cut short
    assert resolver.resolve_name("alias2", module.scope) == External("os")
    deep = ast.parse("os" + ".x" * (names.MAX_DEPTH + 2), mode="eval").body
    assert resolver.resolve_expr(deep, module.scope) is None
    assert resolver.resolve_expr(None, module.scope) is None  # no annotation, no base...
