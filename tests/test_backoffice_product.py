"""The variant matrix, internal barcodes and labels of retail_product on the
demo chain: the demo's Oxford Shirt as its Size × Colour matrix made it,
the stock matrix in sao as a store manager sees it (their branch only),
variants generated from sao, labels printed through the JSON-RPC API."""
import base64
import io
import os

from stdnum import ean

from retail_setup.demo import DEMO_PASSWORD
from tests.e2e.backoffice import manager_login
from tests.support.rpc import Client

SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), 'docs', 'screenshots')


def admin(backoffice):
    return Client(backoffice.url, backoffice.database).login(
        'admin', 'retail-admin')


def test_demo_shirt_is_its_size_colour_matrix(backoffice):
    "Twelve variants, each named by its values, with an internal EAN-13"
    client = admin(backoffice)
    variants = client.search_read('product.product',
        [['template.code', '=', 'OXF']], ['rec_name', 'code', 'identifiers'],
        order=[['code', 'ASC']])
    names = [v['rec_name'] for v in variants]
    assert len(names) == 12 == len(set(names))
    assert "[OXF-M-BLUE] Oxford Shirt — M / Light Blue" in names
    codes = client.search_read('product.identifier',
        [['product.template.code', '=', 'OXF']], ['code', 'type'])
    assert len(codes) == 12 == len({c['code'] for c in codes})
    assert all(c['type'] == 'ean' and c['code'].startswith('20')
        and ean.is_valid(c['code']) for c in codes), codes


def open_template(sao, backoffice, code):
    """Open the form of the product template of code, by its address in
    sao (#database/model/product.template/id)"""
    template, = admin(backoffice).search_read('product.template',
        [['code', '=', code]], ['id'])
    sao.page.evaluate("hash => { window.location.hash = hash; }",
        f"#{backoffice.database}/model/product.template/{template['id']}")
    sao.idle(2000)
    sao.tab.locator('button#action').first.wait_for()


def launch(sao, action):
    """Run action from the Launch action menu of the open form (the menu
    is filled when it opens: opened again if its entry did not take the
    click)"""
    for attempt in range(3):
        sao.tab.locator('button#action').first.click()
        sao.idle(800)
        item = sao.page.locator('.dropdown-menu:visible a').filter(
            has_text=action).first
        try:
            item.click(timeout=10000)
            break
        except Exception:
            if attempt == 2:
                raise
            sao.page.keyboard.press('Escape')
            sao.idle(1000)
    sao.idle(2500)
    return sao.dialog()


def test_stock_matrix_in_sao_shows_the_managers_branch(backoffice):
    """A store manager opens Stock Matrix on the shirt: a column per colour,
    a row per size of their branch only, 6 of each variant"""
    from tests.support.sao import Sao
    with Sao(backoffice.url, backoffice.database) as sao:
        sao.login(manager_login('BXL'), DEMO_PASSWORD)
        open_template(sao, backoffice, 'OXF')
        dialog = launch(sao, "Stock Matrix")
        headers = [h.strip() for h in dialog.locator(
                'thead th:visible').all_inner_texts() if h.strip()]
        assert headers == ["Row", "White", "Light Blue", "Pink", "Total"]
        rows = sao.rows(dialog)
        assert [r[0] for r in rows] == [f"Brussels Central · {s}"
            for s in ['S', 'M', 'L', 'XL']], rows
        assert all(r[1:] == ['6', '6', '6', '18'] for r in rows), rows
        sao.page.screenshot(path=os.path.join(SCREENSHOTS,
                'retail-product-stock-matrix.png'))


def test_generate_variants_from_sao(backoffice):
    """A product with a Size × Colour matrix gets its variants from the
    Generate Variants wizard clicked in sao, then only a new colour's"""
    client = admin(backoffice)
    template, = client.search_read('product.template',
        [['code', '=', 'OXF']], ['attribute_set', 'default_uom',
            'account_category'])
    attributes = {a['name']: a for a in client.search_read(
            'product.attribute', [['name', 'in', ['size', 'colour']]],
            ['name'])}
    new, = client.model('product.template', 'create', [{
                'name': "Linen Polo", 'code': 'POLO', 'type': 'goods',
                'default_uom': template['default_uom'],
                'account_category': template['account_category'],
                'attribute_set': template['attribute_set'],
                'list_price': {'__class__': 'Decimal', 'decimal': '30'},
                'products': [['create', [{}]]],
                'variant_axes': [['create', [{
                                'sequence': 1,
                                'attribute': attributes['size']['id'],
                                'values': [['create', [{'value': v,
                                                'code': v, 'sequence': i}
                                            for i, v in enumerate(
                                                ['M', 'L'])]]]}, {
                                'sequence': 2,
                                'attribute': attributes['colour']['id'],
                                'values': [['create', [{'value': 'white',
                                                'code': 'WHITE'}]]]}]]],
                }])
    from tests.support.sao import Sao
    with Sao(backoffice.url, backoffice.database) as sao:
        sao.login('admin', 'retail-admin')
        open_template(sao, backoffice, 'POLO')
        dialog = launch(sao, "Generate Variants")
        rows = sao.rows(dialog)
        assert [r[0] for r in rows] == ["M / White", "L / White"], rows
        sao.page.screenshot(path=os.path.join(SCREENSHOTS,
                'retail-product-generate-variants.png'))
        sao.click_button("Generate", dialog)
    variants = client.search_read('product.product',
        [['template', '=', new]], ['code'], order=[['code', 'ASC']])
    assert [v['code'] for v in variants] == ['POLO-L-WHITE', 'POLO-M-WHITE']


def test_labels_pdf_through_rpc(backoffice):
    """Print Labels on the shirt's variants for Brussels: a PDF with their
    names and prices; the prices are recorded for re-labelling"""
    from pypdf import PdfReader
    client = admin(backoffice)
    variants = client.search_read('product.product',
        [['template.code', '=', 'OXF']], ['id'], order=[['code', 'ASC']])
    ids = [v['id'] for v in variants][:3]
    branch, = client.search_read('retail.branch', [['code', '=', 'BXL']],
        ['id'])
    context = dict(client.context, active_model='product.product',
        active_ids=ids, active_id=ids[0])
    session, _, _ = client.call('wizard.product.label.print.create',
        context)
    result = client.call('wizard.product.label.print.execute', session, {
            'start': {'layout': 'a4', 'branch': branch['id'], 'copies': 1,
                'count': 3}}, 'print_', context)
    (action, data), = result['actions']
    ext, content, _, _ = client.call('report.product.label.execute',
        data['ids'], data, client.context)
    assert ext == 'pdf'
    if isinstance(content, dict):
        content = base64.b64decode(content['base64'])
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert text.count("Oxford Shirt") == 3
    assert "49.95" in text
    printed = client.search_read('product.label.printed',
        [['branch', '=', branch['id']]], ['product'])
    assert sorted(p['product'] for p in printed) == sorted(ids)
