"""Benchmark: the owner's dashboard, a Z report and a session close on
PostgreSQL with 1,000,000 POS sale lines of scale data.

    .venv/bin/python tests/benchmarks/bench_dashboard.py [--lines N]
        [--session-sales N] [--runs N]

On a fresh demo database (the demo load is not timed), inserts in bulk (SQL
INSERT … SELECT) N sale lines, 4 per sale, over 35 days and the demo's three
terminals, about 2 % of the sales being returns and 10 % discounted; among
them, an open cash session of Brussels Till 1 today with --session-sales
sales and their cash payments. Then times, in the same run:

- the dashboard's answer (GET …/retail_report/dashboard/data through
  trytond's WSGI application, session checked), p50 and p95 of --runs;
- a plain Tryton search computing the same summary (sales, transactions,
  returns of today and a week ago: Sale.search + each sale's total);
- the session's Z report figures (report_figures) and its PDF;
- closing that session (Session.close, with its Z number and grand total).

Prints one JSON object with the figures; docs/benchmarks.md records them."""
import argparse
import base64
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'setup'))

from retail_setup import cli, server  # noqa: E402

DAYS = 35


def bulk(cursor, lines, session_sales, session_id, company, employee,
        method, tax, today):
    "Insert the sales, lines and session payments in SQL; return counts"
    cursor.execute('SELECT id FROM sale_point ORDER BY id')
    points = [r[0] for r in cursor.fetchall()]
    cursor.execute('SELECT p.id FROM product_product p '
        'JOIN product_template t ON t.id = p.template '
        'WHERE t.salable ORDER BY p.id')
    products = [r[0] for r in cursor.fetchall()]
    cursor.execute('SELECT point FROM sale_point_cash_session WHERE id = %s',
        (session_id,))
    session_point, = cursor.fetchone()
    cursor.execute('SELECT COALESCE(MAX(id), 0) FROM sale_point_sale')
    first_id, = cursor.fetchone()
    sales = lines // 4
    others = sales - session_sales
    # The other sales: spread over DAYS days and the terminals, 8:00-20:00
    cursor.execute('''
        INSERT INTO sale_point_sale (company, point, employee, date, state,
            number, client_time, create_date, create_uid)
        SELECT %(company)s, (%(points)s::int[])[1 + g %% %(n_points)s],
            %(employee)s, %(today)s::date - (g %% %(days)s),
            'done', 'BENCH-' || g,
            (%(today)s::date - (g %% %(days)s)) + interval '7 hour'
                + (g * 7 %% 43200) * interval '1 second',
            now(), 0
        FROM generate_series(1, %(others)s) g''', {
            'company': company, 'points': points, 'n_points': len(points),
            'employee': employee, 'today': today, 'days': DAYS,
            'others': others})
    # The session's sales: today, on its terminal, numbered 1..n
    cursor.execute('''
        INSERT INTO sale_point_sale (company, point, employee, date, state,
            number, client_time, create_date, create_uid, cash_session,
            receipt_number)
        SELECT %(company)s, %(point)s, %(employee)s, %(today)s::date,
            'done', 'BENCH-S-' || g,
            %(today)s::date + interval '7 hour'
                + (g * 4 %% 43200) * interval '1 second',
            now(), 0, %(session)s, 900000 + g
        FROM generate_series(1, %(n)s) g''', {
            'company': company, 'point': session_point,
            'employee': employee, 'today': today, 'session': session_id,
            'n': session_sales})
    cursor.execute('''
        INSERT INTO sale_point_sale_line (sale, product, quantity,
            unit_list_price, unit_gross_price, base_price, create_date,
            create_uid)
        SELECT s.id, (%(products)s::int[])[1 + (s.id * 7 + k) %% %(n)s],
            CASE WHEN s.id %% 50 = 0 THEN -1 ELSE 1 + (s.id + k) %% 3 END,
            ROUND((1.49 + (s.id + k) %% 20) / 1.06, 4),
            1.49 + (s.id + k) %% 20,
            CASE WHEN s.id %% 10 = 0 AND k = 1
                THEN 1.99 + (s.id + k) %% 20 ELSE 1.49 + (s.id + k) %% 20 END,
            now(), 0
        FROM sale_point_sale s, generate_series(1, 4) k
        WHERE s.id > %(first)s''', {
            'products': products, 'n': len(products), 'first': first_id})
    cursor.execute('''
        INSERT INTO sale_point_payment (sale, method, amount, session,
            create_date, create_uid)
        SELECT s.id, %(method)s,
            SUM(ROUND(l.quantity::numeric * l.unit_gross_price, 2)),
            %(session)s, now(), 0
        FROM sale_point_sale s
            JOIN sale_point_sale_line l ON l.sale = s.id
        WHERE s.cash_session = %(session)s
        GROUP BY s.id''', {'method': method, 'session': session_id})
    # The session as the till opened it and its sales as the till pushed
    # them: accepted operations with their summary (the figures the Z
    # adds up), numbered 1..n after the session_open
    session_uuid = f'bench-session-{session_id}'
    cursor.execute('UPDATE sale_point_cash_session SET retail_uuid = %s '
        'WHERE id = %s', (session_uuid, session_id))
    cursor.execute('''
        INSERT INTO retail_sync_operation (terminal, uuid, sequence, type,
            client_time, employee, payload, state, first_state, replays,
            create_date, create_uid)
        VALUES (%(point)s, %(uuid)s, 1, 'session_open', now(),
            %(employee)s, %(payload)s, 'accepted', 'accepted', 0, now(), 0)
        ''', {'point': session_point, 'uuid': session_uuid + '-open',
            'employee': employee, 'payload': json.dumps({
                    'type': 'session_open', 'payload': {
                        'session': session_uuid}})})
    cursor.execute('''
        INSERT INTO retail_sync_operation (terminal, uuid, sequence, type,
            client_time, employee, receipt_number, payload, state,
            first_state, replays, sale, posting, session, summary,
            create_date, create_uid)
        SELECT s.point, 'bench-sale-' || s.id, s.receipt_number - 900000 + 1,
            'sale', s.client_time, s.employee, s.receipt_number, '{}',
            'accepted', 'accepted', 0, s.id, 'posted', s.cash_session,
            json_build_object('total', t.total::text,
                'tax', (t.total - t.base)::text,
                'taxes', json_build_array(json_build_array(%(tax)s,
                        t.base::text, (t.total - t.base)::text)),
                'payments', json_build_array(json_build_array(%(method)s,
                        t.total::text)),
                'discount', t.discount::text)::text,
            now(), 0
        FROM sale_point_sale s
            JOIN (SELECT l.sale,
                    SUM(ROUND(l.quantity::numeric * l.unit_gross_price, 2))
                        AS total,
                    SUM(ROUND(l.quantity::numeric * l.unit_list_price, 2))
                        AS base,
                    SUM(CASE WHEN l.base_price > l.unit_gross_price
                        THEN ROUND(l.quantity::numeric * l.base_price, 2)
                        - ROUND(l.quantity::numeric * l.unit_gross_price, 2)
                        ELSE 0 END) AS discount
                FROM sale_point_sale_line l GROUP BY l.sale) t
                ON t.sale = s.id
        WHERE s.cash_session = %(session)s AND s.id > %(first)s''', {
            'tax': tax, 'method': method, 'session': session_id,
            'first': first_id})
    cursor.execute('SELECT COUNT(*) FROM sale_point_sale_line l '
        'WHERE l.sale > %s', (first_id,))
    made_lines, = cursor.fetchone()
    for table in ['sale_point_sale', 'sale_point_sale_line',
            'sale_point_payment', 'retail_sync_operation']:
        cursor.execute(f'ANALYZE {table}')
    return sales, made_lines


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def percentiles(times):
    times = sorted(times)
    return {
        'runs': len(times),
        'p50': round(statistics.median(times) * 1000),
        'p95': round(times[max(0, int(len(times) * 0.95) - 1)] * 1000),
        'max': round(times[-1] * 1000)}


def ratio(plain, fast):
    return round(plain / fast, 1) if fast else None


def measure(config_path, database, lines, session_sales, runs,
        dashboard_only=False, no_insert=False):
    from trytond import config as tconfig
    tconfig.update_etc(config_path)
    from trytond.pool import Pool
    from trytond.protocols.wrappers import Response
    from trytond.tests.test_tryton import Client
    from trytond.transaction import Transaction, TransactionError
    from trytond.wsgi import app

    Pool.start()
    pool = Pool(database)
    pool.init()
    result = {'lines': lines, 'session_sales': session_sales}
    extras = {'_lock_tables': ['sale_point_cash_session']}
    # The tables sale_point's get_current and create lock
    with Transaction().start(database, 0, **extras) as transaction:
        User = pool.get('res.user')
        Session = pool.get('sale.point.cash.session')
        Point = pool.get('sale.point')
        Method = pool.get('sale.point.payment.method')
        Date = pool.get('ir.date')
        Tax = pool.get('account.tax')
        Summary = pool.get('retail.report.sales_summary')
        admin, = User.search([('login', '=', 'admin')])
        company = admin.company
        with transaction.set_context(company=company.id):
            today = Date.today()
            point, = Point.search([('receipt_prefix', '=', 'BXL1')])
            sessions = Session.search([('point', '=', point.id),
                    ('state', '=', 'open')], limit=1)
            if sessions:
                session, = sessions
            else:
                session, = Session.create([{'point': point.id}])
            method, = Method.search([('cash', '=', True)], limit=1)
            tax, = Tax.search([('type', '=', 'percentage'),
                    ('rate', '=', Decimal('.06'))], limit=1)
            employee = admin.employee.id if admin.employee else None
            cursor = transaction.connection.cursor()
            if not dashboard_only and not no_insert:
                seconds, (sales, made) = timed(bulk, cursor, lines,
                    session_sales, session.id, company.id, employee,
                    method.id, tax.id, today)
                result.update({'bulk_insert_s': round(seconds, 1),
                        'sales': sales, 'lines_made': made})
                # The scale data fills the dashboard's summaries
                seconds, _ = timed(Summary.rebuild)
                result['summary_rebuild_s'] = round(seconds, 1)
            cursor.execute('SELECT COUNT(*) FROM sale_point_sale_line')
            result['lines_in_database'], = cursor.fetchone()
            session_id = session.id
        with transaction.set_user(admin.id):
            Session_ = pool.get('ir.session')
            key = Session_.new()
        transaction.commit()
    token = base64.b64encode(
        f'admin:{admin.id}:{key}'.encode()).decode()
    client = Client(app, Response)
    url = f'/{database}/retail_report/dashboard/data'
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        response = client.get(url, headers={
                'Authorization': f'Session {token}'})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.get_data()[:500]
        if i:  # the first warms trytond's caches
            times.append(elapsed)
    answer = json.loads(response.get_data())
    result['dashboard_ms'] = percentiles(times)
    result['dashboard_today'] = answer['today']
    print(json.dumps(result, default=str), file=sys.stderr, flush=True)
    if dashboard_only:
        return result
    with Transaction().start(database, admin.id, readonly=True,
            context={'company': company.id}):
        Sale = pool.get('sale.point.sale')
        last_week = today - dt.timedelta(days=7)

        def plain():
            "The dashboard's summary of the two days by a Tryton search"
            sales = Sale.search([('date', 'in', [today, last_week]),
                    ('state', 'in', ['done', 'posted'])])
            figures = {}
            for sale in sales:
                values = figures.setdefault(sale.date, [0, 0, 0, 0])
                total = sale.total
                if total >= 0:
                    values[0] += total
                    values[1] += 1
                else:
                    values[2] += 1
                    values[3] += total
            return figures
        seconds, figures = timed(plain)
        result['plain_search_s'] = round(seconds, 2)
        result['dashboard_ratio'] = ratio(
            seconds, result['dashboard_ms']['p50'] / 1000)
        values = figures.get(today, [0, 0, 0, 0])
        result['plain_today'] = {'sales': str(values[0]),
            'transactions': values[1], 'returns': values[2],
            'returns_total': str(values[3])}
        result['same_figures'] = (
            result['plain_today']['sales'] == answer['today']['sales']
            and values[1] == answer['today']['transactions']
            and values[2] == answer['today']['returns'])
        print(json.dumps(result, default=str), file=sys.stderr, flush=True)

        Session = pool.get('sale.point.cash.session')
        session = Session(session_id)
        z_times = []
        for i in range(4):
            seconds, z = timed(Session(session_id).report_figures)
            if i:
                z_times.append(seconds)
        result['z_figures_ms'] = percentiles(z_times)
        result['z_sales'] = z['sales']
        result['z_net'] = z['net']
        Report = pool.get('retail.report.z', type='report')
        ActionReport = pool.get('ir.action.report')
        action, = ActionReport.search(
            [('report_name', '=', 'retail.report.z')], limit=1)
        seconds, _ = timed(Report.execute, [session_id],
            {'action_id': action.id, 'model': 'sale.point.cash.session'})
        result['z_report_pdf_s'] = round(seconds, 2)

        def plain_z():
            "The Z's sales, net and taxes by a Tryton search of its sales"
            sales = Sale.search([('cash_session', '=', session_id),
                    ('state', 'in', ['done', 'posted'])])
            net = tax = Decimal(0)
            by_method = {}
            for sale in sales:
                net += sale.total
                tax += sale.total_tax
                for payment in sale.payments:
                    by_method[payment.method.id] = by_method.get(
                        payment.method.id, Decimal(0)) + payment.amount
            return len(sales), net, tax
        seconds, (_, net, _) = timed(plain_z)
        result['plain_z_s'] = round(seconds, 2)
        result['z_ratio'] = ratio(
            seconds, result['z_figures_ms']['p50'] / 1000)
        result['z_same_net'] = str(net) == z['net']
        print(json.dumps(result, default=str), file=sys.stderr, flush=True)

    # Closing the session as the till does: its session_close pushed (the
    # close, the cash difference, the Z number and grand total, the Z's
    # figures as the answer), then rolled back; and Session.close alone
    extras = {}
    while True:
        with Transaction().start(database, admin.id,
                context={'company': company.id}, **extras) as transaction:
            Push = pool.get('retail.sync.push')
            Session = pool.get('sale.point.cash.session')
            Point = pool.get('sale.point')
            session = Session(session_id)
            counted = session.start_amount + session.balance
            operation = {
                'uuid': f'bench-close-{session_id}',
                'type': 'session_close',
                'terminal': session.point.id,
                'sequence': session_sales + 2,
                'client_time': dt.datetime.now(dt.timezone.utc).isoformat(),
                'employee': employee,
                'payload': {'session': session.retail_uuid,
                    'counted_cash': str(counted)},
                }
            try:
                seconds, answer = timed(Push.push, Point(session.point.id),
                    [operation])
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                continue
            assert answer[0]['status'] == 'accepted', answer
            result['close_push_s'] = round(seconds, 2)
            figures = answer[0]['result']['figures']
            result['close_z_number'] = figures['z_number']
            result['close_z_sales'] = figures['sales']
            transaction.rollback()
        break
    extras = {}
    while True:
        with Transaction().start(database, admin.id,
                context={'company': company.id}, **extras) as transaction:
            Session = pool.get('sale.point.cash.session')
            session = Session(session_id)
            session.end_amount = session.start_amount + session.balance
            session.save()
            try:
                seconds, _ = timed(Session.close, [session])
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                continue
            result['close_s'] = round(seconds, 2)
            result['z_number'] = Session(session_id).retail_z_number
            transaction.rollback()
        break
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--lines', type=int, default=1_000_000)
    parser.add_argument('--session-sales', type=int, default=10_000)
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--one', help=argparse.SUPPRESS)
    parser.add_argument('--database', metavar='CONFIG|NAME',
        help="measure on this existing demo database (it receives the "
        "scale data) instead of a fresh one on a temporary server")
    parser.add_argument('--dashboard-only', action='store_true',
        help="with --database: no insert, time the dashboard only")
    parser.add_argument('--no-insert', action='store_true',
        help="with --database: no insert, time everything on the data "
        "there")
    args = parser.parse_args()
    args.one = args.one or args.database
    if args.one:
        config, name = args.one.split('|')
        print(json.dumps(measure(config, name, args.lines,
                    args.session_sales, args.runs,
                    dashboard_only=args.dashboard_only,
                    no_insert=args.no_insert), default=str))
        return
    from tests.support.servers import PostgresServer
    with PostgresServer(reuse_env=False) as pg, \
            tempfile.TemporaryDirectory() as directory:
        backend, uri = server.parse_db_uri(pg.uri)
        name = 'bench_dashboard'
        config = os.path.join(directory, f'{name}.conf')
        server.write_config(config, uri, server.free_or_given_port(None),
            db_path=os.path.join(directory, 'db'))
        server.create_database(backend, uri, name,
            db_path=os.path.join(directory, 'db'))
        server.initialize_database(config, name, cli.ADMIN_PASSWORD,
            modules=cli._modules())
        cli.load_demo(config, name, say=lambda *a: None)
        out = subprocess.run([sys.executable, __file__,
                '--one', f'{config}|{name}', '--lines', str(args.lines),
                '--session-sales', str(args.session_sales),
                '--runs', str(args.runs)],
            capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result['load_average'] = os.getloadavg()
        print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
