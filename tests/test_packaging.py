"""The package builds as an sdist and a wheel whose metadata twine accepts; importing
it stays cheap (flake8 imports every plugin on every run)."""
import glob
import os
import shutil
import subprocess
import sys

import pytest

import flake8_dbconstraints
from tests.project_builder import MODELS, SERVICE, write_project

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.packaging
def test_sdist_and_wheel_build_and_pass_twine_check(tmp_path):
    source = tmp_path / "src"
    ignored = shutil.ignore_patterns(
        ".git", "*.egg-info", ".dbc_cache", "build", "dist", "__pycache__", ".coverage*", ".hypothesis"
    )
    shutil.copytree(ROOT, source, ignore=ignored)
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    built = sorted(os.path.basename(path) for path in glob.glob(str(tmp_path / "dist" / "*")))
    version = flake8_dbconstraints.__version__
    assert built == [f"flake8_dbconstraints-{version}-py3-none-any.whl", f"flake8_dbconstraints-{version}.tar.gz"]
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *glob.glob(str(tmp_path / "dist" / "*"))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 2


def test_importing_the_package_does_not_import_astroid_or_sqlalchemy():
    code = (
        "import sys, flake8_dbconstraints, flake8_dbconstraints.plugin;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('astroid', 'sqlalchemy')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_version_is_a_release_number():
    major, minor, patch = flake8_dbconstraints.__version__.split(".")
    assert all(part.isdigit() for part in (major, minor, patch))


def test_checking_models_without_postgresql_types_leaves_that_dialect_unimported(tmp_path):
    """HSTORE is only looked for once its module is loaded (column_types._imported_hstore)."""
    write_project(tmp_path, {"app/__init__.py": "", "app/models.py": MODELS, "app/service.py": SERVICE})
    code = (
        "import sys, ast\n"
        "from flake8_dbconstraints.plugin import DBConstraintsChecker\n"
        "from flake8_dbconstraints.settings import build_settings\n"
        "source = open('app/service.py').read()\n"
        "checker = DBConstraintsChecker(ast.parse(source), 'app/service.py', source.splitlines(True))\n"
        "checker.settings = build_settings(no_cache=True)\n"
        "print(sorted({m.split()[0] for _, _, m, _ in checker.run()}))\n"
        "print([m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["['DBC100', 'DBC101', 'DBC200']", "[]"]
