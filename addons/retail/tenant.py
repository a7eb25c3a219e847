# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Tenants: serve a database the moment it exists.

Tenants are databases of the same server.  trytond loads the pool (the
models of the activated modules) of a database on its first request, but:

- the first transaction on a database registers an empty pool for it, so
  the login that should load the pool finds it "loaded" and answers
  ``'res.user'`` (a KeyError) for as long as the process lives, unless the
  database was named in ``TRYTOND_DATABASE_NAMES`` when the server started;
- the list of databases is cached for ``[session] timeout`` seconds, so a
  database created after the first look-up answers 404 until then;
- a request that comes while ``trytond-admin`` is still installing the
  modules would load a pool without them and keep it.

``TenantMiddleware`` wraps trytond's WSGI application (the way trytond wraps
it to serve static files) when this module is imported, which trytond does
in every server process at start.  Before a request that names a database
whose pool is not loaded, it looks the database up (refreshing the cached
list at most every ``[retail] tenant_refresh`` seconds, default 2, for a
name it does not know) and:

- loads its pool when its modules are activated, then lets trytond answer;
- answers 503 with ``Retry-After`` while the base module ``res`` is not yet
  activated (``trytond-admin`` is creating it), in JSON
  (``{"error": {"code": "unavailable", ...}}``) to a JSON client;
- answers 404, as trytond does, when there is no such database.

Requests for loaded databases and for static files cost one URL match."""
import datetime as dt
import json
import logging
import threading
import time

from werkzeug.exceptions import HTTPException, NotFound, ServiceUnavailable
from werkzeug.routing import RoutingException
from werkzeug.wrappers import Request, Response

from trytond import backend, config
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.wsgi import app

logger = logging.getLogger(__name__)

# Database states for a request
READY, CREATING, MISSING = 'ready', 'creating', 'missing'


def pool_loaded(database_name):
    "Whether this process holds the initialised pool of database_name"
    if database_name not in Pool.database_list():
        return False
    try:
        Pool(database_name).get('res.user')
    except KeyError:
        return False
    return True


_lock = threading.Lock()
_refreshed = {}


def _database_list(hostname, database_name):
    "trytond's list of databases, looked up again for a name it misses"
    with Transaction().start(None, 0, readonly=True) as transaction:
        database = transaction.database
        names = database.list(hostname=hostname)
        if database_name in names:
            return names
        interval = config.getfloat('retail', 'tenant_refresh', default=2)
        now = time.monotonic()
        with _lock:
            if now - _refreshed.get(hostname, -interval) < interval:
                return names
            _refreshed[hostname] = now
            # The cache of Database.list(): trytond offers no other way to
            # forget it than to create or drop a database in this process
            for cache in ('_list_cache', '_list_cache_timestamp'):
                getattr(type(database), cache, {}).pop(hostname, None)
        return database.list(hostname=hostname)


def _modules_activated(database_name):
    "Whether trytond-admin has activated the base modules of the database"
    database = backend.Database(database_name).connect()
    connection = database.get_connection(readonly=True)
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT state FROM ir_module WHERE name = 'res'")
        row = cursor.fetchone()
    finally:
        connection.rollback()
        database.put_connection(connection)
    return bool(row) and row[0] == 'activated'


def prepare(database_name, hostname=None):
    """Load the pool of database_name when it can be served; return READY,
    CREATING (its modules are being installed) or MISSING"""
    if pool_loaded(database_name):
        return READY
    if database_name not in _database_list(hostname, database_name):
        return MISSING
    if not _modules_activated(database_name):
        return CREATING
    with _lock:
        if not pool_loaded(database_name):
            logger.info("loading the new database %s", database_name)
            pool = Pool(database_name)
            with Transaction().start(database_name, 0, readonly=True):
                pool.init()
    return READY


def unavailable(request, name):
    "503 with Retry-After, in JSON for a client that speaks JSON"
    message = (f"The database {name} is being created or updated: retry "
        "in a moment.")
    if 'json' in (request.headers.get('Accept', '')
            + request.headers.get('Content-Type', '')):
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')
        return Response(json.dumps({'error': {
                        'code': 'unavailable', 'message': message},
                    'server_time': now}),
            status=503, headers={'Retry-After': '5'},
            content_type='application/json')
    return ServiceUnavailable(message, retry_after=5)


class TenantMiddleware:
    "Load the pool of a database that appeared while the server runs"

    def __init__(self, wsgi_app, url_map):
        self.app = wsgi_app
        self.url_map = url_map

    def database_name(self, environ):
        try:
            _, args = self.url_map.bind_to_environ(environ).match()
        except (HTTPException, RoutingException):
            # Not a route of trytond: a static file of sao or the POS
            return None
        return args.get('database_name') or None

    def __call__(self, environ, start_response):
        name = self.database_name(environ)
        if name and not pool_loaded(name):
            request = Request(environ)
            try:
                state = prepare(name, config.get_hostname(request.host))
            except backend.DatabaseOperationalError:
                logger.warning("database %s unavailable", name,
                    exc_info=True)
                state = CREATING
            if state == CREATING:
                return unavailable(request, name)(environ, start_response)
            elif state == MISSING:
                # As trytond answers, but without the empty pool its first
                # transaction would register for the name
                return NotFound()(environ, start_response)
        return self.app(environ, start_response)


def install(wsgi=app):
    "Wrap trytond's WSGI application once per process"
    if not isinstance(wsgi.wsgi_app, TenantMiddleware):
        wsgi.wsgi_app = TenantMiddleware(wsgi.wsgi_app, wsgi.url_map)
