"""pre-commit, for real: the flake8 hook with this plugin as an additional dependency,
and this repository's own hook, on a temporary git repository (#6)."""
import os
import subprocess
import sys

import pytest

from tests.project_builder import MODELS, SERVICE, write_project

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.packaging

LOCAL_FLAKE8_HOOK = f"""\
repos:
  - repo: local
    hooks:
      - id: flake8
        name: flake8
        entry: flake8
        language: python
        types: [python]
        args: [--select=DBC]
        additional_dependencies: [flake8, "{ROOT}"]
"""


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def make_repository(tmp_path):
    repo = str(tmp_path / "repo")
    write_project(repo, {"app/__init__.py": "", "app/models.py": MODELS, ".pre-commit-config.yaml": LOCAL_FLAKE8_HOOK})
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "user.name", "test")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "models")
    # Only the service file changes: the models are not among the files pre-commit passes.
    write_project(repo, {"app/services.py": SERVICE})
    git(repo, "add", "app/services.py")
    return repo


def pre_commit(repo, *args):
    env = dict(os.environ)
    env.pop("DBC_STRICT", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=900
    )


def test_flake8_hook_with_the_plugin_reports_a_dead_guard(tmp_path):
    repo = make_repository(tmp_path)
    result = pre_commit(repo, "run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "flake8" in result.stdout and "Failed" in result.stdout
    assert "app/services.py:11:12: DBC101 'visit.started_at is None' is always False" in result.stdout
    assert "app/services.py:5:8: DBC100" in result.stdout


def test_this_repositorys_hook(tmp_path):
    repo = make_repository(tmp_path)
    result = pre_commit(repo, "try-repo", ROOT, "flake8-dbconstraints", "--files", "app/services.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "app/services.py:15:5: DBC200 in-place change to Visit.extra is not saved" in result.stdout
