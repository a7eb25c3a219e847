# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The owner's dashboard page and its JSON and CSV routes, behind the back
office's own session (docs/reports.md, "Owner's dashboard")"""
import datetime as dt
import json
import os

from trytond.protocols.wrappers import HTTPStatus, Response, with_pool
from trytond.transaction import Transaction
from trytond.wsgi import app

PREFIX = '/<database_name>/retail_report/dashboard'
PAGE = os.path.join(os.path.dirname(__file__), 'dashboard.html')
MAX_BRANCHES = 1000
MAX_OFFLINE_MINUTES = 7 * 24 * 60


class DashboardError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _json(data, status=HTTPStatus.OK):
    return Response(json.dumps(data, separators=(',', ':')), status=status,
        headers={'Cache-Control': 'no-store'},
        content_type='application/json')


def _error(error):
    return _json({'error': error.code, 'message': error.message},
        status=error.status)


def _user(request):
    """The id of the back office user of the request's session (the
    web client's session cookie, or an Authorization: Session header)"""
    # Nothing reads the query as JSON-RPC
    request.__dict__['rpc_method'] = None
    try:
        user_id = request.user_id if request.session else None
    except (ValueError, TypeError):
        user_id = None
    if not user_id:
        raise DashboardError(HTTPStatus.UNAUTHORIZED, 'unauthorized',
            "Log in to the back office first.")
    return user_id


def parse_params(args):
    """(date or None, branch ids or None, offline minutes) of the query
    string; DashboardError 400 on a malformed value"""
    unknown = set(args) - {'date', 'branch', 'offline_minutes'}
    if unknown:
        raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
            f"Unknown parameter: {sorted(unknown)[0]}.")
    date = None
    values = args.getlist('date')
    if len(values) > 1:
        raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
            "date is given more than once.")
    if values and values[0]:
        try:
            if len(values[0]) != 10:
                raise ValueError
            date = dt.date.fromisoformat(values[0])
        except ValueError:
            raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "date must be a date YYYY-MM-DD.")
    branches = None
    values = [v for value in args.getlist('branch')
        for v in value.split(',') if v.strip()]
    if values:
        if len(values) > MAX_BRANCHES:
            raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
                f"At most {MAX_BRANCHES} branches.")
        try:
            branches = sorted({int(v) for v in values})
        except ValueError:
            raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "branch must be branch ids (integers).")
        if any(b <= 0 or b > 2 ** 31 - 1 for b in branches):
            raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "branch must be branch ids (integers).")
    offline = args.get('offline_minutes')
    if offline in (None, ''):
        offline = None
    else:
        try:
            offline = int(offline)
        except ValueError:
            offline = -1
        if not 1 <= offline <= MAX_OFFLINE_MINUTES:
            raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
                "offline_minutes must be an integer from 1 to "
                f"{MAX_OFFLINE_MINUTES}.")
    return date, branches, offline


def _figures(request, pool):
    "The dashboard figures for the request's user and query"
    date, branches, offline = parse_params(request.args)
    user_id = _user(request)
    with Transaction().start(pool.database_name, user_id, readonly=True,
            context={'_request': request.context}):
        Date = pool.get('ir.date')
        Dashboard = pool.get('retail.report.dashboard')
        context = Dashboard.user_context(user_id)
        with Transaction().set_context(context):
            if not Dashboard.may_see(user_id):
                raise DashboardError(HTTPStatus.FORBIDDEN, 'forbidden',
                    "The dashboard is for store managers and owners.")
            allowed = Dashboard.allowed_branches(user_id,
                company=context.get('company') or 0)
            if branches is None:
                branches = allowed
            elif set(branches) - set(allowed):
                raise DashboardError(HTTPStatus.FORBIDDEN, 'forbidden',
                    "Some of these branches are not yours: "
                    f"{sorted(set(branches) - set(allowed))}.")
            if date is None:
                date = Date.today()
            if not dt.date(2000, 1, 1) <= date <= dt.date(9999, 1, 1):
                raise DashboardError(HTTPStatus.BAD_REQUEST, 'bad_request',
                    "date is out of range.")
            kwargs = {}
            if offline is not None:
                kwargs['offline_minutes'] = offline
            figures = Dashboard.figures(date, branches, **kwargs)
            names = {b['id']: b['name'] for b in figures['branches']}
            missing = [b for b in allowed if b not in names]
            names.update((b.id, b.rec_name)
                for b in pool.get('retail.branch').browse(missing))
            figures['allowed_branches'] = [{'id': b, 'name': names[b]}
                for b in allowed]
            return Dashboard, figures


@app.route(PREFIX, methods={'GET'})
def page(request, database_name):
    """The dashboard page: no data in it, it asks the data route with the
    browser's session of the back office"""
    with open(PAGE, 'rb') as file:
        body = file.read()
    return Response(body, content_type='text/html; charset=utf-8',
        headers={'Cache-Control': 'no-store',
            'X-Content-Type-Options': 'nosniff',
            'Referrer-Policy': 'no-referrer'})


@app.route(PREFIX + '/data', methods={'GET'})
@with_pool
def data(request, pool):
    try:
        _, figures = _figures(request, pool)
    except DashboardError as e:
        return _error(e)
    return _json(figures)


@app.route(PREFIX + '/export.csv', methods={'GET'})
@with_pool
def export_csv(request, pool):
    try:
        Dashboard, figures = _figures(request, pool)
    except DashboardError as e:
        return _error(e)
    body = Dashboard.csv(figures).encode('utf-8')
    filename = f"dashboard-{figures['date']}.csv"
    return Response(body, content_type='text/csv; charset=utf-8',
        headers={'Cache-Control': 'no-store',
            'Content-Disposition': f'attachment; filename="{filename}"'})
