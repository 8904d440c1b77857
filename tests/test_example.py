"""The README's first command: the bundled example application prints exactly the
findings recorded in examples/clinic/EXPECTED.txt."""
import os

from tests.project_builder import run_flake8

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def test_example_application_findings():
    result = run_flake8(EXAMPLES, "--select", "DBC", "--dbc-no-cache", "clinic")
    with open(os.path.join(EXAMPLES, "clinic", "EXPECTED.txt"), encoding="utf-8") as handle:
        expected = handle.read()
    # flake8 5 reports files in another order than flake8 7: compare the lines.
    assert sorted(result.stdout.splitlines()) == sorted(expected.splitlines())
    assert result.returncode == 1
    codes = {line.split(" ")[1] for line in expected.splitlines()}
    assert codes == {"DBC100", "DBC101", "DBC200"}


def test_example_is_clean_under_flake8_defaults():
    result = run_flake8(EXAMPLES, "--extend-ignore", "DBC", "--dbc-no-cache", "clinic")
    assert result.stdout == ""
