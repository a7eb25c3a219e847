# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The sync API: see docs/sync-protocol.md"
import datetime as dt
import gzip
import json
import time
from functools import wraps

from trytond.protocols.wrappers import (
    HTTPStatus, Response, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .changelog import parse_cursor
from .pull import Scope, bootstrap_page, decode_token, delta
from .push import MAX_OPERATIONS

PREFIX = '/<database_name>/retail_sync/v1'
MAX_PUSH_BYTES = 32 * 1024 * 1024


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def server_time():
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')


def json_response(request, data, status=HTTPStatus.OK):
    body = json.dumps(data, separators=(',', ':')).encode('utf-8')
    headers = {'Vary': 'Accept-Encoding', 'Cache-Control': 'no-store'}
    if 'gzip' in (request.headers.get('Accept-Encoding') or ''):
        body = gzip.compress(body, compresslevel=5)
        headers['Content-Encoding'] = 'gzip'
    return Response(body, status=status, headers=headers,
        content_type='application/json')


def read_json(request):
    data = request.get_data(cache=True)
    if (request.headers.get('Content-Encoding') or '').lower() == 'gzip':
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "The body is not valid gzip.")
    try:
        value = json.loads(data or b'null')
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "The body is not valid JSON.")
    if not isinstance(value, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "The body must be a JSON object.")
    return value


def device_key(request):
    header = request.headers.get('Authorization') or ''
    scheme, _, key = header.partition(' ')
    if scheme.lower() != 'bearer' or not key.strip():
        return None
    return key.strip()


def api(endpoint_name, authenticated=True):
    """Wrap an endpoint: authenticate the device, answer errors as JSON,
    record the request in the audit log and the device status"""
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
                if authenticated:
                    device = Device.authenticate(device_key(request))
                    if device is None:
                        raise ApiError(HTTPStatus.UNAUTHORIZED,
                            'unauthorized',
                            "Unknown or revoked device key.")
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
                    return json_response(request, data, status)
                # Keep the refusal in the audit log, nothing else
                Transaction().rollback()
            data['server_time'] = server_time()
            response = json_response(request, data, status)
            log.update(status=int(status),
                bytes_out=len(response.get_data()),
                duration=int((time.monotonic() - started) * 1000),
                remote_addr=request.remote_addr)
            if log.get('terminal'):
                Request.create([log])
            return response
        return wrapper
    return decorator


def update_status(pool, terminal, values):
    Push = pool.get('retail.sync.push')
    Push.lock_terminal(terminal, values)


def status_values(body, log):
    values = {}
    if isinstance(body.get('app_version'), str):
        values['device_app_version'] = body['app_version'][:64]
        log['app_version'] = values['device_app_version']
    if isinstance(body.get('pending_operations'), int):
        values['device_pending_operations'] = body['pending_operations']
    if isinstance(body.get('cursor'), str):
        try:
            parse_cursor(body['cursor'])
        except ValueError:
            pass
        else:
            values['device_cursor'] = body['cursor']
            log['cursor'] = body['cursor']
    return values


@app.route(PREFIX + '/enroll', methods={'POST'})
@with_pool
@with_transaction(readonly=False)
@api('enroll', authenticated=False)
def enroll(request, pool, terminal, log):
    Device = pool.get('retail.sync.device')
    body = read_json(request)
    code = body.get('code')
    if not isinstance(code, str):
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "code is required.")
    device, key = Device.enroll(code, device_name=str(
            body.get('device_name') or '')[:128] or None)
    if device is None:
        raise ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized',
            "Unknown, used or expired enrollment code.")
    terminal = device.terminal
    log['terminal'] = terminal.id
    update_status(pool, terminal, status_values(body, log))
    return {
        'device_key': key,
        'terminal': {'id': terminal.id, 'name': terminal.name,
            'receipt_prefix': terminal.receipt_prefix},
        'branch': {'id': terminal.branch.id, 'code': terminal.branch.code,
            'name': terminal.branch.name},
        'database': Transaction().database.name,
        }, HTTPStatus.OK


def _limit(request, default, maximum):
    try:
        limit = int(request.args.get('limit', default))
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "limit must be an integer.")
    return max(1, min(limit, maximum))


@app.route(PREFIX + '/bootstrap', methods={'GET'})
@with_pool
@with_transaction(readonly=False)
@api('bootstrap')
def bootstrap(request, pool, terminal, log):
    limit = _limit(request, 2000, 20000)
    token = request.args.get('page')
    if token:
        try:
            decode_token(token)
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "Bad page token.")
    records, next_page, cursor = bootstrap_page(
        Scope(terminal), token, limit)
    log['records'] = sum(len(v) for v in records.values())
    values = {}
    if cursor:
        log['cursor'] = values['device_cursor'] = cursor
    update_status(pool, terminal, values)
    return {'records': records, 'next_page': next_page,
        'cursor': cursor}, HTTPStatus.OK


@app.route(PREFIX + '/changes', methods={'GET'})
@with_pool
@with_transaction(readonly=False)
@api('changes')
def changes(request, pool, terminal, log):
    limit = _limit(request, 500, 5000)
    cursor = request.args.get('cursor')
    try:
        parse_cursor(cursor)
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "Bad or missing cursor.")
    result, new_cursor, has_more = delta(Scope(terminal), cursor, limit)
    log['records'] = len(result)
    log['cursor'] = new_cursor
    update_status(pool, terminal, {'device_cursor': cursor})
    return {'changes': result, 'cursor': new_cursor,
        'has_more': has_more}, HTTPStatus.OK


@app.route(PREFIX + '/push', methods={'POST'})
@with_pool
@with_transaction(readonly=False)
@api('push')
def push(request, pool, terminal, log):
    Push = pool.get('retail.sync.push')
    body = read_json(request)
    operations = body.get('operations')
    if not isinstance(operations, list):
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "operations must be a list.")
    if len(operations) > MAX_OPERATIONS:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 'too_large',
            f"At most {MAX_OPERATIONS} operations per push.")
    if body.get('terminal') not in (None, terminal.id):
        raise ApiError(HTTPStatus.FORBIDDEN, 'forbidden',
            "This key belongs to another terminal.")
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(
                operation.get('uuid'), str) or not (
                0 < len(operation['uuid']) <= 64):
            raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "Each operation needs a uuid.")
        if operation.get('terminal') != terminal.id:
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
    return {'results': results}, HTTPStatus.OK


push.max_request_size = MAX_PUSH_BYTES


@app.route(PREFIX + '/status', methods={'POST'})
@with_pool
@with_transaction(readonly=False)
@api('status')
def status(request, pool, terminal, log):
    body = read_json(request)
    update_status(pool, terminal, status_values(body, log))
    return {'terminal': terminal.id}, HTTPStatus.OK


@app.route(PREFIX + '/receipts', methods={'GET'})
@with_pool
@with_transaction(readonly=False)
@api('receipts')
def receipts(request, pool, terminal, log):
    Operation = pool.get('retail.sync.operation')
    update_status(pool, terminal, {})
    return Operation.receipt_report(terminal), HTTPStatus.OK
