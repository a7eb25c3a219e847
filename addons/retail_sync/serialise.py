# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The records of the kinds retail_sync sends to the terminals, serialised
for the wire: each serialiser maps (ids, scope) to {id: data, or None when
the terminal must delete the record}.  The kinds are registered in pull.py
(retail.sync.pull _kinds)."""
import datetime as dt
import decimal
import json
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Sum
from sql.conditionals import Case

from trytond.modules.product import price_digits, round_price
from trytond.modules.retail.price_list import formula_offline
# The one first-expiring-first-out order of the suite (retail_stock's
# back-office assignment uses it too)
from trytond.modules.retail.stock import fefo_key, sell_by  # noqa: F401
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .changelog import SETTINGS_ID, in_
from .wire import dec


class SortedIds(list):
    "Ids sorted, each once (sorted_ids): id_slices takes them as they are"


def sorted_ids(ids):
    "The ids sorted, each once, as SortedIds"
    if isinstance(ids, SortedIds):
        return ids
    return SortedIds(sorted(set(ids)))


def id_slices(column, ids, size=1000):
    """Yield SQL conditions that select the ids: one range when the ids are
    dense (a bootstrap page), chunks of IN lists otherwise; a range may
    select more rows, callers keep only the ids they asked for"""
    ids = sorted_ids(ids)
    if not ids:
        return
    if len(ids) > 100 and ids[-1] - ids[0] < 4 * len(ids):
        yield (column >= ids[0]) & (column <= ids[-1])
        return
    for sub in grouped_slice(ids, size):
        yield in_(column, list(sub))


def _browse(model_name, ids):
    Model = Pool().get(model_name)
    with Transaction().set_context(active_test=False):
        existing = {r.id for r in Model.search([('id', 'in', ids)])}
    # Browse only what exists: records browsed together are read together,
    # and reading an id that is gone (deleted since it was logged, e.g. by
    # a cascade in the database) would fail the whole page
    return Model.browse([i for i in ids if i in existing])


def _simple(model_name, ids, to_dict, visible=None):
    result = dict.fromkeys(ids)
    for record in _browse(model_name, ids):
        if getattr(record, 'active', True) is False:
            continue
        if visible and not visible(record):
            continue
        result[record.id] = to_dict(record)
    return result


# Each serializer: (ids, scope) -> {id: data or None (delete)}
def ser_branch(ids, scope):
    def to_dict(b):
        return {'id': b.id, 'code': b.code, 'name': b.name,
            'timezone': b.timezone,
            'price_list': b.price_list.id if b.price_list else None,
            'refund_to': getattr(b, 'refund_to', None) or 'cash',
            'currency': b.company.currency.code,
            'company': b.company.id,
            'lock_after_minutes': b.lock_after_minutes}
    return _simple('retail.branch', ids, to_dict,
        lambda b: b.id == scope.branch.id)


def ser_terminal(ids, scope):
    def to_dict(t):
        return {'id': t.id, 'name': t.name,
            'receipt_prefix': t.receipt_prefix,
            'tax_included': bool(t.tax_included), 'branch': t.branch.id}
    return _simple('sale.point', ids, to_dict,
        lambda t: t.id == scope.terminal.id)


def tax_rounding(company):
    "The company's tax rounding: 'document' or 'line'"
    Configuration = Pool().get('account.configuration')
    return Configuration(1).get_multivalue(
        'tax_rounding', company=company.id) or 'document'


def ser_company(ids, scope):
    def to_dict(c):
        return {'id': c.id, 'name': c.rec_name, 'currency': c.currency.code,
            'currency_digits': c.currency.digits,
            'tax_rounding': tax_rounding(c)}
    return _simple('company.company', ids, to_dict,
        lambda c: c.id == scope.company.id)


def ser_uom(ids, scope):
    def to_dict(u):
        return {'id': u.id, 'name': u.name, 'symbol': u.symbol,
            'rounding': dec(u.rounding), 'digits': u.digits,
            'category': u.category.id,
            # Price lists compare quantities in the product's default unit,
            # converted with these floats as Uom.compute_qty does
            'factor': u.factor, 'rate': u.rate,
            'accurate_field': u.accurate_field}
    return _simple('product.uom', ids, to_dict)


def ser_category(ids, scope):
    def to_dict(c):
        return {'id': c.id, 'name': c.name,
            'parent': c.parent.id if c.parent else None}
    return _simple('product.category', ids, to_dict)


def ser_tax(ids, scope):
    def to_dict(t):
        return {'id': t.id, 'name': t.name, 'type': t.type,
            'rate': dec(t.rate), 'amount': dec(t.amount),
            'sequence': t.sequence}
    return _simple('account.tax', ids, to_dict,
        lambda t: t.company == scope.company)


def ser_payment_method(ids, scope):
    def to_dict(m):
        return {'id': m.id, 'name': m.name, 'cash': bool(m.cash),
            'type': m.type}
    return _simple('sale.point.payment.method', ids, to_dict,
        lambda m: m.company == scope.company)


def ser_cash_transfer_type(ids, scope):
    def to_dict(t):
        return {'id': t.id, 'name': t.name}
    return _simple('sale.point.cash.transfer.type', ids, to_dict,
        lambda t: t.company == scope.company)


def ser_price_list(ids, scope):
    """The branch's price list with what a till needs to reproduce
    price_list.compute: the lines in the order they are tried, their
    conditions, the base of unit_price, whether the result includes taxes
    and whether the till may compute each formula (see
    docs/sync-protocol.md "Branch price list")"""
    precision = decimal.getcontext().prec

    def to_dict(p):
        return {'id': p.id, 'name': p.name,
            'price': p.price or None,
            'tax_included': bool(p.tax_included),
            'unit': p.unit,
            'decimal_precision': precision,
            'price_digits': price_digits[1],
            'lines': [{
                    'id': line_.id,
                    'sequence': line_.sequence,
                    'product': line_.product.id if line_.product else None,
                    'category': (
                        line_.category.id if line_.category else None),
                    'quantity': (repr(float(line_.quantity))
                        if line_.quantity is not None else None),
                    'formula': line_.formula,
                    'offline': formula_offline(line_.formula, p.price),
                    } for line_ in p.lines]}
    price_list = scope.branch.price_list
    return _simple('product.price_list', ids, to_dict,
        lambda p: price_list is not None and p.id == price_list.id)


def ser_settings(ids, scope):
    "The chain-wide settings of the tills: one record, id 1"
    pool = Pool()
    BarcodeLayout = pool.get('retail.barcode.layout')
    Configuration = pool.get('retail.sync.configuration')
    with without_check_access():
        layouts = BarcodeLayout.search([])
        config = Configuration(1)
    return {i: {'id': i,
            'barcode_layouts': [layout.to_wire() for layout in layouts],
            'pin_length': config.pos_pin_length,
            'pin_max_attempts': config.pos_pin_max_attempts,
            } if i == SETTINGS_ID else None for i in ids}


def ser_lot(ids, scope):
    def iso(value):
        return value.isoformat() if value else None

    def to_dict(lot):
        return {'id': lot.id, 'number': lot.number,
            'product': lot.product.id,
            'expiration_date': iso(getattr(lot, 'expiration_date', None)),
            'shelf_life_expiration_date': iso(
                getattr(lot, 'shelf_life_expiration_date', None)),
            'sell_by': iso(sell_by(lot))}
    return _simple('stock.lot', ids, to_dict)


def non_customer_parties(party_ids):
    "The parties of party_ids that are a company or an employee"
    pool = Pool()
    Company = pool.get('company.company')
    Employee = pool.get('company.employee')
    cursor = Transaction().connection.cursor()
    result = set()
    for Model in [Company, Employee]:
        table = Model.__table__()
        for where in id_slices(table.party, party_ids):
            cursor.execute(*table.select(table.party, where=where))
            result.update(p for p, in cursor)
    return result


def ser_customer(ids, scope):
    "Parties the till may attach to a sale: not companies nor employees"
    others = non_customer_parties(ids)

    def to_dict(p):
        email = phone = None
        for mechanism in p.contact_mechanisms:
            if mechanism.type == 'email' and not email:
                email = mechanism.value
            elif mechanism.type in {'phone', 'mobile'} and not phone:
                phone = mechanism.value
        return {'id': p.id, 'uuid': p.retail_uuid, 'name': p.name,
            'email': email, 'phone': phone,
            'version': p.retail_version or 0}
    return _simple('party.party', ids, to_dict,
        lambda p: p.id not in others)


def ser_quick_key(ids, scope):
    def to_dict(k):
        return {'id': k.id, 'sequence': k.sequence,
            'product': k.product.id, 'label': k.label or k.product.name,
            'colour': k.colour or None}
    with without_check_access():
        return _simple('retail.quick_key', ids, to_dict,
            lambda k: k.branch.id == scope.branch.id)


def ser_employee(ids, scope):
    branch_id = scope.branch.id
    result = dict.fromkeys(ids)
    with without_check_access():
        for employee in _browse('company.employee', ids):
            if not employee.active:
                continue
            if branch_id not in [b.id for b in employee.branches]:
                continue
            permissions = employee.get_pos_permissions()
            result[employee.id] = {
                'id': employee.id, 'name': employee.rec_name,
                'pin_hash': employee.pos_pin_hash,
                'permissions': {
                    k: (dec(v) if isinstance(v, Decimal) else v)
                    for k, v in permissions.items()},
                }
    return result


_ZERO = Decimal(0)


def _decimal(value):
    "A number read from the database as a Decimal (None stays None)"
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def price_values(templates, company_id, product_ids=None):
    """Return {product: (list price, gross price)} of the products of
    templates ({product: template}): the product's own value for the
    company, else its template's.  Each table is read by ranges of
    product ids, then of template ids (id_slices): a join of the products
    with the templates' values read every value of the table for each
    page of a bootstrap."""
    pool = Pool()
    ListPrice = pool.get('product.list_price')
    GrossPrice = pool.get('product.gross_price')
    cursor = Transaction().connection.cursor()
    product_ids = sorted_ids(templates if product_ids is None
        else product_ids)
    template_ids = sorted_ids(templates.values())
    values = []
    for Value, field in [(ListPrice, 'list_price'),
            (GrossPrice, 'gross_price')]:
        value = Value.__table__()
        column = getattr(value, field)
        own, of_template = {}, {}
        for where in id_slices(value.product, product_ids):
            cursor.execute(*value.select(value.product, column,
                    where=where & (value.company == company_id)))
            for product, price in cursor.fetchall():
                if price is not None:
                    own[product] = price
        for where in id_slices(value.template, template_ids):
            cursor.execute(*value.select(value.template, column,
                    where=where & (value.product == Null)
                    & (value.company == company_id)))
            for template, price in cursor.fetchall():
                if price is not None:
                    of_template[template] = price
        values.append((own, of_template))
    (own_list, template_list), (own_gross, template_gross) = values
    result = {}
    for product, template in templates.items():
        list_price = own_list.get(product)
        if list_price is None:
            list_price = template_list.get(template)
        gross_price = own_gross.get(product)
        if gross_price is None:
            gross_price = template_gross.get(template)
        result[product] = (_decimal(list_price), _decimal(gross_price))
    return result


def product_prices(product_ids, company_id):
    "Return {product: {list_price, gross_price}} of the products"
    Product = Pool().get('product.product')
    product = Product.__table__()
    cursor = Transaction().connection.cursor()
    wanted = set(product_ids)
    templates = {}
    for where in id_slices(product.id, product_ids):
        cursor.execute(*product.select(product.id, product.template,
                where=where))
        templates.update(r for r in cursor.fetchall() if r[0] in wanted)
    return {p: {'list_price': list_price, 'gross_price': gross_price}
        for p, (list_price, gross_price) in price_values(
            templates, company_id).items()}


def variant_attributes(product_ids, template_ids=None):
    """Return {product: [{name, label, value, text}]}: the attribute values
    of the variants (product_attribute activated), in the order of their
    template's attribute set.  template_ids: the templates of the products
    when known (their attribute sets are read first, by range)"""
    pool = Pool()
    Product = pool.get('product.product')
    if 'attributes' not in Product._fields:
        return {}
    Template = pool.get('product.template')
    Attribute = pool.get('product.attribute')
    SetAttribute = pool.get('product.attribute-product.attribute-set')
    product = Product.__table__()
    template = Template.__table__()
    relation = SetAttribute.__table__()
    cursor = Transaction().connection.cursor()
    rows = []
    wanted = set(product_ids)
    if template_ids is not None:
        # the templates with an attribute set, then their products: a
        # join read every template for each page of a bootstrap
        sets = {}
        for where in id_slices(template.id, template_ids):
            cursor.execute(*template.select(
                    template.id, template.attribute_set,
                    where=where & (template.attribute_set != Null)))
            sets.update(cursor.fetchall())
        if not sets:
            return {}
        for where in id_slices(product.id, product_ids):
            cursor.execute(*product.select(
                    product.id, product.template, product.attributes,
                    where=where & (product.attributes != Null)))
            rows.extend((r[0], sets[r[1]], r[2]) for r in cursor.fetchall()
                if r[0] in wanted and r[1] in sets)
    else:
        for where in id_slices(product.id, product_ids):
            cursor.execute(*product.join(template,
                    condition=product.template == template.id).select(
                    product.id, template.attribute_set, product.attributes,
                    where=where & (template.attribute_set != Null)
                    & (product.attributes != Null)))
            rows.extend(r for r in cursor.fetchall() if r[0] in wanted)
    if not rows:
        return {}
    order = defaultdict(list)
    cursor.execute(*relation.select(relation.attribute_set,
            relation.attribute, order_by=[relation.id.asc]))
    for set_id, attribute_id in cursor:
        order[set_id].append(attribute_id)
    with without_check_access():
        attributes = {a.id: a for a in Attribute.search([])}
    result = {}
    for id_, set_id, values in rows:
        if isinstance(values, str):
            values = json.loads(values)
        if not values:
            continue
        found = []
        for attribute_id in order.get(set_id, []):
            attribute = attributes.get(attribute_id)
            if attribute is None or attribute.name not in values:
                continue
            value = values[attribute.name]
            found.append({'name': attribute.name, 'label': attribute.string,
                    'value': value, 'text': attribute.format(value)})
        if found:
            result[id_] = found
    return result


class TaxPlan:
    """The tax-included price of many list prices under the same taxes, as
    gross_price_used computes it.  Taxes that are all percentages without
    children nor unit price update, in force at the date, give the amounts
    Tax.compute gives (list price * rate, in its order, for a quantity of
    1) without reading the tax records for each price; other taxes go
    through gross_price_used.  tests/test_wire.py compares both on
    generated prices."""

    def __init__(self, taxes, date=None):
        pool = Pool()
        Tax = pool.get('account.tax')
        Date = pool.get('ir.date')
        self.taxes = taxes
        self.date = date or Date.today()
        # round_price's
        self.exponent = Decimal(1) / 10 ** price_digits[1]
        self.rates = []
        for tax in Tax.sort_taxes(taxes):
            start = tax.start_date or dt.date.min
            end = tax.end_date or dt.date.max
            if not (start <= self.date <= end):
                continue
            if (tax.type != 'percentage' or tax.childs
                    or tax.update_unit_price):
                self.rates = None
                break
            self.rates.append(tax.rate)

    def gross(self, list_price, gross_price):
        if self.rates is None or gross_price is not None or list_price is None:
            return gross_price_used(list_price, gross_price, self.taxes,
                self.date)
        # as sum() from Decimal(0), then round_price
        tax_amount = _ZERO
        for rate in self.rates:
            tax_amount += list_price * rate
        return (list_price + tax_amount).quantize(self.exponent)


def gross_price_used(list_price, gross_price, taxes, date=None):
    """The tax-included price of a product, as sale_point prices a line of
    a tax-included terminal: its gross price, or without one its list price
    with its taxes, round_price(list_price + taxes)"""
    pool = Pool()
    Tax = pool.get('account.tax')
    Date = pool.get('ir.date')
    if gross_price is not None:
        return gross_price
    if list_price is None:
        return None
    tax_amount = sum((t['amount'] for t in Tax.compute(
                    taxes, list_price, 1, date or Date.today())), Decimal(0))
    return round_price(list_price + tax_amount)


def ser_product(ids, scope):
    """The products of ids for the tills.  A bootstrap page sends 20,000 of
    them: the columns are read by ranges of ids (id_slices), the products'
    then their templates' (a join read every template for each page), and
    what a record takes from its template, its prices or its taxes is
    worked out once per template and per price"""
    pool = Pool()
    Product = pool.get('product.product')
    Template = pool.get('product.template')
    Identifier = pool.get('product.identifier')
    TemplateCategory = pool.get('product.template-product.category')
    Category = pool.get('product.category')
    product = Product.__table__()
    template = Template.__table__()
    identifier = Identifier.__table__()
    tcategory = TemplateCategory.__table__()
    cursor = Transaction().connection.cursor()
    company_id = scope.company.id
    result = dict.fromkeys(ids)
    products = []
    wanted = set(ids)
    for where in id_slices(product.id, ids):
        cursor.execute(*product.select(
                product.id, product.template, product.code, product.active,
                where=where))
        products.extend(r for r in cursor.fetchall() if r[0] in wanted)
    product_ids = sorted_ids(r[0] for r in products)
    template_ids = {r[1] for r in products}
    sorted_templates = sorted_ids(template_ids)
    template_rows = []
    for where in id_slices(template.id, sorted_templates):
        cursor.execute(*template.select(
                template.id, template.name, template.active,
                template.salable, template.sale_uom, template.default_uom,
                template.account_category, template.lot_required,
                template.type,
                where=where))
        template_rows.extend(
            r for r in cursor.fetchall() if r[0] in template_ids)
    barcodes = defaultdict(list)
    categories = {}
    all_categories = defaultdict(set)
    for where in id_slices(identifier.product, product_ids):
        cursor.execute(*identifier.select(
                identifier.product, identifier.code,
                where=where,
                order_by=[identifier.sequence.asc, identifier.id.asc]))
        for id_, code in cursor.fetchall():
            barcodes[id_].append(code)
    for where in id_slices(tcategory.template, sorted_templates):
        cursor.execute(*tcategory.select(
                tcategory.template, tcategory.category,
                where=where, order_by=[tcategory.id.asc]))
        for template_id, category in cursor.fetchall():
            if template_id in template_ids:
                categories.setdefault(template_id, category)
                all_categories[template_id].add(category)
    taxes = {}
    tax_records = {}
    account_categories = {r[6] for r in template_rows if r[6]}
    if account_categories:
        with Transaction().set_context(company=company_id):
            for category in Category.browse(list(account_categories)):
                tax_records[category.id] = list(
                    category.customer_taxes_used)
                taxes[category.id] = sorted(
                    t.id for t in tax_records[category.id])
    # What a product takes from its active template
    templates = {}
    lot_required_of = {}
    for (template_id, name, active, salable, sale_uom, default_uom,
            account_category, lot_required, type_) in template_rows:
        if not active:
            continue
        # a JSON text, or a list on PostgreSQL
        lot_key = (tuple(lot_required) if isinstance(lot_required, list)
            else lot_required)
        if lot_key not in lot_required_of:
            value = lot_required
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    value = []
            lot_required_of[lot_key] = bool(value
                and ({'customer', 'storage'} & set(value)))
        templates[template_id] = (name, bool(salable),
            sale_uom or default_uom, categories.get(template_id),
            # What price list lines match on (Tryton's categories_all)
            sorted(all_categories.get(template_id, set())
                | ({account_category} if account_category else set())),
            default_uom, account_category,
            taxes.get(account_category, []),
            lot_required_of[lot_key], type_)
    prices = price_values({r[0]: r[1] for r in products}, company_id,
        product_ids)
    variants = variant_attributes(product_ids, sorted_templates)
    # the (list price, tax-included price) as sent of each (list price,
    # gross price, account category) once: products share few of them and
    # computing the taxes was most of a bootstrap page's time
    sent_prices = {}
    plans = {}
    no_price = (None, None)
    for id_, template_id, code, active in products:
        info = templates.get(template_id)
        if not active or info is None:
            continue
        (name, salable, uom, category, all_, default_uom, account_category,
            taxes_, lot_required, type_) = info
        list_price, gross_price = prices.get(id_, no_price)
        key = (list_price, gross_price, account_category)
        sent = sent_prices.get(key)
        if sent is None:
            plan = plans.get(account_category)
            if plan is None:
                plan = plans[account_category] = TaxPlan(
                    tax_records.get(account_category, []))
            sent = sent_prices[key] = (dec(list_price),
                dec(plan.gross(list_price, gross_price)))
        attributes = variants.get(id_, [])
        result[id_] = {
            'id': id_, 'template': template_id,
            # A variant is named by its template and attribute values
            'name': (f"{name} ({', '.join(a['text'] for a in attributes)})"
                if attributes else name),
            'template_name': name, 'attributes': attributes, 'code': code,
            'salable': salable, 'uom': uom,
            'category': category,
            'categories': all_,
            'default_uom': default_uom,
            'list_price': sent[0],
            'gross_price': sent[1],
            'taxes': taxes_,
            'barcodes': barcodes.get(id_, []),
            'lot_required': lot_required,
            # goods and assets have stock, services not
            'type': type_,
            }
    return result


def stock_quantities(product_ids, locations, by_lot=False):
    """Return {product: quantity} (or {(product, lot): quantity}) of done
    moves in and out of locations"""
    pool = Pool()
    Move = pool.get('stock.move')
    move = Move.__table__()
    cursor = Transaction().connection.cursor()
    result = defaultdict(Decimal)
    if not product_ids or not locations:
        return result
    inside = in_(move.to_location, locations)
    outside = in_(move.from_location, locations)
    qty = Case(
        (inside & ~outside, move.internal_quantity),
        (outside & ~inside, -move.internal_quantity),
        else_=0)
    group = [move.product] + ([move.lot] if by_lot else [])
    wanted = set(product_ids)
    for products in id_slices(move.product, product_ids):
        where = products & (move.state == 'done') & (inside | outside)
        cursor.execute(*move.select(*group, Sum(qty),
                where=where, group_by=group))
        for row in cursor.fetchall():
            if row[0] not in wanted:
                continue
            key = row[0] if not by_lot else (row[0], row[1])
            result[key] += Decimal(str(row[-1] or 0))
    return result


def ser_stock(ids, scope):
    # One query by lot; the product's quantity is the sum of its lots
    lots = stock_quantities(ids, scope.locations, by_lot=True)
    zero = Decimal(0)
    quantities = {}
    lot_list = {}
    for (product, lot), quantity in lots.items():
        quantities[product] = quantities.get(product, zero) + quantity
        if lot and quantity:
            lot_list.setdefault(product, []).append((lot, quantity))
    # the quantities as sent, each value once (many products have the
    # same): equal Decimals have the same text but for the sign of zero,
    # which a sum from Decimal(0) never has (and a lot of 0 is not sent)
    sent = {}

    def text(value):
        result = sent.get(value)
        if result is None:
            result = sent[value] = dec(value)
        return result
    lot_list = {p: [{'lot': lot, 'quantity': text(quantity)}
            for lot, quantity in sorted(values)]
        for p, values in lot_list.items()}
    no_lots = []
    return {i: {'id': i, 'product': i,
            'quantity': text(quantities.get(i, zero)),
            'lots': lot_list.get(i, no_lots)} for i in ids}


# The serialiser of each kind retail_sync sends
SERIALIZERS = {
    'branch': ser_branch,
    'terminal': ser_terminal,
    'company': ser_company,
    'uom': ser_uom,
    'category': ser_category,
    'tax': ser_tax,
    'payment_method': ser_payment_method,
    'cash_transfer_type': ser_cash_transfer_type,
    'price_list': ser_price_list,
    'product': ser_product,
    'lot': ser_lot,
    'stock': ser_stock,
    'employee': ser_employee,
    'customer': ser_customer,
    'settings': ser_settings,
    'quick_key': ser_quick_key,
    }
