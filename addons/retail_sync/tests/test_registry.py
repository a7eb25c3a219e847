# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The operation handlers and pulled kinds retail_sync registers, and the
OpenAPI description that lists them"""
import os
import unittest

from trytond.modules.retail_sync import schema
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)

OPENAPI = os.path.join(os.path.dirname(__file__), '..', '..', '..',
    'docs', 'sync-openapi.yaml')


def load_openapi(test):
    import yaml
    if not os.path.exists(OPENAPI):
        test.skipTest("not run from a checkout")
    with open(OPENAPI) as file:
        return yaml.safe_load(file)


class RegistryTestCase(unittest.TestCase):
    "What retail_sync registers through its hooks"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    @with_transaction()
    def test_openapi_lists_the_operation_types(self):
        """Each registered operation type is described with the schema of
        its payload, grouped as docs/sync-openapi.yaml groups them"""
        from trytond.modules.retail_sync.openapi import described
        document = load_openapi(self)
        components = document['components']['schemas']
        Push = Pool().get('retail.sync.push')
        handlers = Push._operation_handlers()
        operations = {}
        for type_, handler in handlers.items():
            self.assertIn(handler.payload_schema, schema.SCHEMAS)
            operations.setdefault(handler.payload_schema, []).append(type_)
        listed = [ref['$ref'].rsplit('/', 1)[1]
            for ref in components['Operation']['oneOf']]
        for payload, types in operations.items():
            name = payload.replace('Payload', 'Operation')
            self.assertIn(name, listed)
            base, own = components[name]['allOf']
            self.assertEqual(base['$ref'].rsplit('/', 1)[1], 'OperationBase')
            self.assertEqual(own['properties']['type']['enum'], types)
            self.assertEqual(own['properties']['payload']['$ref'].rsplit(
                    '/', 1)[1], payload)
        self.assertEqual(list(described(document)['operations']),
            list(handlers))

    @with_transaction()
    def test_openapi_lists_the_pulled_kinds(self):
        """The kinds a change may have are those the server sends (those of
        another module marked with it in x-modules)"""
        from trytond.modules.retail_sync.openapi import described
        document = load_openapi(self)
        Pull = Pool().get('retail.sync.pull')
        change = document['components']['schemas']['Change']
        kind = change['properties']['kind']
        self.assertEqual(described(document)['kinds'], Pull.kinds())
        self.assertEqual(
            [k for k in kind['enum'] if k not in kind.get('x-modules', {})],
            Pull.kinds())

    @with_transaction()
    def test_no_difference_with_openapi(self):
        "openapi.differences finds none with the shipped modules"
        from trytond.modules.retail_sync.openapi import differences
        self.assertEqual(differences(load_openapi(self)), [])

    @with_transaction()
    def test_operation_type_selection(self):
        "An operation's type is one of the registered handlers'"
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Push = pool.get('retail.sync.push')
        types = Operation.get_types()
        self.assertEqual(types[0], (None, ""))
        self.assertEqual([t for t, _ in types[1:]],
            list(Push._operation_handlers()))
        self.assertEqual(dict(types)['audit'], "Manager Override")
        self.assertTrue(all(label for _, label in types[1:]))

    @with_transaction()
    def test_handler_attributes(self):
        """The operations that may name the cash session, those booked in a
        closed one, those with a receipt number"""
        Push = Pool().get('retail.sync.push')
        handlers = Push._operation_handlers()
        self.assertEqual(list(handlers), [
                'sale', 'return', 'void', 'cash_in', 'cash_out',
                'session_open', 'session_close', 'customer', 'stock_count',
                'audit'])
        self.assertEqual({t for t, h in handlers.items() if h.session},
            {'sale', 'return', 'cash_in', 'cash_out', 'session_close'})
        self.assertEqual(
            {t for t, h in handlers.items() if h.closed_session},
            {'sale', 'return'})
        self.assertEqual({t for t, h in handlers.items() if h.receipt},
            {'sale', 'return', 'void'})
        self.assertEqual({t for t, h in handlers.items() if h.batched},
            {'sale'})

    @with_transaction()
    def test_kinds_in_bootstrap_order(self):
        "A kind comes after the kinds it refers to"
        Pull = Pool().get('retail.sync.pull')
        kinds = Pull.kinds()
        for before, after in [('uom', 'product'), ('category', 'product'),
                ('tax', 'product'), ('product', 'lot'), ('lot', 'stock'),
                ('product', 'quick_key'), ('branch', 'terminal')]:
            self.assertLess(kinds.index(before), kinds.index(after))


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromTestCase(RegistryTestCase))
    return suite
