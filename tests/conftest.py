"""Shared fixtures of the cross-component tests (see tests/support)."""
import pytest

from tests.support.servers import PostgresServer


@pytest.fixture(scope='session')
def postgres():
    "A real PostgreSQL 15 server for the session"
    with PostgresServer() as pg:
        yield pg
