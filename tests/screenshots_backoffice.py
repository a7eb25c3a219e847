"""Take screenshots of the back office (sao) in headless Chromium:
    .venv/bin/python tests/screenshots_backoffice.py URL DATABASE OUTDIR"""
import sys

from playwright.sync_api import sync_playwright

ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run']


def main(url, database, outdir):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path='/usr/bin/chromium',
            args=ARGS)
        page = browser.new_page(viewport={'width': 1366, 'height': 800})
        page.goto(url)
        page.wait_for_selector('input#login', timeout=60000)
        if page.locator('input#database').is_editable():
            page.fill('input#database', database)
        page.fill('input#login', 'admin')
        page.locator('button[type="submit"]:visible').first.click()
        password = page.locator('input[type="password"]:visible').first
        password.wait_for(timeout=30000)
        password.fill('retail-admin')
        page.keyboard.press('Enter')
        page.wait_for_timeout(4000)
        cancel = page.locator('button:has-text("Cancel"):visible')
        if cancel.count():
            cancel.first.click()
        page.wait_for_selector('text=Retail', timeout=60000)
        page.wait_for_timeout(2000)
        page.locator('text=Retail').first.click()
        page.wait_for_timeout(1500)
        page.screenshot(path=f'{outdir}/backoffice-retail-menu.png')
        page.locator('text=Branches').first.dblclick()
        page.wait_for_timeout(3000)
        page.screenshot(path=f'{outdir}/backoffice-branch-list.png')
        page.locator('td:has-text("Brussels Central")').first.dblclick()
        page.wait_for_selector('text=Managers >> visible=true',
            timeout=60000)
        page.wait_for_timeout(4000)
        page.screenshot(path=f'{outdir}/backoffice-branch-form.png')
        browser.close()


if __name__ == '__main__':
    main(*sys.argv[1:4])
