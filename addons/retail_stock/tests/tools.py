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


def ship_transfer(company_id, branch_id, code, shipper=None):
    """A lot product in a new sending branch (code, two lots) and a transfer
    of 8 to the branch, shipped: 5 of the earliest lot, 3 of the other;
    shipper(sender branch): the user who ships it, with the access checks
    (by default, without them).
    Return (sender, receiver, product, early lot, late lot, shipment)"""
    pool = Pool()
    Branch = pool.get('retail.branch')
    Shipment = pool.get('stock.shipment.internal')
    Company = pool.get('company.company')
    from trytond.modules.retail.tests.test_module import create_branch
    company = Company(company_id)
    Transaction().set_context(company=company.id)
    today = dt.date.today()
    supplier = stock_locations()[2]
    product = lot_product(name=f"Milk {code}")
    early, late = make_lots(product, [4, 10], today)
    sender = create_branch(company, code=code, name=f"Shop {code}")
    receive(company, product, [
            (early, sender.warehouse.storage_location, 5, today),
            (late, sender.warehouse.storage_location, 9, today)],
        supplier)
    receiver = Branch(branch_id)
    shipment = Shipment(company=company,
        from_location=sender.warehouse.storage_location,
        to_location=receiver.warehouse.storage_location,
        planned_date=today, planned_start_date=today, moves=[{
                'product': product.id, 'unit': product.default_uom.id,
                'quantity': 8,
                'from_location': sender.warehouse.storage_location.id,
                'to_location': receiver.warehouse.storage_location.id,
                'company': company.id}])
    shipment.save()
    user = shipper(sender) if shipper else Transaction().user
    with Transaction().set_user(user), Transaction().set_context(
            _check_access=bool(shipper)):
        for step in [Shipment.wait, Shipment.assign_try, Shipment.pack,
                Shipment.ship]:
            step([Shipment(shipment.id)])
    return sender, receiver, product, early, late, Shipment(shipment.id)
