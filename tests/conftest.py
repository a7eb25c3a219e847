"""Shared fixtures of the cross-component tests (see tests/support)."""
import pytest

from tests.support.servers import PostgresServer, TrytondServer

# The addons for the tests only are Tryton modules with their own Tryton
# tests, run by setup/retail-test as the other addons' (unittest, with a
# trytond configuration of their own), not by pytest
collect_ignore = ['addons']


@pytest.fixture(scope='session')
def postgres():
    "A real PostgreSQL 15 server for the session"
    with PostgresServer() as pg:
        yield pg


@pytest.fixture(scope='session')
def backoffice(postgres):
    "trytond with the demo chain on PostgreSQL, for the back-office tests"
    with TrytondServer(postgres.uri, 'backoffice_test', demo=True) as server:
        yield server
