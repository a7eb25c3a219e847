"""A transfer between the demo's two branches, each manager on their side
(docs/user-manual.md "Transfers between branches"): Antwerp's manager
requests and ships it through the JSON-RPC API the web client uses,
Brussels' manager cannot ship it; Antwerp's cannot receive it; Brussels'
manager finds it among the incoming transfers and receives it."""
import datetime as dt

import pytest

from retail_setup.demo import DEMO_PASSWORD
from tests.e2e.backoffice import Backoffice, manager_login
from tests.support.rpc import RPCError


def date(value):
    return {'__class__': 'date', 'year': value.year, 'month': value.month,
        'day': value.day}


@pytest.fixture(scope='module')
def office(backoffice):
    return Backoffice(backoffice)


def storage(admin, code):
    branch, = admin.search_read('retail.branch', [('code', '=', code)],
        ['warehouse'])
    warehouse, = admin.model('stock.location', 'read', [branch['warehouse']],
        ['storage_location'])
    return branch['warehouse'], warehouse['storage_location']


def test_transfer_from_antwerp_received_in_brussels(office):
    admin = office.admin
    antwerp = office.client(manager_login('ANT'), DEMO_PASSWORD)
    brussels = office.client(manager_login('BXL'), DEMO_PASSWORD)
    ant_warehouse, ant_storage = storage(admin, 'ANT')
    _, bxl_storage = storage(admin, 'BXL')
    # A product Antwerp received without a lot
    moves = admin.search_read('stock.move', [
            ('to_location', '=', ant_storage), ('state', '=', 'done'),
            ('lot', '=', None), ('quantity', '>=', 3)],
        ['product', 'unit', 'product.lot_required'])
    move = next(m for m in moves if not m['product.']['lot_required'])
    company = admin.context['company']
    today = dt.date.today()
    shipment_id, = antwerp.model('stock.shipment.internal', 'create', [{
                'company': company, 'from_location': ant_storage,
                'to_location': bxl_storage, 'planned_date': date(today),
                'planned_start_date': date(today),
                'moves': [['create', [{
                                'product': move['product'],
                                'unit': move['unit'], 'quantity': 2,
                                'from_location': ant_storage,
                                'to_location': bxl_storage,
                                'company': company}]]],
                }])
    antwerp.model('stock.shipment.internal', 'wait', [shipment_id])
    antwerp.model('stock.shipment.internal', 'assign_try', [shipment_id])
    antwerp.model('stock.shipment.internal', 'pack', [shipment_id])
    # Brussels cannot ship what Antwerp sends
    with pytest.raises(RPCError) as error:
        brussels.model('stock.shipment.internal', 'ship', [shipment_id])
    assert 'Only the sending branch' in str(error.value)
    antwerp.model('stock.shipment.internal', 'ship', [shipment_id])
    shipment, = admin.model('stock.shipment.internal', 'read',
        [shipment_id], ['state', 'number', 'from_branch', 'to_branch'])
    assert shipment['state'] == 'shipped', shipment
    # Antwerp sees it as outgoing, not incoming; Antwerp cannot receive it
    assert [s['id'] for s in antwerp.search_read('stock.shipment.internal',
            [('outgoing', '=', True), ('id', '=', shipment_id)], ['id'])] == [
        shipment_id]
    assert antwerp.search_read('stock.shipment.internal',
        [('incoming', '=', True), ('id', '=', shipment_id)], ['id']) == []
    with pytest.raises(RPCError) as error:
        antwerp.model('stock.shipment.internal', 'do', [shipment_id])
    assert 'Only the receiving branch' in str(error.value)

    # Brussels' manager sees it as incoming and receives it as shipped
    assert [s['id'] for s in brussels.search_read('stock.shipment.internal',
            [('incoming', '=', True), ('id', '=', shipment_id)],
            ['id', 'from_branch'])] == [shipment_id]
    # Each side reads the other's location by its name, as the lists and
    # forms of the back office show it; not the other branch's warehouse
    for client in [antwerp, brussels]:
        shipment, = client.model('stock.shipment.internal', 'read',
            [shipment_id], ['from_location.rec_name', 'to_location.rec_name'])
        assert shipment['from_location.']['rec_name'], shipment
        assert shipment['to_location.']['rec_name'], shipment
    with pytest.raises(RPCError):
        brussels.model('stock.location', 'read', [ant_warehouse],
            ['rec_name'])
    brussels.model('stock.shipment.internal', 'do', [shipment_id])
    shipment, = admin.model('stock.shipment.internal', 'read',
        [shipment_id], ['state', 'differences'])
    assert shipment == {'id': shipment_id, 'state': 'done',
        'differences': []}, shipment


def ship_lots(admin, antwerp, from_storage, to_storage, quantity=2):
    """Antwerp's manager requests, assigns, packs and ships a transfer of a
    lot-tracked product to Brussels; returns the shipment's id and its
    product's name"""
    company = admin.context['company']
    today = dt.date.today()
    moves = admin.search_read('stock.move', [
            ('to_location', '=', from_storage), ('state', '=', 'done'),
            ('lot', '!=', None), ('quantity', '>=', quantity)],
        ['product', 'unit', 'product.rec_name'])
    for move in moves:
        shipment_id, = antwerp.model('stock.shipment.internal', 'create', [{
                    'company': company, 'from_location': from_storage,
                    'to_location': to_storage,
                    'planned_date': date(today),
                    'planned_start_date': date(today),
                    'moves': [['create', [{
                                    'product': move['product'],
                                    'unit': move['unit'],
                                    'quantity': quantity,
                                    'from_location': from_storage,
                                    'to_location': to_storage,
                                    'company': company}]]],
                    }])
        antwerp.model('stock.shipment.internal', 'wait', [shipment_id])
        antwerp.model('stock.shipment.internal', 'assign_try', [shipment_id])
        shipment, = admin.model('stock.shipment.internal', 'read',
            [shipment_id], ['state'])
        if shipment['state'] == 'assigned':
            break
        antwerp.model('stock.shipment.internal', 'cancel', [shipment_id])
    else:
        pytest.fail("no lot of Antwerp to ship")
    antwerp.model('stock.shipment.internal', 'pack', [shipment_id])
    # The sending manager ships: the empty incoming move left by the lots
    # goes, though it is the receiving branch's
    antwerp.model('stock.shipment.internal', 'ship', [shipment_id])
    return shipment_id, move['product.']['rec_name']


def test_lots_received_in_the_web_client(office, backoffice):
    """Brussels' manager receives a transfer of lots from Antwerp with the
    Receive button of sao, one unit damaged; each side reads the other's
    moves and employees on the transfer's form"""
    from tests.support.sao import Sao
    admin = office.admin
    antwerp = office.client(manager_login('ANT'), DEMO_PASSWORD)
    _, ant_storage = storage(admin, 'ANT')
    _, bxl_storage = storage(admin, 'BXL')
    shipment_id, product = ship_lots(admin, antwerp, ant_storage, bxl_storage)
    number, = [s['number'] for s in admin.model('stock.shipment.internal',
            'read', [shipment_id], ['number'])]

    with Sao(backoffice.url, backoffice.database) as sao:
        sao.login(manager_login('BXL'), DEMO_PASSWORD)
        sao.open_menu("Retail", "Stock", "Transfers")
        sao.tab.get_by_text("Incoming").first.click()
        sao.idle(1000)
        assert any(number in row for row in sao.rows()), sao.rows()
        sao.open_row(number)
        # The sender's outgoing moves show, not an access error
        sao.tab.get_by_text("Outgoing Moves").first.click()
        sao.idle(1000)
        moves = sao.tab.locator('.treeview').filter(
            has_text=product.split(']')[-1].strip()).first.inner_text()
        assert "#ERROR" not in moves and "Antwerp" in moves, moves
        sao.click_button("Receive")
        dialog = sao.dialog()
        line = dialog.locator('tbody tr').first
        assert product.split(']')[-1].strip() in line.inner_text()
        for name, value in [('received', '1'), ('damaged', '1'),
                ('reason', "Crushed box")]:
            column = {'received': 5, 'damaged': 6, 'reason': 8}[name]
            line.locator('td').nth(column).click()
            sao.idle(300)
            cell = dialog.locator(f'input[name="{name}"]:visible').first
            if not cell.count():
                line.locator('td').nth(column).click()
                sao.idle(300)
            cell.fill(value)
            cell.press('Tab')
            sao.idle(300)
        sao.click_button("Receive", dialog)
        sao.idle(1000)
        sao.tab.get_by_text("Differences").first.click()
        sao.idle(1000)
        differences = sao.tab.locator('.treeview').filter(
            has_text="Damaged").first.inner_text()
        assert "Crushed box" in differences or "Damaged" in differences
        # The difference's form shows the move that posted it (from the
        # transit to lost and found, outside both branches)
        sao.open_menu("Retail", "Stock", "Transfers", "Transfer Differences")
        sao.open_row("Crushed box")
        assert not sao.page.locator('.modal-dialog:visible').count(), (
            sao.page.locator('.modal-dialog:visible').first.inner_text())
        assert "#ERROR" not in sao.tab.inner_text()

    shipment, = admin.model('stock.shipment.internal', 'read', [shipment_id],
        ['state', 'differences'])
    assert shipment['state'] == 'done', shipment
    differences = admin.model('retail.stock.transfer.difference', 'read',
        shipment['differences'], ['kind', 'quantity', 'reason'])
    assert sorted((d['kind'], d['quantity'], d['reason'])
        for d in differences) == [('damaged', 1, "Crushed box")], differences
    # Antwerp's manager reads who received it in Brussels, and Brussels'
    # incoming moves, on its own transfer
    done, = antwerp.model('stock.shipment.internal', 'read', [shipment_id],
        ['done_by.rec_name', 'incoming_moves'])
    assert done['done_by.']['rec_name'], done
    assert antwerp.model('stock.move', 'read', done['incoming_moves'],
        ['to_location.rec_name'])
