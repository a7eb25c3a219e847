# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The owner's dashboard: the figures of a day across the branches a user
may see, aggregated in SQL (docs/reports.md, "Owner's dashboard")"""
import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sql.aggregate import Count, Sum
from sql.conditionals import Case

from trytond.cache import Cache
from trytond.model import Model
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

CENT = Decimal('0.01')
# A terminal not seen for longer than this is flagged offline (minutes)
OFFLINE_MINUTES = 15
TOP_PRODUCTS = 10
# How long the dashboard keeps a product's name
PRODUCT_NAMES_MINUTES = 5


def money(value):
    "value (Decimal, float or None from the database) as a Decimal in cents"
    if value is None:
        return Decimal(0).quantize(CENT)
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT)


def text(value):
    "Decimal money as the JSON string '1234.50'"
    return str(money(value))


class Dashboard(Model):
    "The owner's dashboard of the branches a user may see"
    __name__ = 'retail.report.dashboard'
    _product_names_cache = Cache('retail_report.dashboard.product_names',
        duration=dt.timedelta(minutes=PRODUCT_NAMES_MINUTES), context=False)

    @classmethod
    def may_see(cls, user_id):
        "Whether user_id may open the dashboard: a store manager or owner"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        with Transaction().set_user(user_id):
            groups = set(User.get_groups())
        return bool(groups & {
                ModelData.get_id('retail', 'group_store_manager'),
                ModelData.get_id('retail', 'group_super_admin')})

    @classmethod
    def user_context(cls, user_id):
        """The context the dashboard is computed in for user_id: their
        current company, employee and language (what the figures, the
        business date and the names depend on), read at once instead of
        the whole preferences of the user"""
        pool = Pool()
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        user = User.__table__()
        lang = Lang.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*user.join(lang, 'LEFT',
                condition=user.language == lang.id).select(
                user.company, user.employee, lang.code,
                where=user.id == user_id))
        row = cursor.fetchone()
        if not row:
            return {}
        company, employee, language = row
        context = {'company': company, 'employee': employee}
        if language:
            context['language'] = language
        return context

    @classmethod
    def allowed_branches(cls, user_id, company=None):
        """The ids of the active branches user_id may see on the dashboard:
        every branch of their company for a Super Admin, their own
        branches (managed or worked in, as the back office's record rules
        scope them) for anyone else"""
        pool = Pool()
        User = pool.get('res.user')
        Branch = pool.get('retail.branch')
        ModelData = pool.get('ir.model.data')
        if company is None:
            company = cls.user_context(user_id).get('company')
        with Transaction().set_user(user_id), \
                Transaction().set_context(_check_access=False):
            groups = User.get_groups()
            super_admin = ModelData.get_id('retail', 'group_super_admin')
            domain = []
            if company:
                domain.append(('company', '=', company))
            if user_id != 0 and super_admin not in groups:
                domain.append(('id', 'in', User.get_branches()))
            return [b.id for b in Branch.search(domain, order=[
                        ('name', 'ASC'), ('id', 'ASC')])]

    @classmethod
    def _sales_rows(cls, dates, branch_ids):
        """Rows (branch, date, hour, sales, sales_total, returns,
        returns_total, discounts) of the sales of branch_ids on dates, hour
        in UTC; a sale whose total is negative is a return.  Read from the
        summary kept when the sales are recorded (summary.py)"""
        pool = Pool()
        Summary = pool.get('retail.report.sales_summary')
        Point = pool.get('sale.point')
        summary = Summary.__table__()
        point = Point.__table__()
        query = (summary
            .join(point, condition=summary.point == point.id)
            .select(point.branch, summary.date, summary.hour,
                Sum(summary.sales), Sum(summary.sales_total),
                Sum(summary.returns), Sum(summary.returns_total),
                Sum(summary.discounts),
                where=summary.date.in_(list(dates))
                & point.branch.in_(list(branch_ids)),
                group_by=[point.branch, summary.date, summary.hour]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        for row in cursor:
            branch, date, hour = row[:3]
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            yield (branch, date, int(hour or 0), int(row[3] or 0),
                money(row[4]), int(row[5] or 0), money(row[6]),
                money(row[7]))

    @classmethod
    def _top_products(cls, date, branch_ids, limit=TOP_PRODUCTS):
        """[(product id, quantity, amount)] sold on date, largest amount
        first, from the summary of the products sold per terminal and day"""
        pool = Pool()
        Summary = pool.get('retail.report.product_summary')
        Point = pool.get('sale.point')
        summary = Summary.__table__()
        point = Point.__table__()
        amount = Sum(summary.amount)
        query = (summary
            .join(point, condition=summary.point == point.id)
            .select(summary.product, Sum(summary.quantity), amount,
                where=(summary.date == date)
                & point.branch.in_(list(branch_ids)),
                group_by=[summary.product],
                having=(amount != 0) | (Sum(summary.quantity) != 0),
                order_by=[amount.desc, summary.product.asc],
                limit=limit))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return [(p, q or 0, money(a)) for p, q, a in cursor]

    @classmethod
    def _product_names(cls, product_ids):
        """{product id: (code, name)} in the context's language; kept a
        few minutes (PRODUCT_NAMES_MINUTES): a variant's name takes several
        queries and the top products of a day change little"""
        Product = Pool().get('product.product')
        language = Transaction().language
        names, missing = {}, []
        for product_id in product_ids:
            cached = cls._product_names_cache.get((language, product_id))
            if cached is None:
                missing.append(product_id)
            else:
                names[product_id] = tuple(cached)
        for product in Product.browse(missing):
            names[product.id] = (product.code, product.rec_name)
            cls._product_names_cache.set(
                (language, product.id), list(names[product.id]))
        return names

    @classmethod
    def _conflicts(cls, branch_ids):
        """{branch: [rejected, posting failed]}: the operations waiting in
        Retail › Sync › Conflicts"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Point = pool.get('sale.point')
        operation = Operation.__table__()
        point = Point.__table__()
        query = (operation
            .join(point, condition=operation.terminal == point.id)
            .select(point.branch,
                Count(Case((operation.state == 'rejected', operation.id))),
                Count(Case(((operation.state != 'rejected')
                            & (operation.posting == 'failed'),
                            operation.id))),
                where=point.branch.in_(list(branch_ids))
                & ((operation.state == 'rejected')
                    | (operation.posting == 'failed')),
                group_by=[point.branch]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return {b: [int(r or 0), int(f or 0)] for b, r, f in cursor}

    @classmethod
    def _stock_alerts(cls, branch_ids):
        """{branch: {'low_stock': n, 'near_expiry': n, 'expired': n}} from
        retail_stock's lists, empty when retail_stock is not activated"""
        pool = Pool()
        result = defaultdict(dict)
        try:
            LowStock = pool.get('retail.stock.low')
            LotExpiry = pool.get('retail.stock.lot.expiry')
        except KeyError:
            return result
        cursor = Transaction().connection.cursor()
        low = LowStock.table_query()
        cursor.execute(*low.select(low.branch, Count(low.id),
                where=low.branch.in_(list(branch_ids)),
                group_by=[low.branch]))
        for branch, count in cursor:
            result[branch]['low_stock'] = int(count)
        expiry = LotExpiry.table_query()
        cursor.execute(*expiry.select(expiry.branch,
                Count(Case((expiry.state == 'near', expiry.id))),
                Count(Case((expiry.state == 'expired', expiry.id))),
                where=expiry.branch.in_(list(branch_ids)),
                group_by=[expiry.branch]))
        for branch, near, expired in cursor:
            result[branch]['near_expiry'] = int(near or 0)
            result[branch]['expired'] = int(expired or 0)
        return result

    @classmethod
    def _terminals(cls, branch_ids, now, offline_minutes):
        "The health of the terminals of branch_ids, by branch then name"
        pool = Pool()
        Point = pool.get('sale.point')
        point = Point.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*point.select(
                point.id, point.branch, point.name, point.device_state,
                point.device_last_seen, point.device_pending_operations,
                point.device_app_version,
                where=point.branch.in_(list(branch_ids)),
                order_by=[point.branch.asc, point.name.asc, point.id.asc]))
        limit = dt.timedelta(minutes=offline_minutes)
        terminals = []
        for (id_, branch, name, state, last_seen, pending,
                version) in cursor:
            if isinstance(last_seen, str):
                last_seen = dt.datetime.fromisoformat(last_seen)
            enrolled = state == 'enrolled'
            offline = enrolled and (
                last_seen is None or now - last_seen > limit)
            terminals.append({
                    'id': id_,
                    'branch': branch,
                    'name': name,
                    'device_state': state or 'unenrolled',
                    'last_seen': (last_seen.replace(microsecond=0)
                        .isoformat() + 'Z' if last_seen else None),
                    'minutes_since_seen': (
                        int((now - last_seen).total_seconds() // 60)
                        if last_seen else None),
                    'unsynced_operations': int(pending or 0),
                    'app_version': version,
                    'offline': bool(offline),
                    })
        return terminals

    @classmethod
    def figures(cls, date, branch_ids, offline_minutes=OFFLINE_MINUTES,
            now=None):
        """The dashboard of date for branch_ids (already allowed): a dict
        ready for JSON, money as decimal strings (docs/reports.md)"""
        pool = Pool()
        Branch = pool.get('retail.branch')
        if now is None:
            now = dt.datetime.utcnow()
        # The sales recorded by the transaction itself
        pool.get('retail.report.sales_summary').flush()
        previous = date - dt.timedelta(days=7)
        branches = Branch.browse(branch_ids)
        zones = {}
        for branch in branches:
            zones[branch.id] = cls._offset_hours(branch, date)
        empty = {'sales': 0, 'sales_total': Decimal(0), 'returns': 0,
            'returns_total': Decimal(0), 'discounts': Decimal(0)}
        totals = {d: {b: dict(empty) for b in branch_ids}
            for d in (date, previous)}
        hourly = {d: [[0, Decimal(0)] for _ in range(24)]
            for d in (date, previous)}
        if branch_ids:
            rows = cls._sales_rows((date, previous), branch_ids)
        else:
            rows = []
        for (branch, day, hour, sales, sales_total, returns,
                returns_total, discounts) in rows:
            values = totals[day][branch]
            values['sales'] += sales
            values['sales_total'] += sales_total
            values['returns'] += returns
            values['returns_total'] += returns_total
            values['discounts'] += discounts
            local = (hour + zones.get(branch, 0)) % 24
            hourly[day][local][0] += sales + returns
            hourly[day][local][1] += sales_total + returns_total

        def summary(values_list):
            sums = dict(empty)
            for values in values_list:
                for key in sums:
                    sums[key] += values[key]
            net = sums['sales_total'] + sums['returns_total']
            return {
                'sales': text(sums['sales_total']),
                'net': text(net),
                'transactions': sums['sales'],
                'average_basket': text(sums['sales_total'] / sums['sales']
                    if sums['sales'] else 0),
                'returns': sums['returns'],
                'returns_total': text(sums['returns_total']),
                'discounts': text(sums['discounts']),
                }

        def period(day, ids):
            return summary([totals[day][b] for b in ids])

        conflicts = cls._conflicts(branch_ids) if branch_ids else {}
        alerts = cls._stock_alerts(branch_ids) if branch_ids else {}
        terminals = (cls._terminals(branch_ids, now, offline_minutes)
            if branch_ids else [])
        top = cls._top_products(date, branch_ids) if branch_ids else []
        products = cls._product_names([p for p, _, _ in top])
        try:
            pool.get('retail.stock.low')
            stock_available = True
        except KeyError:
            stock_available = False

        def alert(branch_id, key):
            return alerts.get(branch_id, {}).get(key, 0)

        cards = []
        for branch in branches:
            own = [t for t in terminals if t['branch'] == branch.id]
            cards.append({
                    'id': branch.id,
                    'code': getattr(branch, 'code', None),
                    'name': branch.rec_name,
                    'today': period(date, [branch.id]),
                    'last_week': period(previous, [branch.id]),
                    'terminals': len(own),
                    'terminals_offline': sum(t['offline'] for t in own),
                    'unsynced_operations': sum(
                        t['unsynced_operations'] for t in own),
                    'conflicts': conflicts.get(branch.id, [0, 0])[0],
                    'posting_failed': conflicts.get(branch.id, [0, 0])[1],
                    'low_stock': alert(branch.id, 'low_stock'),
                    'near_expiry': alert(branch.id, 'near_expiry'),
                    'expired': alert(branch.id, 'expired'),
                    })
        return {
            'date': date.isoformat(),
            'compared_with': previous.isoformat(),
            'generated_at': now.replace(microsecond=0).isoformat() + 'Z',
            'offline_minutes': offline_minutes,
            'stock_alerts': stock_available,
            'branches': [{'id': b.id, 'name': b.rec_name} for b in branches],
            'today': period(date, branch_ids),
            'last_week': period(previous, branch_ids),
            'hourly': [{
                    'hour': h,
                    'transactions': hourly[date][h][0],
                    'net': text(hourly[date][h][1]),
                    'last_week_transactions': hourly[previous][h][0],
                    'last_week_net': text(hourly[previous][h][1]),
                    } for h in range(24)],
            'top_products': [{
                    'id': p,
                    'code': products.get(p, (None, ''))[0],
                    'name': products.get(p, (None, ''))[1],
                    'quantity': q,
                    'amount': text(a),
                    } for p, q, a in top],
            'cards': cards,
            'totals': {
                'low_stock': sum(c['low_stock'] for c in cards),
                'near_expiry': sum(c['near_expiry'] for c in cards),
                'expired': sum(c['expired'] for c in cards),
                'conflicts': sum(c['conflicts'] for c in cards),
                'posting_failed': sum(c['posting_failed'] for c in cards),
                'terminals_offline': sum(
                    c['terminals_offline'] for c in cards),
                'unsynced_operations': sum(
                    c['unsynced_operations'] for c in cards),
                },
            'terminals': terminals,
            }

    @classmethod
    def _offset_hours(cls, branch, date):
        """The whole hours to add to a UTC hour for the branch's local time
        on date (its timezone, else the company's, else UTC)"""
        name = getattr(branch, 'timezone', None) or getattr(
            branch.company, 'timezone', None)
        if not name:
            return 0
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return 0
        noon = dt.datetime.combine(date, dt.time(12), tzinfo=zone)
        return int(noon.utcoffset().total_seconds() // 3600)

    @classmethod
    def csv(cls, figures):
        """The figures as CSV (UTF-8, comma, CRLF): one row per figure,
        columns section, branch, key, today, last_week"""
        output = io.StringIO()
        writer = csv.writer(output, lineterminator='\r\n')
        writer.writerow(['section', 'branch', 'key', 'value',
                'last_week'])
        keys = ['sales', 'transactions', 'average_basket', 'returns',
            'returns_total', 'discounts', 'net']
        for key in keys:
            writer.writerow(['summary', '', key, figures['today'][key],
                    figures['last_week'][key]])
        for card in figures['cards']:
            for key in keys:
                writer.writerow(['branch', card['name'], key,
                        card['today'][key], card['last_week'][key]])
            for key in ['terminals', 'terminals_offline',
                    'unsynced_operations', 'conflicts', 'posting_failed',
                    'low_stock', 'near_expiry', 'expired']:
                writer.writerow(['branch', card['name'], key, card[key], ''])
        for hour in figures['hourly']:
            writer.writerow(['hourly', '', f"{hour['hour']:02d}",
                    hour['net'], hour['last_week_net']])
        for product in figures['top_products']:
            writer.writerow(['top_product', '', product['name'],
                    product['amount'], ''])
        names = {b['id']: b['name'] for b in figures['branches']}
        for terminal in figures['terminals']:
            writer.writerow(['terminal', names.get(terminal['branch'], ''),
                    terminal['name'], terminal['last_seen'] or '',
                    ''])
        return output.getvalue()


class Action(metaclass=PoolMeta):
    __name__ = 'ir.action'

    @classmethod
    def get_action_values(cls, type_, action_ids, columns=None):
        """URL actions may name the database: '{database}' in their URL is
        replaced by the name of the database of the request (the
        dashboard's URL is /<database>/retail_report/dashboard)"""
        from urllib.parse import quote
        values = super().get_action_values(type_, action_ids,
            columns=columns)
        if type_ == 'ir.action.url':
            database = quote(Transaction().database.name, safe='')
            for value in values:
                if '{database}' in (value.get('url') or ''):
                    value['url'] = value['url'].replace(
                        '{database}', database)
        return values
