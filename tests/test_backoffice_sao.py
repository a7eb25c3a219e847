"""The back office as a store manager clicks through it: sao in Chromium,
logged in as the manager of Brussels (BXL) of the demo chain."""
import re
import urllib.error

import pytest

from retail_setup.demo import DEMO_PASSWORD
from tests.e2e.backoffice import employee, manager_login
from tests.support.chain import sync

CODE = re.compile(r'^[A-HJ-KM-NP-Z2-9]{4}-[A-HJ-KM-NP-Z2-9]{4}$')


@pytest.fixture(scope='module')
def sao(backoffice):
    from tests.support.sao import Sao
    with Sao(backoffice.url, backoffice.database) as sao:
        sao.login(manager_login('BXL'), DEMO_PASSWORD)
        yield sao


def device_rows(sao):
    devices = sao.tab.locator('.form-one2many, .one2many').filter(
        has_text="Devices").first
    return devices.locator('tbody tr:visible')


def test_terminal_form_enroll_and_revoke(backoffice, sao):
    """Enrollment Code shows a code, its expiry and its QR code; the code
    enrolls a till; Revoke on the device's row stops its key"""
    sao.open_menu("Retail", "Terminals")
    names = {cell for row in sao.rows() for cell in row
        if cell.startswith(("Brussels Till", "Antwerp Till"))}
    assert names == {"Brussels Till 1", "Brussels Till 2"}, sao.rows()
    sao.open_row("Brussels Till 2")
    # The device figures and the receipt-number report are on the form
    for label in ["Last Seen", "App Version", "Pending Operations",
            "Sync Cursor", "Receipt Numbers", "Devices"]:
        assert sao.tab.get_by_text(label, exact=False).first.is_visible()

    sao.click_button("Enrollment Code")
    dialog = sao.dialog()
    code = sao.field_value('code', dialog)
    assert CODE.match(code), code
    assert sao.field_value('expires', dialog)
    assert dialog.locator('img[src^="blob:"], img[src^="data:"]').count()
    sao.click_button("Close", dialog)
    # The new code's device waits for enrollment, with the code's expiry
    pending = device_rows(sao).filter(has_text="Waiting for Enrollment")
    pending.first.wait_for(timeout=10000)

    key = sync(backoffice, 'enroll', body={'code': code,
            'app_version': '9.9.9', 'device_name': "Till by the door"}
        )['device_key']
    sync(backoffice, 'status', key, {'app_version': '9.9.9',
            'pending_operations': 4})
    sao.reload()
    active = device_rows(sao).filter(has_text="Till by the door").first
    active.wait_for(timeout=10000)
    text = active.inner_text()
    assert "Active" in text and "9.9.9" in text and "4" in text

    # sao runs a list's button on the selected row: select, then click
    active.locator('td').filter(has_text="Till by the door").first.click()
    active.locator('button').filter(has_text="Revoke").first.click()
    confirm = sao.dialog()
    assert "Revoke it?" in confirm.inner_text()
    confirm.locator('button').filter(has_text="OK").first.click()
    sao.idle(1000)
    sao.reload()
    device_rows(sao).filter(has_text="Till by the door").filter(
        has_text="Revoked").first.wait_for(timeout=10000)
    with pytest.raises(urllib.error.HTTPError) as refused:
        sync(backoffice, 'status', key, {})
    assert refused.value.code == 401


def test_search_finds_nothing_of_another_branch(sao):
    "The lists' search box, as the manager types in it"
    sao.open_menu("Retail", "Employees & PINs")
    other = employee('Cashier', 'ANT')[0]
    own = employee('Cashier', 'BXL')[0]
    assert sao.search(other.split()[0]) == []
    assert any(own in row for row in sao.search(own.split()[0]))

    sao.open_menu("Inventory & Stock", "Locations")
    assert sao.search("Antwerp") == []
    assert any("Brussels Central Warehouse" in cell
        for row in sao.search("Brussels") for cell in row)
