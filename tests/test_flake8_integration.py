"""Real flake8 runs: the plugin behaves like any other plugin for selection, noqa,
options, output formats, stdin and parallel jobs."""
import os

import pytest

from flake8_dbconstraints import __version__
from tests.project_builder import default_project, run_flake8, write_project

EXPECTED = [
    "app/services.py:5:8: DBC100",
    "app/services.py:11:12: DBC101",
    "app/services.py:15:5: DBC200",
]


def codes_of(output: str) -> list:
    return [" ".join(line.split(" ")[:2]) for line in output.splitlines() if " DBC" in line]


@pytest.fixture
def project(tmp_path):
    return default_project(tmp_path)


def test_entry_point_and_version(project):
    result = run_flake8(project, "--version")
    assert f"flake8-dbconstraints: {__version__}" in result.stdout


def test_select_dbc_reports_each_rule(project):
    result = run_flake8(project, "--select=DBC", "--dbc-no-cache", "app")
    assert codes_of(result.stdout) == EXPECTED
    assert result.returncode == 1
    assert result.stderr == ""


def test_full_message(project):
    result = run_flake8(project, "--select=DBC100", "app")
    assert result.stdout.strip() == (
        "app/services.py:5:8: DBC100 'visit.started_at' is always truthy: Visit.started_at is a "
        "NOT NULL DateTime (declared at app/models.py:15), so the else branch never runs for a "
        "stored row"
    )


def test_dbc101_and_dbc200_messages(project):
    result = run_flake8(project, "--select=DBC101,DBC200", "app")
    lines = result.stdout.strip().splitlines()
    assert lines[0].endswith(
        "DBC101 'visit.started_at is None' is always False: Visit.started_at is NOT NULL "
        "(Mapped[datetime.datetime], declared at app/models.py:15), so it never reads None for a "
        "stored row"
    )
    assert lines[1].endswith(
        "DBC200 in-place change to Visit.extra is not saved: it is a plain JSON column "
        "(declared at app/models.py:17) and SQLAlchemy does not track in-place changes; call "
        "flag_modified(visit, \"extra\") after it, reassign a new value, or declare it "
        "MutableDict.as_mutable(JSON)"
    )


def test_extend_ignore_and_ignore(project):
    result = run_flake8(project, "--select=DBC", "--extend-ignore=DBC100", "app")
    assert codes_of(result.stdout) == EXPECTED[1:]
    result = run_flake8(project, "--select=DBC", "--ignore=DBC1", "app")
    assert codes_of(result.stdout) == EXPECTED[2:]


def test_noqa(tmp_path):
    root = default_project(tmp_path)
    path = os.path.join(root, "app", "services.py")
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    source = source.replace("if visit.started_at:", "if visit.started_at:  # noqa: DBC100")
    source = source.replace('visit.extra["k"] = 1', 'visit.extra["k"] = 1  # noqa: E501')
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(source)
    result = run_flake8(root, "--select=DBC", "app")
    assert codes_of(result.stdout) == EXPECTED[1:]


def test_per_file_ignores_from_setup_cfg(tmp_path):
    root = default_project(tmp_path)
    write_project(root, {"setup.cfg": "[flake8]\nselect = DBC\nper-file-ignores =\n    app/services.py: DBC101\n"})
    result = run_flake8(root, "app")
    assert codes_of(result.stdout) == [EXPECTED[0], EXPECTED[2]]


@pytest.mark.parametrize("config_file", ["setup.cfg", "tox.ini", ".flake8"])
def test_options_from_config_files(tmp_path, config_file):
    root = default_project(tmp_path)
    write_project(root, {
        "models_elsewhere/shop/__init__.py": "",
        "models_elsewhere/shop/models.py": """\
            import datetime
            from sqlalchemy.orm import DeclarativeBase, Mapped

            class Base(DeclarativeBase):
                pass

            class Order(Base):
                __tablename__ = "orders"
                id: Mapped[int]
                placed_at: Mapped[datetime.datetime]
            """,
        "app/orders.py": """\
            from shop.models import Order


            def placed(order: Order) -> bool:
                return order.placed_at is not None
            """,
        config_file: "[flake8]\nselect = DBC\ndbc-model-paths = models_elsewhere\n",
    })
    result = run_flake8(root, "app/orders.py")
    assert codes_of(result.stdout) == ["app/orders.py:5:12: DBC101"]


def test_model_paths_on_the_command_line(tmp_path):
    root = write_project(tmp_path, {
        "lib/shop/__init__.py": "",
        "lib/shop/models.py": "import datetime\nfrom sqlalchemy.orm import DeclarativeBase, Mapped\n"
        "class Base(DeclarativeBase):\n    pass\nclass Order(Base):\n    __tablename__ = 'o'\n"
        "    id: Mapped[int]\n    placed_at: Mapped[datetime.date]\n",
        "check.py": "from shop.models import Order\n\n\ndef f(order: Order):\n    return not order.placed_at\n",
    })
    without = run_flake8(root, "--select=DBC", "check.py")
    assert codes_of(without.stdout) == []
    with_paths = run_flake8(root, "--select=DBC", "--dbc-model-paths=lib", "check.py")
    assert codes_of(with_paths.stdout) == ["check.py:5:12: DBC100"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dbc-truthy-types=not-a-name"], "--dbc-truthy-types: 'not-a-name' is not a dotted name"),
        (["--dbc-json-types=JSON"], "--dbc-json-types: 'JSON' is not a dotted name"),
        (["--dbc-model-paths=does/not/exist"], "--dbc-model-paths:"),
        (["--dbc-truthy-types=a.B", "--dbc-json-types=a.B"], "both name a.B"),
    ],
)
def test_bad_option_values_are_configuration_errors(project, args, message):
    result = run_flake8(project, "--select=DBC", *args, "app")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_in_config_file(tmp_path):
    root = default_project(tmp_path)
    write_project(root, {"tox.ini": "[flake8]\ndbc-json-types = 1bad\n"})
    result = run_flake8(root, "app")
    assert result.returncode == 2
    assert "--dbc-json-types: '1bad' is not a dotted name" in result.stderr


def test_cache_dir_that_is_a_file(tmp_path):
    root = default_project(tmp_path)
    write_project(root, {"blocker": "x"})
    result = run_flake8(root, "--dbc-cache-dir=blocker", "app")
    assert result.returncode == 2
    assert "--dbc-cache-dir:" in result.stderr


def test_help_lists_options(project):
    result = run_flake8(project, "--help")
    for option in ("--dbc-model-paths", "--dbc-truthy-types", "--dbc-json-types", "--dbc-cache-dir", "--dbc-no-cache"):
        assert option in result.stdout


def test_show_source_statistics_format(project):
    result = run_flake8(project, "--select=DBC", "--show-source", "--statistics", "app")
    assert "    if visit.started_at:" in result.stdout
    assert "1     DBC100 'visit.started_at' is always truthy" in result.stdout
    formatted = run_flake8(project, "--select=DBC", "--format=%(code)s|%(row)d|%(col)d", "app")
    assert formatted.stdout.split() == ["DBC100|5|8", "DBC101|11|12", "DBC200|15|5"]


def test_jobs_give_the_same_output(project):
    serial = run_flake8(project, "--select=DBC", "--jobs=1", "app", ".")
    parallel = run_flake8(project, "--select=DBC", "--jobs=2", "app", ".")
    assert serial.stdout == parallel.stdout
    assert codes_of(serial.stdout)


def test_stdin_uses_the_given_display_name(project):
    with open(os.path.join(project, "app", "services.py"), encoding="utf-8") as handle:
        source = handle.read()
    result = run_flake8(project, "--select=DBC", "--stdin-display-name=app/services.py", "-", stdin=source)
    assert [line.split(":", 1)[1] for line in codes_of(result.stdout)] == [
        line.split(":", 1)[1] for line in EXPECTED
    ]


def test_verbose_shows_what_could_not_be_read(tmp_path):
    root = write_project(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": "class Broken(:\n",
        "app/services.py": "from app.models import Visit\n\n\ndef f(visit: Visit):\n    return visit.x is None\n",
    })
    result = run_flake8(root, "-v", "--select=DBC", "app/services.py")
    assert result.returncode == 0
    assert "flake8-dbconstraints: could not read model module" in result.stderr
    assert "app/models.py" in result.stderr
