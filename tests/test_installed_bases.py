"""Models on a declarative base from an installed package (superset's models on
``flask_appbuilder.Model``): the base is read from the package's source in
site-packages, never imported, and only for classes that declare a table or columns."""
import ast
import json
import os
import sys

import pytest

from flake8_dbconstraints.loader import InstalledLoader, ProjectLoader
from flake8_dbconstraints.names import NameResolver
from flake8_dbconstraints.project import clear_caches
from tests.project_builder import write_project
from tests.test_cache import check, entries
from tests.test_model_reading import run_check

FAB = {
    "fab/__init__.py": "from .models import Model, helper\n",
    "fab/models.py": '''\
        from sqlalchemy import Column, DateTime
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class Model(Base):
            __abstract__ = True
            created_on = Column(DateTime, nullable=False)


        def helper():
            return None
    ''',
}

MODELS = '''\
    from sqlalchemy import Column, DateTime, Integer

    from fab import Model


    class Visit(Model):
        __tablename__ = "visit"
        id = Column(Integer, primary_key=True)
        started_at = Column(DateTime, nullable=False)
        ended_at = Column(DateTime)
'''

SERVICE = '''\
    from app.models import Visit


    def started(visit: Visit):
        return visit.started_at is None


    def created(visit: Visit):
        return visit.created_on is None


    def ended(visit: Visit):
        return visit.ended_at is None
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    site = tmp_path / "venv" / "site-packages"
    write_project(root, {"app/__init__.py": "", "app/models.py": MODELS, "app/services.py": SERVICE})
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    clear_caches()
    yield str(root), str(site)
    clear_caches()


def test_model_on_an_installed_base_is_read(project):
    root, site = project
    write_project(site, FAB)
    assert check(root) == ["DBC101", "DBC101"]  # started_at, and created_on from the installed base


def test_installed_base_declares_where_its_column_is(project):
    root, site = project
    write_project(site, FAB)
    messages = [message for _line, message in run_check(root, "app/services.py")]
    assert any(f"declared at {os.path.join(site, 'fab', 'models.py')}:9" in message for message in messages)


def test_not_installed_means_unknown(project):
    root, _site = project
    assert check(root) == []


def test_installed_bases_of_a_class_without_table_or_columns_are_not_followed(project):
    root, site = project
    write_project(site, FAB)
    write_project(root, {"app/models.py": MODELS.replace("(Model)", "(Helper)").replace(
        "class Visit", "class Helper(Model):\n        pass\n\n\n    class Visit")})
    assert check(root) == []  # Helper is not known to be mapped: Visit stays unknown


def test_installed_module_is_a_dependency_of_the_cached_findings(project):
    root, site = project
    write_project(site, FAB)
    check(root)
    clear_caches()
    [entry] = entries(root)[os.path.join("app", "services.py")]
    assert os.path.join(site, "fab", "models.py") in {path for _name, path, _stamp in entry["deps"]}
    with open(os.path.join(site, "fab", "models.py"), "a", encoding="utf-8") as handle:
        handle.write("\n\nModel.__abstract__ = True\n")  # a changed stamp: recomputed, same answer
    assert check(root) == ["DBC101", "DBC101"]
    clear_caches()
    newest = max(entries(root)[os.path.join("app", "services.py")], key=lambda found: found["at"])
    assert json.dumps(entry) != json.dumps(newest)  # the old entry stays in its pack; the newest wins


def test_packages_known_by_name_are_never_read(tmp_path):
    site = tmp_path / "site-packages"
    write_project(site, {"sqlmodel/__init__.py": "class SQLModel:\n    pass\n", "other/__init__.py": ""})
    loader = InstalledLoader(ProjectLoader([str(tmp_path / "project")]), [str(site), str(tmp_path)])
    assert loader.roots == (str(site),)  # only site-packages folders are searched
    assert loader.find_file("sqlmodel") is None
    assert loader.find_file("other") == str(site / "other" / "__init__.py")


def test_project_modules_are_not_read_as_installed_ones(tmp_path):
    site = tmp_path / "site-packages"
    write_project(site, {"fab/__init__.py": ""})
    loader = InstalledLoader(ProjectLoader([str(tmp_path)]), [str(site)])
    assert loader.find_file("fab") is None


def test_installed_class_is_a_class_of_an_installed_module(project):
    _root, site = project
    write_project(site, FAB)
    resolver = NameResolver(ProjectLoader([project[0]]))
    assert resolver.installed_class("fab.Model").qname == "fab.models.Model"
    assert resolver.installed_class("fab.helper") is None  # a function, not a class
    assert resolver.installed_class("fab") is None  # a module
    assert resolver.installed_class("missing.Model") is None


@pytest.mark.parametrize("body, declares", [
    pytest.param("__tablename__ = 'visit'", True, id="tablename"),
    pytest.param("__table__ = make_table()", True, id="table"),
    pytest.param("started_at = Column(DateTime)", True, id="column"),
    pytest.param("patient = orm.relationship('Patient')", True, id="relationship"),
    pytest.param("started_at: Mapped[datetime]", True, id="mapped-annotation"),
    pytest.param("started_at: 'Mapped[datetime]'", True, id="mapped-annotation-in-a-string"),
    pytest.param("label: str = 'x'\ncount = 0\nx, y = 1, 2", False, id="plain-attributes"),
    pytest.param("def started_at(self):\n    pass", False, id="method"),
])
def test_what_counts_as_declaring_a_table_or_columns(body, declares):
    from flake8_dbconstraints.registry import _declares_table_or_columns

    node = ast.parse("class Visit(Model):\n" + "\n".join("    " + line for line in body.splitlines())).body[0]
    assert _declares_table_or_columns(node) is declares
