# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import unittest

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.retail.exceptions import PaymentMethodTypeError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction


def cash_account(company):
    "An account payment methods may use, without a whole chart"
    pool = Pool()
    Account = pool.get('account.account')
    AccountType = pool.get('account.account.type')
    accounts = Account.search([('company', '=', company.id)], limit=1)
    if accounts:
        return accounts[0]
    type_ = AccountType(
        name="Cash", company=company, statement='balance', assets=True)
    type_.save()
    account = Account(name="Cash", code='CASH', type=type_, company=company)
    account.save()
    return account


class PaymentMethodTestCase(unittest.TestCase):
    "The type of the sale point payment methods"

    @classmethod
    def setUpClass(cls):
        activate_module('retail')

    def create_method(self, **values):
        Method = Pool().get('sale.point.payment.method')
        company = values.pop('company')
        method, = Method.create([dict(
                    name=values.pop('name', "Method"),
                    account=cash_account(company).id,
                    company=company.id, **values)])
        return method

    @with_transaction()
    def test_type_defaults_to_other(self):
        company = create_company()
        with set_company(company):
            method = self.create_method(company=company, name="Cheque")
            self.assertEqual(method.type, 'other')
            self.assertFalse(method.cash)

    @with_transaction()
    def test_cash_flag_alone_makes_a_cash_method(self):
        "sale_point's own code marks the cash method with cash alone"
        company = create_company()
        with set_company(company):
            method = self.create_method(company=company, cash=True)
            self.assertEqual(method.type, 'cash')

    @with_transaction()
    def test_type_cash_makes_the_cash_method(self):
        Method = Pool().get('sale.point.payment.method')
        company = create_company()
        with set_company(company):
            method = self.create_method(company=company, type='cash')
            self.assertTrue(method.cash)
            Method.write([method], {'type': 'card_terminal'})
            self.assertFalse(method.cash)
            self.assertEqual(method.type, 'card_terminal')

    @with_transaction()
    def test_type_and_cash_flag_must_agree(self):
        Method = Pool().get('sale.point.payment.method')
        company = create_company()
        with set_company(company):
            cash = self.create_method(company=company, type='cash')
            with self.assertRaises(PaymentMethodTypeError):
                Method.write([cash], {'cash': False})
            method = self.create_method(company=company, type='card')
            with self.assertRaises(PaymentMethodTypeError):
                Method.write([method], {'type': 'voucher', 'cash': True})
            with self.assertRaises(PaymentMethodTypeError):
                self.create_method(company=company, type='cash', cash=False)

    @with_transaction()
    def test_on_change_keeps_type_and_cash_flag_together(self):
        Method = Pool().get('sale.point.payment.method')
        method = Method(type='wallet', cash=False)
        method.type = 'cash'
        method.on_change_type()
        self.assertTrue(method.cash)
        method.cash = False
        method.on_change_cash()
        self.assertEqual(method.type, 'other')
        method.type = 'voucher'
        method.cash = True
        method.on_change_cash()
        self.assertEqual(method.type, 'cash')

    @with_transaction()
    def test_migration_sets_the_type_of_existing_methods(self):
        "Methods made before the type: the cash method cash, others other"
        pool = Pool()
        Method = pool.get('sale.point.payment.method')
        company = create_company()
        with set_company(company):
            cash = self.create_method(company=company, name="Cash", cash=True)
            card = self.create_method(
                company=company, name="Card", type='card')
        table_h = Method.__table_handler__('retail')
        table_h.drop_column('type')
        self.assertFalse(table_h.column_exist('type'))
        Method.__register__('retail')
        table = Method.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.type, order_by=[table.id.asc]))
        self.assertEqual(
            dict(cursor), {cash.id: 'cash', card.id: 'other'})

