# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The example addon end to end over the sync API (trytond's real WSGI
application and database): a pulled kind, a product field sent with the
products and a push operation, all added without editing retail_sync"""
import os

from trytond.modules.retail.tests.views import unapplied_view_extensions
from trytond.modules.retail_sync.tests.tools import (
    Api, committed, enroll, operation, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')


def bootstrap(api):
    "All the records of a bootstrap by kind, and its cursor"
    records, token = {}, None
    while True:
        params = {'page': token} if token else {}
        status, page = api.get('bootstrap', **params)
        assert status == 200, page
        for kind, values in page['records'].items():
            records.setdefault(kind, []).extend(values)
        if page['next_page'] is None:
            return records, page['cursor']
        token = page['next_page']


class RetailExampleTestCase(ModuleTestCase):
    "Test the example addon"
    module = 'retail_example'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = committed(setup_shop)

    def api(self):
        return Api(committed(lambda: enroll(self.shop.terminal)))

    def note_op(self, text="Shelf label torn", product=None, sequence=1):
        return operation(self.shop, 'example_note', {
                'text': text,
                'product': (self.shop.products[0]
                    if product is None else product),
                }, sequence=sequence)

    @with_transaction()
    def test_view_extensions_applied(self):
        "The shelf note is in the product form"
        self.assertEqual(unapplied_view_extensions('retail_example'), [])

    def test_push_pull_and_replay(self):
        """A pushed note is recorded once, pulled by the branch's tills; the
        shelf note travels with the product"""
        api = self.api()
        product = self.shop.products[0]

        def set_note():
            Product = Pool().get('product.product')
            template = Product(product).template
            template.shelf_note = "Keep refrigerated"
            template.save()
        committed(set_note)

        op = self.note_op()
        status, data = api.push([op])
        self.assertEqual(status, 200, data)
        result, = data['results']
        self.assertEqual(result['status'], 'accepted', result)
        note_id = result['result']['note']

        # The answer was lost: the till pushes the same operation again
        status, again = api.push([op])
        self.assertEqual(again['results'][0]['status'], 'duplicate')
        self.assertEqual(again['results'][0]['result'], result['result'])

        def notes():
            Note = Pool().get('retail.example.note')
            return [(n.id, n.text, n.product.id, n.branch.id)
                for n in Note.search([])]
        self.assertEqual(committed(notes), [
                (note_id, "Shelf label torn", product, self.shop.branch)])

        records, cursor = bootstrap(api)
        self.assertEqual(records['example_note'], [{
                    'id': note_id, 'product': product,
                    'text': "Shelf label torn",
                    'terminal': self.shop.terminal}])
        shelf = {p['id']: p['shelf_note'] for p in records['product']}
        self.assertEqual(shelf[product], "Keep refrigerated")

        # A new note and a changed shelf note reach the till as changes
        status, data = api.push([self.note_op("Price missing", sequence=2)])
        self.assertEqual(data['results'][0]['status'], 'accepted')

        def change_note():
            Product = Pool().get('product.product')
            template = Product(product).template
            template.shelf_note = "Sold by the piece"
            template.save()
        committed(change_note)
        status, data = api.get('changes', cursor=cursor)
        self.assertEqual(status, 200, data)
        changes = {(c['kind'], c['id']): c for c in data['changes']}
        note_changes = [c for (kind, _), c in changes.items()
            if kind == 'example_note']
        self.assertEqual([c['data']['text'] for c in note_changes],
            ["Price missing"])
        self.assertEqual(
            changes[('product', product)]['data']['shelf_note'],
            "Sold by the piece")

    def test_bad_payload_is_quarantined(self):
        """A note that does not fit its schema, or names an unknown
        product, is rejected to the quarantine; a malformed body is 400"""
        api = self.api()
        bad = [
            self.note_op(text=""),
            self.note_op(text="   ", sequence=2),
            self.note_op(product=2 ** 31 - 2, sequence=3),
            operation(self.shop, 'example_note',
                {'text': "x", 'colour': "red"}, sequence=4),
            ]
        status, data = api.push(bad)
        self.assertEqual(status, 200, data)
        self.assertEqual(
            [(r['status'], r['reason']['code']) for r in data['results']],
            [('rejected', 'invalid_payload'), ('rejected', 'invalid_payload'),
                ('rejected', 'unknown_product'),
                ('rejected', 'invalid_payload')])
        self.assertEqual(data['results'][3]['reason']['message'],
            "payload.colour: is not a known field.")

        def quarantine():
            pool = Pool()
            Note = pool.get('retail.example.note')
            Operation = pool.get('retail.sync.operation')
            operations = Operation.search([
                    ('uuid', 'in', [o['uuid'] for o in bad])])
            return (Note.search([], count=True),
                sorted((o.type, o.state) for o in operations))
        count, operations = committed(quarantine)
        self.assertEqual(count, 0)
        self.assertEqual(operations, [('example_note', 'rejected')] * 4)

        status, data = api.post('push', {'operations': "not a list"})
        self.assertEqual(status, 400, data)

    @with_transaction()
    def test_registered_type_and_kind(self):
        """The operation type is labelled in the back office; the OpenAPI
        comparison names what the shipped description lacks"""
        import yaml

        from trytond.modules.retail_sync.openapi import differences
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Pull = pool.get('retail.sync.pull')
        self.assertIn(('example_note', "Till Note"), Operation.get_types())
        self.assertEqual(Pull.kinds()[-1], 'example_note')
        path = os.path.join(ROOT, 'docs', 'sync-openapi.yaml')
        if not os.path.exists(path):
            self.skipTest("not run from a checkout")
        with open(path) as file:
            found = differences(yaml.safe_load(file))
        self.assertEqual(found[0],
            "operation type 'example_note' is not described")
        self.assertTrue(found[1].startswith("pulled kinds ["))
        self.assertEqual(len(found), 2)


del ModuleTestCase
