# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The endpoints of the counting phones (device kind "counter"): counts and
the receipt of transfers; see docs/sync-protocol.md § Counting phones"""
import datetime as dt
import json
import uuid as uuid_
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from trytond.exceptions import UserError
from trytond.modules.retail_sync.changelog import branch_locations
from trytond.modules.retail_sync.push import savepoint
from trytond.modules.retail_sync.routes import (
    api, body_list, route, sync_transaction)
from trytond.modules.retail_sync.schema import MAX_PUSH_BYTES
from trytond.modules.retail_sync.serialise import id_slices, stock_quantities
from trytond.modules.retail_sync.wire import Rejected
from trytond.protocols.wrappers import HTTPStatus
from trytond.transaction import Transaction

from .sync import receive_transfer, transfers_of_branch

# Entries per push
MAX_ENTRIES = 1000
# Transfer receipts per push
MAX_RECEIPTS = 50
# How far a phone's clock may be ahead of the server's
CLOCK_SKEW = dt.timedelta(minutes=10)


def open_counts(pool, device):
    Inventory = pool.get('stock.inventory')
    return Inventory.search([
            ('retail_branch', '=', device.device_branch.id),
            ('counting', '=', True),
            ('state', '=', 'draft'),
            ], order=[('count_time', 'DESC'), ('id', 'DESC')])


def products_of(pool, company_id):
    "[{id, name, code, barcodes, lot_tracked}] of the active goods"
    Product = pool.get('product.product')
    Template = pool.get('product.template')
    Identifier = pool.get('product.identifier')
    product = Product.__table__()
    template = Template.__table__()
    identifier = Identifier.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*product.join(template,
            condition=product.template == template.id).select(
            product.id, template.name, product.code, template.lot_required,
            where=(product.active == True)  # noqa: E712
            & (template.active == True)  # noqa: E712
            & (template.type == 'goods'),
            order_by=[product.id.asc]))
    rows = cursor.fetchall()
    barcodes = defaultdict(list)
    for where in id_slices(identifier.product, [r[0] for r in rows]):
        cursor.execute(*identifier.select(
                identifier.product, identifier.code, where=where,
                order_by=[identifier.sequence.asc, identifier.id.asc]))
        for id_, code in cursor.fetchall():
            barcodes[id_].append(code)
    # Names in the user's language, as the ORM reads them
    names = {p.id: p.rec_name for p in Product.browse([r[0] for r in rows])}
    return [{
            'id': id_,
            'name': names.get(id_, name),
            'code': code,
            'barcodes': barcodes.get(id_, []),
            'lot_tracked': bool(parse_types(lot_required)),
            } for id_, name, code, lot_required in rows]


def parse_types(value):
    "The list of a MultiSelection as the database stores it"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return list(value or [])


def iso(value):
    return value.isoformat() if value else None


@route('/count/bootstrap', methods={'GET'})
@sync_transaction
@api('count_bootstrap', kinds={'counter'})
def count_bootstrap(request, pool, device, log):
    Lot = pool.get('stock.lot')
    branch = device.device_branch
    counts = open_counts(pool, device)
    products = products_of(pool, branch.company.id)
    product_ids = [p['id'] for p in products]
    stock = stock_quantities(product_ids, branch_locations(branch),
        by_lot=True)
    lot_ids = {lot for (_, lot), quantity in stock.items()
        if lot and quantity}
    for count in counts:
        lot_ids.update(l.lot.id for l in count.lines if l.lot)
    lots = [{
            'id': lot.id,
            'number': lot.number,
            'product': lot.product.id,
            'expiration_date': iso(
                getattr(lot, 'shelf_life_expiration_date', None)
                or getattr(lot, 'expiration_date', None)),
            } for lot in Lot.browse(sorted(lot_ids))]
    expected = []
    for count in counts:
        if count.blind:
            continue
        for line in count.lines:
            expected.append({
                    'count': count.id,
                    'product': line.product.id,
                    'lot': line.lot.id if line.lot else None,
                    'quantity': str(Decimal(str(line.expected_quantity or 0))
                        .normalize()),
                    })
    return {
        'device': device.id,
        'branch': {'id': branch.id, 'code': branch.code,
            'name': branch.name},
        'counts': [{
                'id': c.id,
                'number': c.number,
                'location': {'id': c.location.id,
                    'name': c.location.rec_name},
                'date': c.date.isoformat(),
                'count_time': iso(c.count_time.replace(
                        tzinfo=dt.timezone.utc)),
                'blind': bool(c.blind),
                } for c in counts],
        'products': products,
        'lots': lots,
        'expected': expected,
        'transfers': transfers_of_branch(branch),
        }, HTTPStatus.OK


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_client_time(value):
    "The UTC time (naive) of a client_time; Refused when it is not one"
    try:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
    except (TypeError, ValueError):
        raise Refused('invalid_payload',
            "client_time: an ISO 8601 time with its offset.")
    moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    if moment > now + CLOCK_SKEW:
        raise Refused('invalid_payload', "client_time: in the future.")
    return moment


def parse_uuid(value):
    "The canonical form of a UUID, or None"
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid_.UUID(value))
    except ValueError:
        return None


def parse_entry(pool, device, entry, counts, products):
    """(values to create) of a pushed entry; Refused naming what is wrong"""
    Lot = pool.get('stock.lot')
    if not isinstance(entry, dict):
        raise Refused('invalid_payload', "An entry must be an object.")
    unknown = set(entry) - {'uuid', 'count', 'product', 'lot', 'lot_number',
        'quantity', 'scanned', 'client_time'}
    if unknown:
        raise Refused('invalid_payload',
            f"{sorted(unknown)[0]}: unknown field.")
    count = entry.get('count')
    if not isinstance(count, int) or isinstance(count, bool):
        raise Refused('invalid_payload', "count: must be an integer.")
    inventory = counts.get(count)
    if inventory is None:
        raise Refused('count_closed',
            f"Count {count} is not open for this branch's phones.")
    product_id = entry.get('product')
    if not isinstance(product_id, int) or isinstance(product_id, bool):
        raise Refused('invalid_payload', "product: must be an integer.")
    product = products.get(product_id)
    if product is None:
        Product = pool.get('product.product')
        found = Product.search([('id', '=', product_id),
                ('type', '=', 'goods')])
        if not found:
            raise Refused('unknown_product',
                f"Product {product_id} does not exist.")
        product = products[product_id] = found[0]
    raw = entry.get('quantity')
    if not isinstance(raw, str):
        raise Refused('invalid_payload',
            "quantity: must be a decimal string.")
    try:
        quantity = Decimal(raw)
    except InvalidOperation:
        raise Refused('invalid_payload',
            "quantity: must be a decimal string.")
    if not quantity.is_finite() or abs(quantity) > Decimal('1e9'):
        raise Refused('invalid_payload', "quantity: out of range.")
    lot_id, lot_number = entry.get('lot'), entry.get('lot_number')
    lot = None
    if lot_id is not None:
        if not isinstance(lot_id, int) or isinstance(lot_id, bool):
            raise Refused('invalid_payload', "lot: must be an integer.")
        lots = Lot.search([('id', '=', lot_id)])
        if not lots or lots[0].product != product:
            raise Refused('unknown_lot',
                f"Lot {lot_id} is not a lot of product {product_id}.")
        lot = lots[0]
    elif lot_number is not None:
        if (not isinstance(lot_number, str) or not lot_number.strip()
                or len(lot_number) > 50
                or any(ord(c) < 32 for c in lot_number)):
            raise Refused('invalid_payload',
                "lot_number: 1 to 50 printable characters.")
        lots = Lot.search([('number', '=', lot_number.strip()),
                ('product', '=', product.id)], limit=1)
        if lots:
            lot = lots[0]
        else:
            # A lot found on the shelf that the ledger does not know
            lot, = Lot.create([{'number': lot_number.strip(),
                        'product': product.id}])
    elif product.lot_is_required(inventory.location,
            inventory.location.lost_found_used or inventory.location):
        raise Refused('lot_required',
            f"Product {product_id} is counted by lot: give its lot.")
    moment = parse_client_time(entry.get('client_time'))
    return {
        'inventory': inventory.id,
        'uuid': entry['uuid'],
        'device': device.id,
        'product': product.id,
        'lot': lot.id if lot else None,
        'quantity': float(quantity),
        'scanned': bool(entry.get('scanned')),
        'client_time': moment,
        }


@route('/count/push', methods={'POST'})
@sync_transaction
@api('count_push', body_limit=MAX_PUSH_BYTES, kinds={'counter'})
def count_push(request, pool, device, log):
    Entry = pool.get('retail.stock.count.entry')
    _, entries = body_list(request, 'entries', MAX_ENTRIES)
    uuids = [parse_uuid(e.get('uuid') if isinstance(e, dict) else None)
        for e in entries]
    Entry.lock()
    known = {}
    for where in range(0, len(uuids), 500):
        for found in Entry.search([('uuid', 'in',
                        [u for u in uuids[where:where + 500] if u])]):
            known[found.uuid] = found
    counts = {c.id: c for c in open_counts(pool, device)}
    products = {}
    results, to_create = [], []
    seen = set()
    for entry, uuid in zip(entries, uuids):
        if uuid is None:
            results.append({'uuid': entry.get('uuid')
                    if isinstance(entry, dict) else None,
                    'status': 'rejected', 'error': {
                        'code': 'invalid_payload',
                        'message': "uuid: must be a UUID."}})
            continue
        if uuid in known or uuid in seen:
            found = known.get(uuid)
            results.append({'uuid': uuid, 'status': 'duplicate',
                    'entry': found.id if found else None})
            continue
        try:
            values = parse_entry(pool, device, dict(entry, uuid=uuid),
                counts, products)
        except Refused as e:
            results.append({'uuid': uuid, 'status': 'rejected',
                    'error': {'code': e.code, 'message': e.message}})
            continue
        seen.add(uuid)
        to_create.append(values)
        results.append({'uuid': uuid, 'status': 'accepted'})
    created = {e.uuid: e.id for e in Entry.create(to_create)}
    for result in results:
        if result['status'] == 'accepted':
            result['entry'] = created[result['uuid']]
    return {'results': results}, HTTPStatus.OK


def receipt_result(shipment):
    "What a receipt of the transfer answers: its state and differences"
    return {
        'transfer': shipment.id,
        'state': shipment.state,
        'differences': [{
                'product': d.product.id,
                'lot': d.lot.id if d.lot else None,
                'kind': d.kind,
                'quantity': str(Decimal(str(d.quantity)).normalize()),
                'disposition': d.disposition,
                } for d in shipment.differences],
        }


@route('/count/receive', methods={'POST'})
@sync_transaction
@api('count_receive', body_limit=MAX_PUSH_BYTES, kinds={'counter'})
def count_receive(request, pool, device, log):
    """Transfers received on the phone, each applied once by its uuid with
    the receipt of the transfer_receive operation (sync.receive_transfer)"""
    Shipment = pool.get('stock.shipment.internal')
    _, receipts = body_list(request, 'receipts', MAX_RECEIPTS)
    branch = device.device_branch
    results = []
    seen = set()
    for receipt in receipts:
        uuid = parse_uuid(receipt.get('uuid')
            if isinstance(receipt, dict) else None)
        if uuid is None:
            results.append({'uuid': receipt.get('uuid')
                    if isinstance(receipt, dict) else None,
                    'status': 'rejected', 'error': {
                        'code': 'invalid_payload',
                        'message': "uuid: must be a UUID."}})
            continue
        transfer = receipt.get('transfer')
        if isinstance(transfer, int) and not isinstance(transfer, bool):
            # A phone of the branch at a time; a receipt sent again waits
            # for the first and is answered as its duplicate
            Shipment.lock(Shipment.search([('id', '=', transfer)]))
        done = Shipment.search([('retail_receipt_uuid', '=', uuid)])
        if done or uuid in seen:
            results.append({'uuid': uuid, 'status': 'duplicate',
                    'result': receipt_result(done[0]) if done else None})
            continue
        seen.add(uuid)
        try:
            unknown = set(receipt) - {
                'uuid', 'transfer', 'lines', 'client_time'}
            if unknown:
                raise Refused('invalid_payload',
                    f"{sorted(unknown)[0]}: unknown field.")
            parse_client_time(receipt.get('client_time'))
            try:
                # Nothing of a refused receipt is written
                with savepoint():
                    result = receive_transfer(branch, {
                            'transfer': transfer,
                            'lines': receipt.get('lines')})
                    Shipment.write(Shipment.browse([result['transfer']]), {
                            'retail_receipt_uuid': uuid,
                            'retail_receipt_device': device.id,
                            })
            except Rejected as e:
                raise Refused(e.code, e.message)
            except UserError as e:
                raise Refused('invalid_payload', e.message)
        except Refused as e:
            results.append({'uuid': uuid, 'status': 'rejected',
                    'error': {'code': e.code, 'message': e.message}})
            continue
        results.append({'uuid': uuid, 'status': 'accepted',
                'result': result})
    return {'results': results}, HTTPStatus.OK
