"""retail_stock's lists as the store manager of Brussels (BXL) of the demo
chain sees them in sao: the lots near expiry and the low stock of their
branch only (screenshots in docs/screenshots/stock-*.png)."""
import os

import pytest

from retail_setup.demo import DEMO_PASSWORD
from tests.e2e.backoffice import manager_login

SHOTS = os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), 'docs', 'screenshots')


@pytest.fixture(scope='module')
def sao(backoffice):
    from tests.support.sao import Sao
    with Sao(backoffice.url, backoffice.database) as sao:
        sao.login(manager_login('BXL'), DEMO_PASSWORD)
        yield sao


def test_lots_near_expiry_of_the_managers_branch(sao):
    "The demo's fresh lots near expiry, Brussels' only, with quantities"
    sao.open_menu("Retail", "Stock", "Lots Near Expiry")
    sao.tab.get_by_text("All", exact=True).first.click()
    sao.idle(1000)
    rows = sao.rows()
    assert rows, "no lot near expiry in the demo"
    for row in rows:
        assert "Brussels" in row[0], row
        assert "Antwerp" not in " ".join(row), row
        assert any(c in ("Near Expiry", "Expired") for c in row), row
    sao.screenshot(os.path.join(SHOTS, 'stock-lots-near-expiry.png'))


def test_low_stock_of_the_managers_branch(sao):
    "The demo's low-stock item of Brussels, under its minimum"
    sao.open_menu("Retail", "Stock", "Low Stock")
    rows = sao.rows()
    assert len(rows) == 1, rows
    branch, product, quantity, minimum, target, kind = rows[0][:6]
    assert "Brussels" in branch and "Vine Tomatoes" in product, rows
    assert float(quantity.split()[0]) < float(minimum.split()[0]), rows
    sao.screenshot(os.path.join(SHOTS, 'stock-low-stock.png'))
