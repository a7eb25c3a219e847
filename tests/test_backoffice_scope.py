"""A store manager runs their branch from the back office and sees nothing
of another: every model a manager opens, read through the JSON-RPC API the
web client uses, as the manager of Brussels (BXL) while Antwerp (ANT) has
records of the same kind (tests/support/chain.py)."""
import json
import urllib.error
from decimal import Decimal

import pytest

from retail_setup.demo import DEMO_PASSWORD
from tests.e2e.backoffice import Backoffice, employee, manager_login
from tests.support.chain import fill, sync
from tests.support.rpc import RPCError


@pytest.fixture(scope='module')
def chain(backoffice):
    return fill(backoffice)


@pytest.fixture(scope='module')
def office(backoffice):
    return Backoffice(backoffice)


@pytest.fixture(scope='module')
def manager(office):
    return office.client(manager_login('BXL'), DEMO_PASSWORD)


def _warehouse(chain, code):
    return chain[code]['warehouse']


# model: domain of branch code's records (as the administrator searches)
BRANCH_RECORDS = {
    'stock.location': lambda c, code: ['OR',
        ('id', '=', _warehouse(c, code)),
        ('parent', 'child_of', [_warehouse(c, code)], 'parent')],
    'stock.lot': lambda c, code: [('number', 'like', f'%-{code}')],
    'stock.move': lambda c, code: [
        ('to_location', 'child_of', [_warehouse(c, code)], 'parent')],
    'company.employee': lambda c, code: [
        ('party.name', 'in', [employee('Cashier', code)[0],
                employee('Store Manager', code)[0]])],
    'sale.point': lambda c, code: [('branch.code', '=', code)],
    'sale.point.cash.session': lambda c, code: [
        ('point.branch.code', '=', code)],
    'sale.point.sale': lambda c, code: [('point.branch.code', '=', code)],
    'retail.sync.operation': lambda c, code: [
        ('terminal.branch.code', '=', code), ('state', '=', 'rejected')],
    'retail.sync.request': lambda c, code: [
        ('terminal.branch.code', '=', code)],
    'retail.sync.device': lambda c, code: [
        ('terminal.branch.code', '=', code)],
    'retail.sync.override': lambda c, code: [('branch.code', '=', code)],
    'retail.sync.sale.flag': lambda c, code: [('branch.code', '=', code)],
    'stock.shipment.internal': lambda c, code: [
        ('from_location', 'child_of', [_warehouse(c, code)], 'parent')],
    }


@pytest.mark.parametrize('model', sorted(BRANCH_RECORDS))
def test_manager_finds_nothing_of_another_branch(model, chain, office,
        manager):
    own = office.admin.model(model, 'search',
        BRANCH_RECORDS[model](chain, 'BXL'), 0, None, None)
    other = office.admin.model(model, 'search',
        BRANCH_RECORDS[model](chain, 'ANT'), 0, None, None)
    assert own and other, "both branches have records of the kind"
    seen = set(manager.model(model, 'search', [], 0, None, None))
    assert set(own) <= seen
    assert not seen & set(other)
    assert manager.model(model, 'search', [('id', 'in', other)], 0, None,
        None) == []
    with pytest.raises(RPCError):
        manager.model(model, 'read', other[:1], ['id'])


def test_flags_of_both_kinds_are_scoped(chain, office, manager):
    "Price drift and oversell flags, one list in the back office"
    kinds = {f['kind'] for f in office.admin.search_read(
            'retail.sync.sale.flag', [('branch.code', '=', 'ANT')],
            ['kind'])}
    assert {'price_drift', 'oversell'} <= kinds
    assert {f['branch.']['code'] for f in manager.search_read(
            'retail.sync.sale.flag', [], ['branch.code'])} == {'BXL'}


def test_warehouse_filters_list_own_warehouses(chain, manager):
    """The reporting contexts (stock quantities by warehouse, sales
    reporting) list warehouses through their field's domain: the manager's
    list holds their branch's warehouse only"""
    fields = manager.model('stock.product_quantities_warehouse.context',
        'fields_get', ['warehouse'])
    domain = json.loads(fields['warehouse']['domain'])
    assert domain == [['type', '=', 'warehouse']]
    warehouses = manager.search_read('stock.location', domain, ['name'])
    assert [w['name'] for w in warehouses] == ["Brussels Central Warehouse"]


def test_stock_quantities_of_another_branch_are_not_given(chain, office,
        manager):
    product = chain['ANT']['product']
    for code, admin_sees, manager_sees in [
            ('BXL', True, True), ('ANT', True, False)]:
        context = dict(manager.context, locations=[chain[code]['storage']])
        quantity = manager.call('model.product.product.read', [product],
            ['quantity'], context)[0]['quantity']
        admin_context = dict(office.admin.context,
            locations=[chain[code]['storage']])
        total = office.admin.call('model.product.product.read', [product],
            ['quantity'], admin_context)[0]['quantity']
        assert (total != 0) == admin_sees
        assert (quantity == total) == manager_sees
        if not manager_sees:
            assert quantity == 0
    lots = office.admin.model('stock.lot', 'search',
        [('number', 'like', '%-ANT'), ('quantity', '!=', 0)], 0, 1, None)
    assert lots
    with pytest.raises(RPCError):
        manager.model('stock.lot', 'read', lots, ['quantity'])


def test_locations_carry_the_branch_name(office):
    locations = office.admin.search_read('stock.location',
        [('type', 'in', ['warehouse', 'storage'])], ['name'])
    for location in locations:
        if location['name'] != "Transit":
            assert location['name'].startswith(
                ("Brussels Central ", "Antwerp Meir ")), location


def test_branches_list_names_every_warehouse(chain, manager):
    """The Branches list as sao reads it (warehouse.rec_name): every branch
    with its warehouse's name, another branch's warehouse itself still
    hidden (the whole list showed #ERROR)"""
    rows = manager.search_read('retail.branch', [],
        ['code', 'name', 'warehouse.rec_name', 'timezone'])
    by_code = {r['code']: r for r in rows}
    assert {'BXL', 'ANT'} <= set(by_code), rows
    for code in ['BXL', 'ANT']:
        assert by_code[code]['warehouse.']['id'] == _warehouse(chain, code)
        assert by_code[code]['warehouse.']['rec_name'], rows
    with pytest.raises(RPCError):
        manager.model('stock.location', 'read', [_warehouse(chain, 'ANT')],
            ['rec_name'])
    with pytest.raises(RPCError):
        manager.search_read('retail.branch', [('code', '=', 'ANT')],
            ['warehouse.quantity'])


def _new_employee(manager, name, branch_codes, pin='4731'):
    branches = manager.model('retail.branch', 'search',
        [('code', 'in', branch_codes)], 0, None, None)
    role, = manager.model('retail.pos.role', 'search',
        [('name', '=', "Cashier")], 0, None, None)
    party, = manager.model('party.party', 'create', [{'name': name}])
    return manager.model('company.employee', 'create', [{
                'party': party, 'company': manager.context['company'],
                'pos_role': role, 'pos_pin': pin,
                'branches': [('add', branches)]}])[0]


def test_manager_creates_and_edits_employees_of_their_branch(office,
        manager):
    employee_id = _new_employee(manager, "Nina Scope", ['BXL'])
    manager.model('company.employee', 'write', [employee_id], {
            'pos_max_discount': {'__class__': 'Decimal', 'decimal': '5'},
            'pos_allow_refund': 'deny', 'pos_pin': '8260'})
    values, = manager.model('company.employee', 'read', [employee_id],
        ['pos_pin', 'pos_pin_set', 'pos_allow_refund', 'pos_max_discount'])
    assert values['pos_pin'] is None  # write-only
    assert values['pos_pin_set'] is True
    assert values['pos_allow_refund'] == 'deny'
    assert office.admin.model('company.employee', 'verify_pos_pin',
        employee_id, '8260') is True


def test_manager_cannot_touch_employees_of_another_branch(office, manager):
    with pytest.raises(RPCError):
        _new_employee(manager, "Oscar Elsewhere", ['ANT'])
    assert office.admin.model('company.employee', 'search',
        [('party.name', '=', "Oscar Elsewhere")], 0, None, None) == []
    antwerp, = office.admin.model('company.employee', 'search',
        [('party.name', '=', employee('Cashier', 'ANT')[0])], 0, None, None)
    with pytest.raises(RPCError):
        manager.model('company.employee', 'write', [antwerp],
            {'pos_pin': '8260'})
    own = _new_employee(manager, "Paul Moved", ['BXL'])
    ant_branch, = office.admin.model('retail.branch', 'search',
        [('code', '=', 'ANT')], 0, None, None)
    with pytest.raises(RPCError):
        manager.model('company.employee', 'write', [own],
            {'branches': [('add', [ant_branch])]})


def test_manager_enrolls_and_revokes_their_terminals_only(backoffice,
        chain, office, manager):
    own = office.terminal('BXL2')['id']
    result = manager.wizard('retail.sync.enroll', 'create_code',
        'sale.point', own)
    code = result['view']['defaults']['code']
    key = sync(backoffice, 'enroll', body={'code': code,
            'app_version': 'scope-test', 'device_name': "BXL2"}
        )['device_key']
    device, = manager.model('retail.sync.device', 'search',
        [('terminal', '=', own), ('state', '=', 'active')], 0, None, None)
    manager.model('retail.sync.device', 'revoke_device', [device])
    assert manager.model('retail.sync.device', 'read', [device],
        ['state'])[0]['state'] == 'revoked'
    with pytest.raises(urllib.error.HTTPError) as refused:
        sync(backoffice, 'status', key, {})
    assert refused.value.code == 401
    other = chain['ANT']['terminal']
    with pytest.raises(RPCError):
        manager.wizard('retail.sync.enroll', 'create_code', 'sale.point',
            other)
    ant_device, = office.admin.model('retail.sync.device', 'search',
        [('terminal', '=', other), ('state', '=', 'active')], 0, None, None)
    with pytest.raises(RPCError):
        manager.model('retail.sync.device', 'revoke_device', [ant_device])


def test_manager_replays_their_branch_conflicts_only(chain, office,
        manager):
    own, = manager.model('retail.sync.operation', 'search',
        [('state', '=', 'rejected')], 0, None, None)
    manager.model('retail.sync.operation', 'replay', [own])
    # Still an unknown product: rejected again, kept in the quarantine
    assert manager.model('retail.sync.operation', 'read', [own],
        ['state'])[0]['state'] == 'rejected'
    other, = office.admin.model('retail.sync.operation', 'search',
        [('state', '=', 'rejected'), ('terminal.branch.code', '=', 'ANT')],
        0, None, None)
    with pytest.raises(RPCError):
        manager.model('retail.sync.operation', 'replay', [other])


def test_manager_gives_no_more_than_their_own_pos_permissions(office,
        manager):
    "The manager's own POS role allows a 30% discount, the admin's 100%"
    employee_id = _new_employee(manager, "Rita Limits", ['BXL'])

    def decimal(value):
        return {'__class__': 'Decimal', 'decimal': value}
    manager.model('company.employee', 'write', [employee_id],
        {'pos_max_discount': decimal('30')})
    with pytest.raises(RPCError) as refused:
        manager.model('company.employee', 'write', [employee_id],
            {'pos_max_discount': decimal('31')})
    assert "maximum discount" in str(refused.value)
    super_admin, = manager.model('retail.pos.role', 'search',
        [('name', '=', "Super Admin")], 0, None, None)
    with pytest.raises(RPCError):
        manager.model('company.employee', 'write', [employee_id],
            {'pos_role': super_admin, 'pos_max_discount': None})
    values, = office.admin.model('company.employee', 'read', [employee_id],
        ['pos_max_discount', 'pos_role.name'])
    assert values['pos_role.']['name'] == "Cashier"
    assert Decimal(values['pos_max_discount']['decimal']) == Decimal(30)
