"""Every fixture file: each marked finding is reported, every unmarked line is silent."""
import glob
import os
import re
import sys

import pytest

from tests.fixture_runner import compare

HERE = os.path.dirname(__file__)
FIXTURES = sorted(
    glob.glob(os.path.join(HERE, "fixtures", "dbc1xx", "*.py"))
    + glob.glob(os.path.join(HERE, "fixtures", "dbc2xx", "*.py"))
    + glob.glob(os.path.join(HERE, "fixtures", "dbc3xx", "*.py"))
)


def minimum_python(path):
    """A ``_py310`` suffix marks syntax newer than the oldest supported Python (bugbear's habit)."""
    match = re.search(r"_py3(\d+)\.py$", path)
    return (3, int(match.group(1))) if match else (3, 0)


@pytest.mark.parametrize("path", FIXTURES, ids=[os.path.basename(p) for p in FIXTURES])
def test_fixture(path, in_repo_root):
    if sys.version_info < minimum_python(path):
        pytest.skip(f"needs Python {minimum_python(path)}")
    missing, unexpected = compare(path)
    assert missing == [], f"expected but not reported: {missing}"
    assert unexpected == [], f"reported on an unmarked line: {unexpected}"


def test_fixtures_are_found():
    assert len(FIXTURES) >= 10
