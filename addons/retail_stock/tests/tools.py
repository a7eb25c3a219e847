# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Stock fixtures of the retail_stock tests and benchmark"
import datetime as dt
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction


def stock_locations():
    """The warehouse WH's storage and two bins in it, the supplier and the
    customer locations"""
    pool = Pool()
    Location = pool.get('stock.location')
    storage, = Location.search([('code', '=', 'STO')])
    bins = Location.search([('parent', '=', storage.id),
            ('name', 'like', 'Bin %')], order=[('name', 'ASC')])
    if not bins:
        bins = Location.create([
                {'name': f"Bin {i}", 'type': 'storage', 'parent': storage.id}
                for i in (1, 2)])
    supplier, = Location.search([('code', '=', 'SUP')])
    customer, = Location.search([('code', '=', 'CUS')])
    return storage, bins, supplier, customer


def lot_product(name="Yoghurt", lot_required=('storage', 'customer')):
    "A goods product that requires a lot in storage and to customers"
    pool = Pool()
    Uom = pool.get('product.uom')
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    unit, = Uom.search([('name', '=', 'Unit')])
    template, = Template.create([{
                'name': name, 'type': 'goods', 'default_uom': unit.id,
                'list_price': Decimal('2'),
                'lot_required': list(lot_required),
                }])
    product, = Product.create([{'template': template.id}])
    return product


def receive(company, product, lots, supplier):
    """Receive lots: [(lot, location, quantity, date)] as done moves from
    the supplier"""
    Move = Pool().get('stock.move')
    moves = Move.create([{
                'product': product.id, 'lot': lot.id,
                'unit': product.default_uom.id, 'quantity': quantity,
                'from_location': supplier.id, 'to_location': location.id,
                'company': company.id, 'unit_price': Decimal('1'),
                'currency': company.currency.id,
                'planned_date': date, 'effective_date': date,
                } for lot, location, quantity, date in lots if quantity])
    # Receipts without a supplier shipment: no origin warning
    with Transaction().set_context(_skip_warnings=True):
        Move.do(moves)
    return moves


def make_lots(product, specs, today):
    """Lots of product from [(sell-by offset in days or None)]"""
    Lot = Pool().get('stock.lot')
    return Lot.create([{
                'number': f"L{i}", 'product': product.id,
                'shelf_life_expiration_date': (
                    today + dt.timedelta(days=offset)
                    if offset is not None else None),
                } for i, offset in enumerate(specs)])
