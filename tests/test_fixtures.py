"""Every fixture file: each marked finding is reported, every unmarked line is silent."""
import glob
import os

import pytest

from tests.fixture_runner import compare

HERE = os.path.dirname(__file__)
FIXTURES = sorted(
    glob.glob(os.path.join(HERE, "fixtures", "dbc1xx", "*.py"))
    + glob.glob(os.path.join(HERE, "fixtures", "dbc2xx", "*.py"))
    + glob.glob(os.path.join(HERE, "fixtures", "dbc3xx", "*.py"))
)


@pytest.mark.parametrize("path", FIXTURES, ids=[os.path.basename(p) for p in FIXTURES])
def test_fixture(path, in_repo_root):
    missing, unexpected = compare(path)
    assert missing == [], f"expected but not reported: {missing}"
    assert unexpected == [], f"reported on an unmarked line: {unexpected}"


def test_fixtures_are_found():
    assert len(FIXTURES) >= 10
