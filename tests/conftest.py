"""Shared pytest fixtures."""
import os

import pytest

POSTGRES_URL_VARIABLE = "DBC_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url():
    """The URL of a PostgreSQL database the tests may create schemas in.

    Without one the PostgreSQL tests skip, except on CI (``CI=true``), where a
    missing database must not pass unnoticed.
    """
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true but {POSTGRES_URL_VARIABLE} is unset: the PostgreSQL tests need "
            "a database, e.g. postgresql+psycopg2://dbc:dbc@127.0.0.1:5432/dbc_test",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL not available: set {POSTGRES_URL_VARIABLE}")


# Failures inside the plugin's safety net raise in tests, so bugs are not hidden.
os.environ["DBC_STRICT"] = "1"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def in_repo_root(monkeypatch):
    """Fixtures import their models as ``tests.fixtures.models...`` from the repository root."""
    monkeypatch.chdir(REPO_ROOT)
    return REPO_ROOT
