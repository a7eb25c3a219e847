# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import (
    AccessError, RequiredValidationError, SQLConstraintError)
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.modules.retail.company import check_pin, hash_pin, pin_is_trivial
from trytond.modules.retail.exceptions import (
    BranchValidationError, PinValidationError, ReceiptPrefixError)
from trytond.modules.retail.tests.views import (
    unapplied_view_extensions, unrenderable_tree_columns)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction


def create_branch(company, code='B1', name="Branch"):
    pool = Pool()
    Branch = pool.get('retail.branch')
    Location = pool.get('stock.location')
    storage = Location(name=f"{code} Storage", type='storage')
    storage.save()
    warehouse = Location(
        name=f"{code} Warehouse", type='warehouse', code=code,
        storage_location=storage,
        input_location=storage, output_location=storage)
    warehouse.save()
    storage.parent = warehouse
    storage.save()
    branch = Branch(
        name=name, code=code, company=company, warehouse=warehouse,
        timezone='Europe/Brussels')
    branch.save()
    return branch


def create_terminal(branch, prefix, name="Till"):
    pool = Pool()
    POS = pool.get('sale.point')
    Journal = pool.get('account.journal')
    Location = pool.get('stock.location')
    Sequence = pool.get('ir.sequence.strict')
    SequenceType = pool.get('ir.sequence.type')
    sequence_type, = SequenceType.search([('name', '=', "POS")], limit=1)
    sequence = Sequence(
        name=name, sequence_type=sequence_type, company=branch.company)
    sequence.save()
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    customer, = Location.search([('code', '=', 'CUS')])
    terminal = POS(
        name=name, company=branch.company, branch=branch,
        receipt_prefix=prefix, journal=journal, sequence=sequence,
        storage_location=branch.warehouse.storage_location,
        customer_location=customer)
    terminal.save()
    return terminal


class RetailTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Retail module"
    module = 'retail'

    def test_pin_hash_roundtrip(self):
        "A PIN hash verifies the PIN and nothing else"
        pin_hash = hash_pin('2580', iterations=1000)
        self.assertTrue(check_pin('2580', pin_hash))
        self.assertFalse(check_pin('2581', pin_hash))
        self.assertFalse(check_pin('', pin_hash))
        self.assertFalse(check_pin('2580', 'garbage'))
        self.assertNotIn('2580', pin_hash)

    def test_pin_hash_salted(self):
        "The same PIN hashes differently each time (per-employee salt)"
        self.assertNotEqual(
            hash_pin('2580', iterations=1000),
            hash_pin('2580', iterations=1000))

    def test_pin_hash_format(self):
        "The hash records algorithm and cost so the POS can verify offline"
        algorithm, iterations, salt, digest = hash_pin('2580').split('$')
        self.assertEqual(algorithm, 'pbkdf2_sha256')
        self.assertGreaterEqual(int(iterations), 600_000)

    def test_pin_trivial(self):
        "Repeated and sequential PINs are too easy"
        for pin in ['0000', '1234', '9876', '7890', '1111111']:
            self.assertTrue(pin_is_trivial(pin), pin)
        for pin in ['2580', '1357', '4821']:
            self.assertFalse(pin_is_trivial(pin), pin)

    @with_transaction()
    def test_tree_views_renderable(self):
        "Every list column has a widget the web client can draw"
        self.assertEqual(unrenderable_tree_columns('retail'), [])

    @with_transaction()
    def test_view_extensions_applied(self):
        "Every view extension of the module is applied to the view it targets"
        self.assertEqual(unapplied_view_extensions('retail'), [])

    @with_transaction()
    def test_branch_terminals(self):
        "Create a branch with terminals"
        company = create_company()
        with set_company(company):
            self._create_accounting_basics(company)
            branch = create_branch(company)
            t1 = create_terminal(branch, 'b1a', "Till 1")
            t2 = create_terminal(branch, 'B1B', "Till 2")
            self.assertEqual(t1.receipt_prefix, 'B1A')
            self.assertEqual(list(branch.terminals), [t1, t2])
            self.assertEqual(t1.device_state, 'unenrolled')

    def _create_accounting_basics(self, company):
        pool = Pool()
        Journal = pool.get('account.journal')
        if not Journal.search([('type', '=', 'revenue')]):
            Journal(name="Revenue", type='revenue', code='REV').save()

    @with_transaction()
    def test_receipt_prefix_unique(self):
        "Two terminals cannot share a receipt prefix"
        company = create_company()
        with set_company(company):
            self._create_accounting_basics(company)
            branch = create_branch(company)
            create_terminal(branch, 'T1')
            with self.assertRaises(SQLConstraintError):
                create_terminal(branch, 'T1', "Till 2")

    @with_transaction()
    def test_receipt_prefix_invalid(self):
        "A receipt prefix is 1 to 6 capital letters or digits"
        company = create_company()
        with set_company(company):
            self._create_accounting_basics(company)
            branch = create_branch(company)
            for prefix in ['A-1', 'TOOLONG7', 'É1']:
                with self.subTest(prefix=prefix):
                    with self.assertRaises(
                            (ReceiptPrefixError, UserError)):
                        create_terminal(branch, prefix)
                    Transaction().rollback()

    @with_transaction()
    def test_terminal_of_a_branch_needs_receipt_prefix(self):
        """A point of sale of a branch (a terminal) needs a receipt prefix;
        one without a branch is a plain point of sale that needs none"""
        pool = Pool()
        POS = pool.get('sale.point')
        company = create_company()
        with set_company(company):
            self._create_accounting_basics(company)
            branch = create_branch(company)
            terminal = create_terminal(branch, 'T1')
            with self.assertRaises(RequiredValidationError):
                POS.write([terminal], {'receipt_prefix': None})
            POS.write([terminal], {'branch': None, 'receipt_prefix': None})
            self.assertIsNone(terminal.branch)
            with self.assertRaises(RequiredValidationError):
                POS.write([terminal], {'branch': branch.id})

    @with_transaction()
    def test_branch_code_unique(self):
        "Branch codes are unique"
        company = create_company()
        with set_company(company):
            create_branch(company, 'B1')
            with self.assertRaises(SQLConstraintError):
                create_branch(company, 'B1')

    @with_transaction()
    def test_branch_timezone_valid(self):
        "A branch time zone must be a real zone"
        pool = Pool()
        Branch = pool.get('retail.branch')
        company = create_company()
        with set_company(company):
            branch = create_branch(company, 'B1')
            with self.assertRaises((BranchValidationError, UserError)):
                Branch.write([branch], {'timezone': 'Mars/Olympus'})

    @with_transaction()
    def test_employee_pin(self):
        "An employee PIN is stored hashed and verified"
        pool = Pool()
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = Party(name="Alice")
            party.save()
            employee = Employee(party=party, company=company)
            employee.save()
            self.assertFalse(employee.pos_pin_set)
            Employee.write([employee], {'pos_pin': '4821'})
            employee = Employee(employee.id)
            self.assertTrue(employee.pos_pin_set)
            self.assertTrue(employee.pos_pin_hash.startswith('pbkdf2_sha256$'))
            self.assertNotIn('4821', employee.pos_pin_hash)
            self.assertIsNone(employee.pos_pin)
            self.assertTrue(employee.check_pos_pin('4821'))
            self.assertFalse(employee.check_pos_pin('4822'))

    @with_transaction()
    def test_employee_pin_invalid(self):
        "A PIN must be 4 to 8 digits and not trivial; nothing is changed"
        pool = Pool()
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = Party(name="Bob")
            party.save()
            employee = Employee(party=party, company=company)
            employee.save()
            Employee.write([employee], {'pos_pin': '4821'})
            for pin in ['12a4', '123', '123456789', '0000', '3456']:
                with self.subTest(pin=pin):
                    with self.assertRaises(PinValidationError):
                        Employee.write([employee], {'pos_pin': pin})
            self.assertTrue(Employee(employee.id).check_pos_pin('4821'))

    @with_transaction()
    def test_employee_pin_hash_not_readable(self):
        "The PIN hash is not readable through the API"
        pool = Pool()
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            party = Party(name="Carol")
            party.save()
            employee = Employee(party=party, company=company)
            employee.save()
            Employee.write([employee], {'pos_pin': '4821'})
            with Transaction().set_context(_check_access=True):
                with self.assertRaises(AccessError):
                    Employee.read([employee.id], ['pos_pin_hash'])
                values, = Employee.read([employee.id], ['pos_pin'])
            self.assertIsNone(values['pos_pin'])

    @with_transaction()
    def test_employee_permissions(self):
        "Employee POS permissions come from the role unless overridden"
        pool = Pool()
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        Role = pool.get('retail.pos.role')
        company = create_company()
        with set_company(company):
            role, = Role.search([('name', '=', "Cashier")])
            party = Party(name="Dan")
            party.save()
            employee = Employee(party=party, company=company, pos_role=role)
            employee.save()
            permissions = employee.get_pos_permissions()
            self.assertEqual(permissions['max_discount'], '5.00')
            self.assertFalse(permissions['allow_refund'])
            self.assertTrue(permissions['allow_close_session'])
            employee.pos_allow_refund = 'allow'
            employee.pos_allow_close_session = 'deny'
            employee.pos_max_discount = Decimal('12.5')
            employee.save()
            permissions = employee.get_pos_permissions()
            self.assertEqual(permissions['max_discount'], '12.50')
            self.assertTrue(permissions['allow_refund'])
            self.assertFalse(permissions['allow_close_session'])


del ModuleTestCase
