# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The sync API: see docs/sync-protocol.md"
import datetime as dt
import gzip
import json
import logging
import random
import time
from functools import wraps

from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from trytond import backend
from trytond.config import config
from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.transaction import Transaction, TransactionError
from trytond.wsgi import app

from . import deflated, schema
from .changelog import parse_cursor
from .pull import (
    KeptRecords, RawJSON, Scope, bootstrap_page, bootstrap_plan, decode_token,
    delta_page, page_cache)
from .push import MAX_OPERATIONS, ConcurrentPush

logger = logging.getLogger(__name__)

PREFIX = '/<database_name>/retail_sync/v1'
# The protocol version the server speaks (docs/sync-protocol.md)
PROTOCOL_VERSION = '1.4'
MAX_PUSH_BYTES = schema.MAX_PUSH_BYTES
# The endpoints and their methods, for 404 and 405 answers in JSON
ENDPOINTS = {}


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def server_time():
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')


def json_parts(data):
    """The JSON of a dict as parts (deflated.join, gzip_join): its values
    may be RawJSON (inserted as they are) or KeptRecords (whose deflated
    part is inserted as it is)"""
    if not any(isinstance(v, (RawJSON, KeptRecords)) for v in data.values()):
        return [json.dumps(data, separators=(',', ':')).encode('utf-8')]
    parts = [b'{']
    for i, (k, v) in enumerate(data.items()):
        parts.append((b',' if i else b'') + json.dumps(k).encode('utf-8')
            + b':')
        if isinstance(v, KeptRecords):
            parts.extend(v.parts)
        else:
            parts.append(v if isinstance(v, RawJSON) else json.dumps(
                    v, separators=(',', ':')).encode('utf-8'))
    parts.append(b'}')
    return parts


def encode_json(data):
    "The JSON of a dict whose values may be RawJSON or KeptRecords"
    return deflated.join(json_parts(data))


def json_response(request, data, status=HTTPStatus.OK):
    parts = json_parts(data)
    headers = {'Vary': 'Accept-Encoding', 'Cache-Control': 'no-store'}
    if 'gzip' in (request.headers.get('Accept-Encoding') or ''):
        if any(isinstance(p, deflated.DeflatedJSON) for p in parts):
            # a kept page's records as they are kept, compressed once
            body = deflated.gzip_join(parts)
        else:
            body = deflated.join(parts)
            # Level 1 on large bodies (delta pages): 3 times faster than
            # level 5 for a few percent more bytes
            body = gzip.compress(body,
                compresslevel=1 if len(body) > 1_000_000 else 5)
        headers['Content-Encoding'] = 'gzip'
    else:
        body = deflated.join(parts)
    return Response(body, status=status, headers=headers,
        content_type='application/json')


def read_body(request, limit):
    """The body's bytes, inflated when sent compressed; refused (413, 415,
    400) when it is larger than limit, compressed or inflated, is not JSON
    or is corrupt. Nothing more than limit bytes is read or inflated."""
    length = request.content_length
    if length is not None and length > limit:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'too_large',
            f"The body is larger than {limit} bytes.")
    # Bypass the request's own limits and caches: read at most limit + 1
    stream = request.environ.get('wsgi.input')
    data = b''
    if length or (request.headers.get('Transfer-Encoding') or '').lower(
            ) == 'chunked':
        chunks, size = [], 0
        want = limit + 1 if length is None else min(length, limit + 1)
        try:
            while size < want:
                chunk = stream.read(min(want - size, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (ClientDisconnected, RequestEntityTooLarge, OSError):
            raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "The body could not be read.")
        if size > limit:
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'too_large',
                f"The body is larger than {limit} bytes.")
        data = b''.join(chunks)
    # Nothing else reads the body again (trytond's request log would
    # parse it as JSON-RPC)
    request.__dict__['rpc_method'] = None
    if not data:
        return data
    mimetype = (request.mimetype or '').lower()
    charset = (request.mimetype_params.get('charset') or 'utf-8').lower()
    if mimetype != 'application/json' or charset not in {'utf-8', 'utf8'}:
        raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            'unsupported_media_type',
            "The body must be application/json in UTF-8.")
    try:
        return schema.inflate(
            data, request.headers.get('Content-Encoding'), limit)
    except schema.BodyError as e:
        raise ApiError(e.status, e.code, e.message)


def parse_body(data, required=True):
    "The JSON object of body data"
    if not data:
        if required:
            raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "The body must be a JSON object.")
        return {}
    try:
        value = schema.loads(data)
    except schema.BodyError as e:
        raise ApiError(e.status, e.code, e.message)
    if not isinstance(value, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "The body must be a JSON object.")
    return value


def check_body(value, name):
    "Raise 400 naming the field of value that does not fit schema name"
    try:
        schema.validate(value, name)
    except schema.Invalid as e:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request', e.message)
    return value


def device_key(request):
    header = request.headers.get('Authorization') or ''
    scheme, _, key = header.partition(' ')
    if scheme.lower() != 'bearer' or not key.strip():
        return None
    return key.strip()


def error_response(request, status, code, message, headers=None):
    response = json_response(request, {'error': {
                'code': code, 'message': message},
            'server_time': server_time()}, status)
    if headers:
        response.headers.update(headers)
    return response


# How long a request waits for the locks a concurrent push of the same
# terminal holds before answering 503 (the device retries later)
LOCK_WAIT = 30


def sync_transaction(func):
    """Run the endpoint in a database transaction, as trytond's with_pool
    and with_transaction do, with these differences:

    - a lock or serialisation failure is retried with a growing pause until
      LOCK_WAIT seconds have passed; this includes the table locks taken with
      NOWAIT when the transaction starts again after a TransactionError
      (trytond retries them only 5 times in 0.3 s while a concurrent push
      may hold them for seconds);
    - a unique violation on (terminal, uuid) means a concurrent push of the
      same operations committed first: the request starts again and answers
      them as duplicates;
    - any error left answers JSON (503 or 500), never the 400 "Unable to get
      RPC method" that with_pool makes of any exception of a JSON request
      that is not JSON-RPC."""
    from trytond.worker import run_task

    @wraps(func)
    def wrapper(request, database_name, **kwargs):
        try:
            pool = sync_pool(database_name, request)
        except backend.DatabaseOperationalError:
            logger.warning("sync: database %s unavailable", database_name,
                exc_info=True)
            return error_response(request, HTTPStatus.SERVICE_UNAVAILABLE,
                'unavailable', "The database is not available.",
                {'Retry-After': '5'})
        if pool is None:
            return error_response(request, HTTPStatus.NOT_FOUND,
                'not_found', "Unknown database.")
        deadline = time.monotonic() + LOCK_WAIT
        # The locks trytond asked for (TransactionError) when the request
        # started again, for this request only: a lock one request needed
        # (a table, the rows of its terminal) taken from the start of every
        # request of the endpoint would make the requests of all terminals
        # wait for each other.  A push locks its terminal's row itself
        # (retail.sync.push lock_terminal).
        extras = {}
        attempt = 0
        while True:
            try:
                with Transaction().start(database_name, 0, readonly=False,
                        context={'_request': request.context},
                        **extras) as transaction:
                    try:
                        response = func(request, pool, **kwargs)
                    except TransactionError as e:
                        transaction.rollback()
                        transaction.tasks.clear()
                        e.fix(extras)
                        continue
                    except (backend.DatabaseOperationalError,
                            ConcurrentPush):
                        transaction.rollback()
                        transaction.tasks.clear()
                        raise
                    transaction.commit()
                while transaction.tasks:
                    run_task(pool, transaction.tasks.pop())
                return response
            except (backend.DatabaseOperationalError, ConcurrentPush) as e:
                if isinstance(e, backend.DatabaseTimeoutError):
                    logger.warning("sync: statement timeout", exc_info=True)
                    return error_response(request,
                        HTTPStatus.SERVICE_UNAVAILABLE, 'busy',
                        "The server is busy, retry later.",
                        {'Retry-After': '5'})
                attempt += 1
                if time.monotonic() >= deadline:
                    logger.warning("sync: gave up after %s attempts",
                        attempt, exc_info=True)
                    return error_response(request,
                        HTTPStatus.SERVICE_UNAVAILABLE, 'busy',
                        "Another request of this terminal holds the data, "
                        "retry later.", {'Retry-After': '2'})
                logger.debug("sync: retry %s (%s)", attempt, e)
                time.sleep(min(0.02 * attempt, 0.5) * random.uniform(1, 1.5))
            except Exception:
                logger.exception("sync: %s failed", request.path)
                return error_response(request,
                    HTTPStatus.INTERNAL_SERVER_ERROR, 'server_error',
                    "The server failed to handle the request.")
    return wrapper


def sync_pool(database_name, request):
    """The initialised pool of database_name, or None if it does not exist
    or does not have the sync API activated (see retail/tenant.py)"""
    from trytond.modules.retail.tenant import READY, prepare
    if prepare(database_name, config.get_hostname(request.host)) != READY:
        return None
    pool = Pool(database_name)
    try:
        pool.get('retail.sync.device')
    except KeyError:
        return None
    return pool


def api(endpoint_name, authenticated=True, body_limit=None, kinds=None):
    """Wrap an endpoint: read the body (at most body_limit bytes, before
    anything else), authenticate the device, answer errors as JSON,
    record the request in the audit log and the device status.

    kinds: the device kinds the endpoint serves (retail.sync.device kind);
    by default tills only, and the endpoint gets the device's terminal;
    an endpoint of other kinds gets the device itself. A device of another
    kind is answered 403."""
    kinds = frozenset(kinds or {'till'})
    def decorator(func):
        @wraps(func)
        def wrapper(request, pool, **kwargs):
            pool_ = pool
            started = time.monotonic()
            Device = pool_.get('retail.sync.device')
            Request = pool_.get('retail.sync.request')
            log = {'endpoint': endpoint_name,
                'bytes_in': request.content_length or 0}
            terminal = None
            try:
                if body_limit is not None and not hasattr(
                        request, 'retail_body'):
                    # Once: a request started again (locks) reads it again
                    request.retail_body = read_body(request, body_limit)
                else:
                    request.__dict__['rpc_method'] = None
                if authenticated:
                    device = Device.authenticate(device_key(request))
                    if device is None:
                        raise ApiError(HTTPStatus.UNAUTHORIZED,
                            'unauthorized',
                            "Unknown or revoked device key.")
                    if device.kind not in kinds:
                        raise ApiError(HTTPStatus.FORBIDDEN, 'forbidden',
                            f"This endpoint does not serve a device of the "
                            f"kind {device.kind!r}.")
                    if device.kind != 'till':
                        with Transaction().set_context(
                                company=device.device_branch.company.id):
                            data, status = func(
                                request, pool_, device, log, **kwargs)
                    else:
                        terminal = device.terminal
                        log['terminal'] = terminal.id
                        with Transaction().set_context(
                                company=terminal.company.id):
                            data, status = func(
                                request, pool_, terminal, log, **kwargs)
                else:
                    data, status = func(request, pool_, None, log, **kwargs)
            except ApiError as e:
                data, status = {'error': {
                        'code': e.code, 'message': e.message}}, e.status
                if terminal is None:
                    return error_response(request, status, e.code,
                        e.message, e.headers)
                # Keep the refusal in the audit log, nothing else
                Transaction().rollback()
                headers = e.headers
            else:
                headers = None
            data['server_time'] = server_time()
            response = json_response(request, data, status)
            if headers:
                response.headers.update(headers)
            log.update(status=int(status),
                bytes_out=len(response.get_data()),
                duration=int((time.monotonic() - started) * 1000),
                remote_addr=request.remote_addr)
            if log.get('terminal'):
                Request.log(log)
            return response
        return wrapper
    return decorator


def update_status(pool, terminal, values):
    Push = pool.get('retail.sync.push')
    Push.lock_terminal(terminal, values)


def status_values(body, log):
    "The device status values of body (checked against DeviceStatus)"
    values = {}
    if body.get('app_version') is not None:
        values['device_app_version'] = body['app_version']
        log['app_version'] = values['device_app_version']
    if body.get('pending_operations') is not None:
        values['device_pending_operations'] = body['pending_operations']
    if body.get('cursor') is not None:
        try:
            parse_cursor(body['cursor'])
        except ValueError:
            pass
        else:
            values['device_cursor'] = body['cursor']
            log['cursor'] = body['cursor']
    return values


def route(path, methods):
    "Register an endpoint of the API under PREFIX"
    ENDPOINTS[path] = set(methods)

    def decorator(func):
        # The endpoint reads its body itself, within its own limit: this
        # keeps trytond from checking a login before routing
        func.max_request_size = MAX_PUSH_BYTES
        return app.route(PREFIX + path, methods=set(methods))(func)
    return decorator


@route('/enroll', methods={'POST'})
@sync_transaction
@api('enroll', authenticated=False, body_limit=schema.MAX_BODY_BYTES)
def enroll(request, pool, terminal, log):
    Device = pool.get('retail.sync.device')
    Attempt = pool.get('retail.sync.enroll.attempt')
    body = check_body(parse_body(request.retail_body), 'EnrollBody')
    code = body['code']
    device_name = body.get('device_name') or None
    address = request.remote_addr
    # Serialise the attempts: the throttle counts them exactly
    Attempt.lock()
    retry_after = Attempt.retry_after(address)
    if retry_after:
        Attempt.log(address, 'throttled', device_name=device_name)
        raise ApiError(HTTPStatus.TOO_MANY_REQUESTS, 'too_many_requests',
            "Too many failed enrollment attempts: retry after "
            f"{retry_after} s.", {'Retry-After': str(retry_after)})
    device, key = Device.enroll(code, device_name=device_name)
    if device is None:
        Attempt.log(address, 'refused', device_name=device_name)
        raise ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized',
            "Unknown, used or expired enrollment code.")
    Attempt.log(address, 'enrolled', terminal=device.terminal,
        device_name=device_name)
    if device.kind != 'till':
        answer = device.enrollment_answer()
        answer.update({
                'device_key': key,
                'database': Transaction().database.name,
                'protocol_version': PROTOCOL_VERSION,
                })
        return answer, HTTPStatus.OK
    terminal = device.terminal
    log['terminal'] = terminal.id
    update_status(pool, terminal, status_values(body, log))
    Operation = pool.get('retail.sync.operation')
    last_receipt, last_sequence = Operation.last_numbers(terminal)
    return {
        'device_key': key,
        # A device enrolled again for the terminal continues from these
        'last_receipt_number': last_receipt,
        'last_sequence': last_sequence,
        # and its receipt journal from this hash (docs/journal.md)
        'journal_head': Operation.journal_head(terminal),
        'terminal': {'id': terminal.id, 'name': terminal.name,
            'receipt_prefix': terminal.receipt_prefix},
        'branch': {'id': terminal.branch.id, 'code': terminal.branch.code,
            'name': terminal.branch.name},
        'database': Transaction().database.name,
        'protocol_version': PROTOCOL_VERSION,
        }, HTTPStatus.OK


def _limit(request, default, maximum):
    try:
        limit = int(request.args.get('limit', default))
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "limit must be an integer.")
    return max(1, min(limit, maximum))


@route('/bootstrap', methods={'GET'})
@sync_transaction
@api('bootstrap')
def bootstrap(request, pool, terminal, log):
    limit = _limit(request, 2000, 20000)
    token = request.args.get('page')
    state = None
    if token:
        try:
            state = decode_token(token)
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "Bad page token.")
        if state['v'] == 2 and max(r[0] for r in state['r']) >= len(
                pool.get('retail.sync.pull').kinds()):
            raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "Bad page token.")
    records, next_page, cursor, total = bootstrap_page(
        Scope(terminal), token, limit)
    log['records'] = (records.count if isinstance(records, KeptRecords)
        else sum(len(v) for v in records.values()))
    values = {}
    if cursor:
        log['cursor'] = values['device_cursor'] = cursor
    if not state or state['v'] == 1:
        # Not for the pages of a plan: the till asks for several at once,
        # and they would wait for each other on the terminal's row
        update_status(pool, terminal, values)
    return {'records': records, 'next_page': next_page,
        'cursor': cursor, 'total': total}, HTTPStatus.OK


@route('/bootstrap/plan', methods={'GET'})
@sync_transaction
@api('bootstrap_plan')
def bootstrap_plan_(request, pool, terminal, log):
    limit = _limit(request, 2000, 20000)
    pages, cursor, total = bootstrap_plan(Scope(terminal), limit)
    log['cursor'] = cursor
    update_status(pool, terminal, {})
    return {'pages': pages, 'cursor': cursor, 'total': total}, HTTPStatus.OK


@route('/changes', methods={'GET'})
@sync_transaction
@api('changes')
def changes(request, pool, terminal, log):
    limit = _limit(request, 500, 5000)
    cursor = request.args.get('cursor')
    try:
        parse_cursor(cursor)
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "Bad or missing cursor.")
    result, count, new_cursor, has_more = delta_page(
        Scope(terminal), cursor, limit, cache=page_cache())
    log['records'] = count
    log['cursor'] = new_cursor
    update_status(pool, terminal, {'device_cursor': cursor})
    return {'changes': result, 'cursor': new_cursor,
        'has_more': has_more}, HTTPStatus.OK


def body_list(request, key, limit):
    """The request's JSON body and its list under key, of at most limit
    items: a push of operations, counted entries or receipts"""
    body = parse_body(request.retail_body)
    items = body.get(key)
    if not isinstance(items, list):
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            f"{key} must be a list.")
    if len(items) > limit:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'too_large',
            f"At most {limit} {key} per push.")
    return body, items


@route('/push', methods={'POST'})
@sync_transaction
@api('push', body_limit=MAX_PUSH_BYTES)
def push(request, pool, terminal, log):
    Push = pool.get('retail.sync.push')
    body, operations = body_list(request, 'operations', MAX_OPERATIONS)
    check_body(body, 'PushBody')
    if body.get('terminal') not in (None, terminal.id):
        raise ApiError(HTTPStatus.FORBIDDEN, 'forbidden',
            "This key belongs to another terminal.")
    for operation in operations:
        if operation['terminal'] != terminal.id:
            raise ApiError(HTTPStatus.FORBIDDEN, 'forbidden',
                "An operation names another terminal than the key's.")
    # Serialise the pushes of this terminal before looking for replays
    update_status(pool, terminal, status_values(body, log))
    results = Push.push(terminal, operations)
    log['operations'] = len(results)
    for status in ['accepted', 'duplicate', 'rejected']:
        log[{'accepted': 'accepted', 'duplicate': 'duplicates',
                'rejected': 'rejected'}[status]] = sum(
            1 for r in results if r['status'] == status)
    Operation = pool.get('retail.sync.operation')
    # What the posting task has still to do for the terminal (this push's
    # sales included) and what it could not post
    posting = {'pending': 0, 'failed': 0}
    posting.update(Operation.pending_counts(terminal))
    return {'results': results, 'posting': posting}, HTTPStatus.OK



@route('/status', methods={'POST'})
@sync_transaction
@api('status', body_limit=schema.MAX_BODY_BYTES)
def status(request, pool, terminal, log):
    body = check_body(parse_body(request.retail_body, required=False),
        'DeviceStatus')
    update_status(pool, terminal, status_values(body, log))
    # the heartbeat of a till: a posting lost with a killed process is
    # queued again
    pool.get('retail.sync.operation').recover_posting(terminal)
    return {'terminal': terminal.id,
        'protocol_version': PROTOCOL_VERSION}, HTTPStatus.OK


def path_token(value, what):
    "A receipt number or UUID of a path: printable, at most 64 characters"
    if not (0 < len(value) <= 64 and value.isascii()
            and value.isprintable() and ' ' not in value):
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', f"No {what} "
            "has this name (at most 64 printable ASCII characters).")
    return value


@route('/receipts/<number>', methods={'GET'})
@sync_transaction
@api('receipt')
def receipt(request, pool, terminal, log, number):
    Operation = pool.get('retail.sync.operation')
    data = Operation.lookup_receipt(terminal, path_token(number, "receipt"))
    if data is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found',
            f"No receipt {number} in this company.")
    log['records'] = 1
    return data, HTTPStatus.OK


@route('/receipts', methods={'GET'})
@sync_transaction
@api('receipts')
def receipts(request, pool, terminal, log):
    Operation = pool.get('retail.sync.operation')
    update_status(pool, terminal, {})
    return Operation.receipt_report(terminal), HTTPStatus.OK


@route('/sessions/<uuid>', methods={'GET'})
@sync_transaction
@api('session')
def session(request, pool, terminal, log, uuid):
    "The server's X (open) or Z (closed) figures of a cash session"
    Session = pool.get('sale.point.cash.session')
    path_token(uuid, "cash session")
    sessions = Session.search([('retail_uuid', '=', uuid)])
    if not sessions:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found',
            f"No cash session {uuid}.")
    own = [s for s in sessions if s.point.id == terminal.id]
    if not own:
        raise ApiError(HTTPStatus.FORBIDDEN, 'forbidden',
            f"Cash session {uuid} belongs to another terminal.")
    log['records'] = 1
    session = own[0]
    # The figures read the recorded sales: they do not wait for posting
    return dict(session.sync_figures(), posting=session.posting_counts()
        ), HTTPStatus.OK


# None: any method, TRACE and QUERY included
ALL_METHODS = None


def _unknown(request, database_name, path=''):
    """Unknown paths and wrong methods of the API answer the JSON error,
    never the HTML page of the WSGI application"""
    request.__dict__['rpc_method'] = None
    rest = '/' + path.split('/', 1)[1] if '/' in path else None
    if path.startswith('v1') and rest is not None:
        for pattern, methods in ENDPOINTS.items():
            if _same_path(pattern, rest):
                allowed = sorted(methods | ({'HEAD'} if 'GET' in methods
                        else set()))
                return error_response(request,
                    HTTPStatus.METHOD_NOT_ALLOWED, 'method_not_allowed',
                    f"{request.method} is not allowed here: use "
                    f"{', '.join(sorted(methods))}.",
                    {'Allow': ', '.join(allowed)})
    return error_response(request, HTTPStatus.NOT_FOUND, 'not_found',
        "No such endpoint of the sync API (see docs/sync-protocol.md).")


def _same_path(pattern, path):
    parts, given = pattern.strip('/').split('/'), path.strip('/').split('/')
    return len(parts) == len(given) and all(
        p == g or (p.startswith('<') and g) for p, g in zip(parts, given))


_unknown.max_request_size = MAX_PUSH_BYTES
app.route('/<database_name>/retail_sync', methods=ALL_METHODS)(_unknown)
app.route('/<database_name>/retail_sync/', methods=ALL_METHODS)(_unknown)
app.route('/<database_name>/retail_sync/<path:path>',
    methods=ALL_METHODS)(_unknown)
