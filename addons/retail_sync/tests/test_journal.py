# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The inalterable receipt journal: hashes chained at the till, checked on
arrival, and the whole chain walked by verify_journal after a stored sale
or operation is changed or deleted (docs/journal.md)"""
import json
from decimal import Decimal

from trytond.modules.retail_sync.journal import GENESIS, entry_hash
from trytond.modules.retail_sync.tests.tools import (
    committed, operation, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction


def chain(operations, previous=GENESIS):
    "Give each operation its journal as the till does; return the last hash"
    for op in operations:
        digest = entry_hash(op, previous)
        op['journal'] = {'previous': previous, 'hash': digest}
        previous = digest
    return previous


class JournalTestCase(TestCase):
    "Test the receipt journal"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])
        cls.shop = committed(setup_shop)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def push(self, operations):
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        with Transaction().set_context(company=self.shop.company):
            return Push.push(Terminal(self.shop.terminal), operations)

    def operations(self):
        return Pool().get('retail.sync.operation').search([
                ('terminal', '=', self.shop.terminal),
                ], order=[('sequence', 'ASC')])

    def verify(self):
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Terminal = pool.get('sale.point')
        report, = Operation.verify_journal([Terminal(self.shop.terminal)])
        return report

    def shift(self):
        "Three sales, a void and a return, chained"
        shop = self.shop
        ops = [
            sale_op(shop, 1, sequence=1),
            sale_op(shop, 2, sequence=2, payments=[
                    {'method': shop.cash, 'amount': '10.00'},
                    {'method': shop.card, 'amount': '14.00'}]),
            operation(shop, 'void', {'receipt_number': 3}, 3),
            sale_op(shop, 4, sequence=4),
            sale_op(shop, 5, sequence=5, type_='return',
                original_receipt=f'{shop.prefix}-000004', lines=[
                    {'product': shop.products[0], 'quantity': '-1',
                        'unit_price': '12.00', 'price': '12.00'}],
                payments=[{'method': shop.cash, 'amount': '-12.00'}]),
            ]
        chain(ops)
        return ops

    @with_transaction()
    def test_chained_shift_is_accepted_and_verified(self):
        "A chained shift is stored with its hashes and verifies"
        ops = self.shift()
        results = self.push(ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 5,
            results)
        self.assertFalse(any('journal_break' in (r['result'].get('flags')
                        or []) for r in results))
        stored = self.operations()
        self.assertEqual([o.journal_state for o in stored], ['chained'] * 5)
        self.assertEqual([o.journal_hash for o in stored],
            [o['journal']['hash'] for o in ops])
        self.assertEqual(stored[0].journal_previous, GENESIS)
        self.assertEqual(stored[1].journal_previous, stored[0].journal_hash)
        report = self.verify()
        self.assertEqual((report['state'], report['chained'],
                report['breaks']), ('chained', 5, []))

        # The chain goes on in a later push
        more = [sale_op(self.shop, 6, sequence=6)]
        chain(more, ops[-1]['journal']['hash'])
        result, = self.push(more)
        self.assertEqual(result['status'], 'accepted')
        self.assertEqual(self.operations()[-1].journal_state, 'chained')

    @with_transaction()
    def test_changed_entry_flagged_on_arrival(self):
        "An entry changed after the till hashed it is kept and flagged"
        pool = Pool()
        Flag = pool.get('retail.sync.sale.flag')
        ops = self.shift()
        ops[1]['payload']['payments'][1]['amount'] = '13.00'
        ops[1]['payload']['payments'][0]['amount'] = '11.00'
        results = self.push(ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 5)
        self.assertIn('journal_break', results[1]['result']['flags'])
        stored = self.operations()
        self.assertEqual([o.journal_state for o in stored],
            ['chained', 'broken', 'chained', 'chained', 'chained'])
        self.assertIn("the entry was changed", stored[1].journal_break)
        flag, = Flag.search([('kind', '=', 'journal_break')])
        self.assertEqual(flag.sale.id, results[1]['result']['sale'])
        report = self.verify()
        self.assertEqual([(b['sequence'], b['kind'])
                for b in report['breaks']], [(2, 'edited')])

    @with_transaction()
    def test_missing_entry_is_a_gap_on_arrival(self):
        "An entry the server never receives breaks the chain at the next"
        ops = self.shift()
        del ops[2]
        results = self.push(ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 4)
        stored = self.operations()
        self.assertEqual([o.journal_state for o in stored],
            ['chained', 'chained', 'broken', 'chained'])
        self.assertIn("an entry is missing", stored[2].journal_break)
        self.assertIn('journal_break', results[2]['result']['flags'])
        report = self.verify()
        self.assertEqual([(b['sequence'], b['kind'])
                for b in report['breaks']], [(4, 'gap')])
        # The terminal's receipt report names the break beside the gaps
        terminal = Pool().get('sale.point')(self.shop.terminal)
        self.assertIn(
            f"Journal breaks: 1 (receipts or operations "
            f"{stored[2].receipt_number or '#4'})",
            terminal.receipt_report)

    @with_transaction()
    def test_sale_changed_in_database_is_reported(self):
        "An amount changed by SQL in a stored sale is reported"
        pool = Pool()
        Payment = pool.get('sale.point.payment')
        results = self.push(self.shift())
        sale = results[1]['result']['sale']
        table = Payment.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.amount], [Decimal('4.00')],
                where=(table.sale == sale)
                & (table.amount == Decimal('14.00'))))
        report = self.verify()
        self.assertEqual(report['state'], 'broken')
        (brk,) = report['breaks']
        self.assertEqual((brk['sequence'], brk['kind'],
                brk['receipt_number']), (2, 'sale_changed', 2))
        self.assertIn("payments", brk['message'])
        self.assertIn("14.00", brk['message'])

    @with_transaction()
    def test_operation_edited_or_deleted_in_database_is_reported(self):
        "A stored operation edited or deleted by SQL is reported"
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        self.push(self.shift())
        stored = self.operations()
        table = Operation.__table__()
        cursor = Transaction().connection.cursor()
        data = json.loads(stored[3].payload)
        data['payload']['lines'][0]['quantity'] = '1'
        cursor.execute(*table.update([table.payload], [json.dumps(data)],
                where=table.id == stored[3].id))
        cursor.execute(*table.delete(where=table.id == stored[1].id))
        report = self.verify()
        self.assertEqual([(b['sequence'], b['kind'])
                for b in report['breaks']],
            [(3, 'gap'), (4, 'edited'), (4, 'sale_changed')])

    @with_transaction()
    def test_sale_deleted_in_database_is_reported(self):
        "A stored sale deleted by SQL is reported"
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        results = self.push(self.shift())
        table = Operation.__table__()
        cursor = Transaction().connection.cursor()
        # What ON DELETE SET NULL leaves of a deleted sale
        cursor.execute(*table.update([table.sale], [None],
                where=table.sale == results[0]['result']['sale']))
        brk, = self.verify()['breaks']
        self.assertEqual((brk['sequence'], brk['kind']), (1, 'sale_changed'))
        self.assertIn("was deleted", brk['message'])

    @with_transaction()
    def test_terminal_without_hashes_is_unchained(self):
        "Operations of a till that never sent hashes are unchained"
        results = self.push([sale_op(self.shop, 1, sequence=1),
                operation(self.shop, 'void', {'receipt_number': 2}, 2)])
        self.assertEqual([r['status'] for r in results], ['accepted'] * 2)
        self.assertEqual([o.journal_state for o in self.operations()],
            ['unchained'] * 2)
        report = self.verify()
        self.assertEqual((report['state'], report['breaks']),
            ('unchained', []))

    @with_transaction()
    def test_hash_missing_after_chain_started_is_a_break(self):
        "Once a terminal chains, an entry without hash is a break"
        first = [sale_op(self.shop, 1, sequence=1)]
        chain(first)
        self.push(first)
        result, = self.push([sale_op(self.shop, 2, sequence=2)])
        self.assertEqual(result['status'], 'accepted')
        self.assertIn('journal_break', result['result']['flags'])
        self.assertEqual(self.operations()[-1].journal_state, 'broken')
        self.assertEqual(self.verify()['state'], 'broken')

    @with_transaction()
    def test_float_in_entry_is_not_canonical(self):
        "A non-integer number cannot be hashed the same by all parties"
        ops = [sale_op(self.shop, 1, sequence=1)]
        chain(ops)
        ops[0]['payload']['lines'][0]['quantity'] = 2.5
        ops[0]['journal']['hash'] = 'a' * 64
        self.push(ops)
        stored, = self.operations()
        self.assertEqual(stored.journal_state, 'broken')
        self.assertIn("not canonical", stored.journal_break)

