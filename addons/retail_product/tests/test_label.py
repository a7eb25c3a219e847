# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Labels: the PDF is read back, its text with pypdf and its barcodes by
rendering each page (pypdfium2) and decoding it with zbar (pyzbar)"""
import datetime as dt
import io
import unittest
from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.retail.tests.test_module import create_branch
from trytond.modules.retail_product.label import LAYOUTS, render_labels
from trytond.modules.retail_product.tests.test_module import (
    create_attributes, create_shirt)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

POINTS_PER_MM = 72 / 25.4


def pdf_pages(content):
    "[(width pt, height pt, text)] of the PDF's pages"
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(content))
    return [(round(float(p.mediabox.width), 1),
            round(float(p.mediabox.height), 1),
            p.extract_text()) for p in reader.pages]


def pdf_barcodes(content):
    "[[EAN-13 decoded]] of each page, rendered at 300 dpi"
    import pypdfium2
    from pyzbar.pyzbar import decode
    document = pypdfium2.PdfDocument(content)
    found = []
    for page in document:
        image = page.render(scale=300 / 72).to_pil().convert('L')
        found.append(sorted(s.data.decode() for s in decode(image)
                if s.type == 'EAN13'))
    return found


class LabelRenderTestCase(unittest.TestCase):
    "Label sheets drawn without a database"

    def test_layouts_page_sizes(self):
        "A4 holds 24 labels a page; a roll label is its own page size"
        label = {'name': "Oxford Shirt", 'variant': "M / Light Blue",
            'price': "€49.95", 'unit_price': "€49.95 / u",
            'barcode': '2000000000015'}
        pages = pdf_pages(render_labels([label] * 25, 'a4'))
        a4 = (round(210 * POINTS_PER_MM, 1), round(297 * POINTS_PER_MM, 1))
        self.assertEqual([(w, h) for w, h, _ in pages], [a4, a4])
        self.assertEqual(pages[0][2].count("Oxford Shirt"), 24)
        pages = pdf_pages(render_labels([label], 'roll_58x40'))
        self.assertEqual([(w, h) for w, h, _ in pages],
            [(round(58 * POINTS_PER_MM, 1), round(40 * POINTS_PER_MM, 1))])
        pages = pdf_pages(render_labels([label], 'roll_2.25x1.25'))
        self.assertEqual([(w, h) for w, h, _ in pages],
            [(2.25 * 72, 1.25 * 72)])

    def test_barcode_decodes_on_every_layout(self):
        "The EAN-13 drawn on each layout decodes to the product's code"
        codes = ['2000000000015', '5412999000018']
        labels = [{'name': f"Item {c}", 'variant': '', 'price': "€1.00",
                'unit_price': '', 'barcode': c} for c in codes]
        for layout in LAYOUTS:
            with self.subTest(layout=layout):
                found = pdf_barcodes(render_labels(labels, layout))
                self.assertEqual(sorted(c for page in found for c in page),
                    codes)


class ProxyLabelJobTestCase(unittest.TestCase):
    "Label jobs for the hardware proxy"

    def test_proxy_accepts_the_job(self):
        "The proxy's own parser reads the job: name, price, lines, EAN-13"
        from iot_proxy.receipt import parse_labels
        from trytond.modules.retail_product.label import proxy_label_job
        job = proxy_label_job([{'name': "Oxford Shirt",
                    'variant': "M / Light Blue", 'price': "€49.95",
                    'price_value': Decimal('49.95'),
                    'unit_price': "€49.95 / u",
                    'barcode': '2000000000015', 'copies': 2}], '€')
        self.assertEqual(job['type'], 'label')
        labels, currency = parse_labels(job['labels'])
        label, = labels
        self.assertEqual(label.name, "Oxford Shirt — M / Light Blue")
        self.assertEqual(label.price, Decimal('49.95'))
        self.assertEqual(label.lines, ["€49.95 / u"])
        self.assertEqual((label.barcode.type, label.barcode.data),
            ('EAN13', '2000000000015'))
        self.assertEqual(label.copies, 2)


class LabelTestCase(unittest.TestCase):
    "Labels printed from the back office"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_product', 'stock_lot', 'stock_lot_sled'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    @with_transaction()
    def test_print_products_records_prices_and_relabel(self):
        """Printing labels for a branch records their prices; a changed price
        is re-labelled, an unchanged one is not"""
        pool = Pool()
        Template = pool.get('product.template')
        Print = pool.get('product.label.print', type='wizard')
        Relabel = pool.get('product.label.relabel', type='wizard')
        Printed = pool.get('product.label.printed')
        company = create_company()
        with set_company(company):
            branch = create_branch(company, 'B1', "Boutique")
            template = create_shirt(*create_attributes(),
                sizes=('M', 'L'), colours=('blue',),
                extras={'L': Decimal('5')})
            products = {p.code: p
                for p in Template.generate_variants([template])}
            ids = [p.id for p in products.values()]
            with Transaction().set_context(active_model='product.product',
                    active_ids=ids, active_id=ids[0]):
                session_id, _, _ = Print.create()
                Print.execute(session_id, {}, 'start')
                result = Print.execute(session_id, {'start': {
                            'layout': 'roll_58x40', 'branch': branch.id,
                            'copies': 2, 'count': 2}}, 'print_')
            (action, data), = result['actions']
            Report = pool.get('product.label', type='report')
            ext, content, _, _ = Report.execute(data['ids'], data)
            self.assertEqual(ext, 'pdf')
            pages = pdf_pages(content)
            self.assertEqual(len(pages), 4)
            text = '\n'.join(t for _, _, t in pages)
            self.assertIn("Oxford Shirt", text)
            self.assertIn("M / Light Blue", text)
            self.assertIn("L / Light Blue", text)
            self.assertIn("45.00", text)
            self.assertIn("40.00", text)
            found = sorted(c for page in pdf_barcodes(content) for c in page)
            eans = sorted(i.code for p in products.values()
                for i in p.identifiers) * 2
            self.assertEqual(found, sorted(eans))
            printed = Printed.search([('branch', '=', branch.id)])
            self.assertEqual(sorted(p.price for p in printed),
                [Decimal('40.00'), Decimal('45.00')])

            # the same labels as a job for the hardware proxy
            from iot_proxy.receipt import parse_labels
            job = Printed.label_job([{'product': products['OXF-L-BLUE'].id,
                        'copies': 3}], branch.id)
            (label,), _ = parse_labels(job['labels'])
            self.assertEqual(label.name, "Oxford Shirt — L / Light Blue")
            self.assertEqual(label.price, Decimal('45.00'))
            self.assertEqual(label.barcode.data, products[
                    'OXF-L-BLUE'].identifiers[0].code)
            self.assertEqual(label.copies, 3)

            # the L's price changes: only it is re-labelled
            large, = [v for a in template.variant_axes for v in a.values
                if v.value == 'L']
            pool.get('product.template.variant_value').write([large],
                {'price_extra': Decimal('7')})
            session_id, _, _ = Relabel.create()
            result = Relabel.execute(session_id, {}, 'start')
            self.assertEqual(result['view']['defaults']['branch'], branch.id)
            result = Relabel.execute(session_id, {'start': {
                        'branch': branch.id, 'layout': 'a4', 'copies': 1,
                        'products': []}}, 'print_')
            (action, data), = result['actions']
            self.assertEqual(data['ids'], [products['OXF-L-BLUE'].id])
            ext, content, _, _ = Report.execute(data['ids'], data)
            text = pdf_pages(content)[0][2]
            self.assertIn("47.00", text)
            self.assertNotIn("M / Light Blue", text)
            # printed: nothing left to re-label
            session_id, _, _ = Relabel.create()
            with self.assertRaises(Exception):
                Relabel.execute(session_id, {'start': {
                            'branch': branch.id, 'layout': 'a4',
                            'copies': 1, 'products': []}}, 'print_')

    @with_transaction()
    def test_lot_label_from_shipment(self):
        "Labels from a supplier shipment carry the lot and its expiry"
        pool = Pool()
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        Lot = pool.get('stock.lot')
        Shipment = pool.get('stock.shipment.in')
        Party = pool.get('party.party')
        Print = pool.get('product.label.print', type='wizard')
        Report = pool.get('product.label', type='report')
        company = create_company()
        with set_company(company):
            branch = create_branch(company, 'B1', "Grocer")
            unit, = Uom.search([('name', '=', "Unit")])
            template, = Template.create([{'name': "Yoghurt",
                        'type': 'goods', 'default_uom': unit.id,
                        'list_price': Decimal('1.20'),
                        'products': [('create', [{}])]}])
            product, = template.products
            lot, = Lot.create([{'number': 'L42', 'product': product.id,
                        'shelf_life_expiration_date': dt.date(2030, 1, 31),
                        'expiration_date': dt.date(2030, 2, 3)}])
            supplier, = Party.create([{'name': "Dairy"}])
            shipment, = Shipment.create([{'supplier': supplier.id,
                        'company': company.id,
                        'warehouse': branch.warehouse.id,
                        'warehouse_input': branch.warehouse.input_location.id,
                        'warehouse_storage':
                        branch.warehouse.storage_location.id}])
            Move = pool.get('stock.move')
            Move.create([{'product': product.id, 'unit': unit.id,
                        'quantity': 10, 'lot': lot.id,
                        'from_location': shipment.supplier_location.id,
                        'to_location': shipment.warehouse_input.id,
                        'unit_price': Decimal('0.5'),
                        'currency': company.currency.id,
                        'company': company.id,
                        'shipment': str(shipment)}])
            with Transaction().set_context(
                    active_model='stock.shipment.in',
                    active_ids=[shipment.id], active_id=shipment.id):
                session_id, _, _ = Print.create()
                result = Print.execute(session_id, {'start': {
                            'layout': 'roll_2.25x1.25', 'branch': None,
                            'copies': 1, 'count': 1}}, 'print_')
            (action, data), = result['actions']
            ext, content, _, _ = Report.execute(data['ids'], data)
            self.assertEqual(ext, 'pdf')
            text, = [t for _, _, t in pdf_pages(content)]
            self.assertIn("Yoghurt", text)
            self.assertIn("Lot L42", text)
            self.assertIn("01/31/2030", text)
            self.assertIn("1.20", text)

