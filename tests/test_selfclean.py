"""Our own code passes flake8 with the project's configuration, this plugin included."""
import os

from tests.project_builder import run_flake8

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_package_and_tests_are_flake8_clean():
    result = run_flake8(ROOT, "--dbc-no-cache", "flake8_dbconstraints", "tests", "setup.py")
    assert result.stdout == ""
    assert result.returncode == 0
