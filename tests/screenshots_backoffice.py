"""Take the screenshots of the back office (sao) in docs/screenshots/ with
headless Chromium, from a running server with the demo chain:

    .venv/bin/python tests/screenshots_backoffice.py URL DATABASE OUTDIR

As the administrator: the Retail menu, the branch list and form.  As the
Brussels store manager, after the tills of both branches synced a few
operations (tests/support/chain.py): the terminal form with its devices and
receipt report, its enrollment code, the employee form, the sync
conflicts and the price-drift and oversell flags."""
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'setup'))

from retail_setup.cli import ADMIN_PASSWORD  # noqa: E402
from retail_setup.demo import DEMO_PASSWORD  # noqa: E402
from tests.support.chain import fill, operation, sync  # noqa: E402
from tests.support.sao import Sao  # noqa: E402


def admin_screens(url, database, outdir):
    with Sao(url, database) as sao:
        sao.login('admin', ADMIN_PASSWORD)
        sao.page.locator('#menu').get_by_text("Retail", exact=True).click()
        sao.idle(1000)
        sao.screenshot(f'{outdir}/backoffice-retail-menu.png')
        sao.open_menu("Retail", "Branches")
        sao.screenshot(f'{outdir}/backoffice-branch-list.png')
        sao.open_row("Brussels Central")
        sao.page.wait_for_selector('text=Managers >> visible=true')
        sao.idle(1000)
        sao.screenshot(f'{outdir}/backoffice-branch-form.png')


def sale(records, number):
    "A cash sale of one item, as the till sends it"
    return operation(records['terminal'], records['cashier'], 'sale',
        number, {'receipt_number': number, 'customer': None, 'lines': [{
                    'product': records['product'], 'quantity': '1',
                    'unit_price': records['price'],
                    'price': records['price'], 'discount': None,
                    'lot': None}],
            'payments': [{'method': records['cash'],
                    'amount': records['price']}]})


def manager_screens(server, outdir):
    records = fill(server)
    with Sao(server.url, server.database) as sao:
        sao.login('manager.bxl', DEMO_PASSWORD)
        sao.open_menu("Retail", "Terminals")
        sao.open_row("Brussels Till 1")
        sao.click_button("Enrollment Code")
        dialog = sao.dialog()
        code = sao.field_value('code', dialog)
        sao.idle(1000)
        sao.screenshot(f'{outdir}/backoffice-enrollment-code.png')
        sao.click_button("Close", dialog)
        # A second till enrolled with the code and reported its status
        key = sync(server, 'enroll', body={'code': code,
                'app_version': '1.4.0', 'device_name': "Counter 1"}
            )['device_key']
        sync(server, 'status', key, {'app_version': '1.4.0',
                'pending_operations': 0})
        # It sends receipt 4 while 3 never arrived: a gap in the report
        sync(server, 'push', key, {'terminal': records['BXL']['terminal'],
                'operations': [sale(records['BXL'], 4)]})
        sao.reload()
        sao.page.get_by_text("Counter 1").first.wait_for()
        sao.page.set_viewport_size({'width': 1366, 'height': 1100})
        sao.idle(1000)
        sao.screenshot(f'{outdir}/backoffice-terminal-form.png')
        sao.page.set_viewport_size({'width': 1366, 'height': 900})

        sao.open_menu("Retail", "Employees & PINs")
        sao.open_row("Alice Martin")
        sao.idle(1000)
        sao.screenshot(f'{outdir}/backoffice-employee-form.png')

        sao.open_menu("Retail", "Sync", "Conflicts")
        sao.idle(1000)
        sao.screenshot(f'{outdir}/backoffice-sync-conflicts.png')
        sao.open_menu("Retail", "Sync", "Price Drift and Oversell")
        sao.idle(1000)
        sao.screenshot(f'{outdir}/backoffice-sync-flags.png')


def main(url, database, outdir):
    server = types.SimpleNamespace(url=url, database=database)
    admin_screens(url, database, outdir)
    manager_screens(server, outdir)


if __name__ == '__main__':
    main(*sys.argv[1:4])
