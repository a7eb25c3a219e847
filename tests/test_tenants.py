"""Tenants: a database made with `setup/retail create-db` while trytond runs
is served at once (login, back office, sync enrollment) with its own admin
password, the login screen lists no database, and one tenant's session,
device key or a forged database name reads and writes nothing of another.

Runs on SQLite in a temporary directory, on a free port."""
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.e2e.backoffice import Backoffice
from tests.support.rpc import Client
from tests.support.servers import ROOT, TrytondServer

TENANT_B = 'tenant_b'


@pytest.fixture(scope='module')
def tenant_a():
    with TrytondServer('sqlite://', 'tenant_a', demo=True) as server:
        yield server


@pytest.fixture(scope='module')
def tenant_b(tenant_a):
    """Made by the set-up command while tenant A's server runs; yields
    (the command's output, the admin password it printed)"""
    environ = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'setup'),
        RETAIL_VAR=tenant_a.directory)
    result = subprocess.run([sys.executable, '-m', 'retail_setup',
            'create-db', '--name', TENANT_B, '--demo',
            '--config', tenant_a.config_path],
        capture_output=True, text=True, env=environ, cwd=ROOT,
        stdin=subprocess.DEVNULL, timeout=900)
    assert result.returncode == 0, result.stderr
    password, = re.findall(
        r"login 'admin', password '([^']+)'", result.stdout)
    try:
        yield result.stdout, password
    finally:
        path = os.path.join(tenant_a.db_path, TENANT_B + '.sqlite')
        if os.path.exists(path):
            os.remove(path)


def rpc_status(server, database, method, params, auth=None):
    "The HTTP status and JSON-RPC answer of one call"
    request = urllib.request.Request(f'{server.url}{database}/rpc/',
        data=json.dumps({'id': 1, 'method': method,
                'params': params}).encode(),
        headers={'Content-Type': 'application/json'})
    if auth:
        request.add_header('Authorization', auth)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def sync(server, database, path, key=None, body=None):
    "The HTTP status and JSON answer of a sync API request"
    request = urllib.request.Request(
        f'{server.url}{database}/retail_sync/v1/{path}',
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Content-Type': 'application/json'})
    if key:
        request.add_header('Authorization', f'Bearer {key}')
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, None


class Tenant(Backoffice):
    "The demo helpers of the end-to-end tests on any tenant of the server"

    def __init__(self, server, database, admin_password, demo_password):
        self.url = server.url
        self.database = database
        self.admin_password = admin_password
        self.demo_password = demo_password
        self._admin = None

    def client(self, login, password=None):
        if login == 'admin':
            password = self.admin_password
        elif password is not None and self.demo_password:
            password = self.demo_password
        return Client(self.url, self.database).login(login, password)

    @property
    def admin(self):
        if self._admin is None:
            self._admin = self.client('admin')
        return self._admin


def enroll(server, tenant, prefix='BXL1'):
    status, answer = sync(server, tenant.database, 'enroll', body={
            'code': tenant.enrollment_code(prefix),
            'app_version': 'test', 'device_name': f'{tenant.database} till'})
    assert status == 200, answer
    return answer['device_key']


def demo_password_of(output):
    "The generated password of the demo users printed by create-db"
    passwords = set(re.findall(
        r'^\s+manager\.\w+\s+(\S+)\s+Store Manager', output, re.M))
    assert len(passwords) == 1, output
    return passwords.pop()


def test_tenant_created_while_the_server_runs_is_served_at_once(
        tenant_a, tenant_b):
    output, password = tenant_b
    assert password != 'retail-admin' and len(password) >= 8
    # Login, the back office and the sync API answer at once, without a
    # restart of the server
    admin = Client(tenant_a.url, TENANT_B).login('admin', password)
    branches = admin.search_read('retail.branch', [], ['code'])
    assert sorted(b['code'] for b in branches) == ['ANT', 'BXL']
    tenant = Tenant(tenant_a, TENANT_B, password, demo_password_of(output))
    key = enroll(tenant_a, tenant)
    status, page = sync(tenant_a, TENANT_B, 'bootstrap', key=key)
    assert status == 200 and page['cursor'] is not None


def test_each_tenant_has_its_own_admin_password(tenant_a, tenant_b):
    _, password = tenant_b
    with pytest.raises(urllib.error.HTTPError) as error:
        Client(tenant_a.url, TENANT_B).login('admin', 'retail-admin')
    assert error.value.code == 401
    # The demo database of setup/start keeps its documented login
    Client(tenant_a.url, tenant_a.database).login('admin', 'retail-admin')
    output, _ = tenant_b
    assert demo_password_of(output) != 'retail-demo'


def test_the_login_screen_lists_no_database(tenant_a, tenant_b):
    status, _ = rpc_status(tenant_a, '', 'common.db.list', [])
    assert status == 403
    with open(tenant_a.config_path) as fp:
        assert re.search(r'^list = False$', fp.read(), re.M)


def test_a_session_of_tenant_a_reads_and_writes_nothing_of_tenant_b(
        tenant_a, tenant_b):
    _, password = tenant_b
    admin_a = Client(tenant_a.url, tenant_a.database).login(
        'admin', 'retail-admin')
    admin_b = Client(tenant_a.url, TENANT_B).login('admin', password)
    names_b = admin_b.search_read('res.user', [('login', '=', 'admin')],
        ['name'])
    forged = Client(tenant_a.url, TENANT_B)
    forged.auth = admin_a.auth  # tenant A's session, tenant B's name
    for method, params in [
            ('model.res.user.search_read',
                [[], 0, None, None, ['login'], {}]),
            ('model.res.user.write', [[1], {'name': "Forged"}, {}]),
            ('model.retail.branch.create', [[{'name': "Forged",
                        'code': 'FRG'}], {}]),
            ]:
        status, answer = rpc_status(
            tenant_a, TENANT_B, method, params, auth=admin_a.auth)
        assert status in (401, 403), (method, status, answer)
    with pytest.raises(urllib.error.HTTPError):
        forged.model('res.user', 'read', [1], ['name'])
    assert admin_b.search_read('res.user', [('login', '=', 'admin')],
        ['name']) == names_b
    assert not admin_b.search_read('retail.branch',
        [('code', '=', 'FRG')], ['id'])


def test_a_device_key_of_tenant_a_opens_nothing_of_tenant_b(
        tenant_a, tenant_b):
    key_a = enroll(tenant_a, Tenant(tenant_a, tenant_a.database,
            'retail-admin', None))
    assert sync(tenant_a, tenant_a.database, 'bootstrap', key=key_a)[0] \
        == 200
    for path, body in [('bootstrap', None), ('changes', None),
            ('push', {'operations': []}), ('status', {})]:
        status, answer = sync(tenant_a, TENANT_B, path, key=key_a,
            body=body)
        assert status == 401, (path, status, answer)
        assert answer['error']['code'] == 'unauthorized'


@pytest.mark.parametrize('name', [
        'nope', 'tenant_b ', '../tenant_b', 'tenant_b.sqlite',
        'TENANT_B', ':memory:', 'tenant_a/../tenant_b'])
def test_a_forged_database_name_answers_not_found(tenant_a, tenant_b, name):
    """A name that is no database of the server, or that would reach
    another one through the path, opens nothing (404, or 405 for a path
    that is no route of a database)"""
    quoted = urllib.request.quote(name, safe='')
    status, answer = rpc_status(tenant_a, quoted, 'common.db.login',
        ['admin', {'password': 'retail-admin'}, 'en'])
    assert status in (404, 405), (name, status, answer)
    status, answer = sync(tenant_a, quoted, 'bootstrap', key='x')
    assert status in (404, 405), (name, status, answer)


def test_a_tenant_without_the_sync_api_answers_not_found(tenant_a):
    """A database where retail_sync is not activated answers the sync API
    404 (not 500) and its back office still works"""
    name = 'tenant_plain'
    from retail_setup import server
    server.create_database('sqlite', 'sqlite://', name,
        db_path=tenant_a.db_path)
    try:
        server.initialize_database(tenant_a.config_path, name,
            'plain-admin', modules=['party'])
        Client(tenant_a.url, name).login('admin', 'plain-admin')
        status, answer = sync(tenant_a, name, 'enroll',
            body={'code': 'X', 'app_version': 't', 'device_name': 't'})
        assert status == 404 and answer['error']['code'] == 'not_found'
    finally:
        server.drop_database('sqlite', 'sqlite://', name,
            db_path=tenant_a.db_path)
