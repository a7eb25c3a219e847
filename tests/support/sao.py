"""The back office's web client (sao) in Debian's Chromium, driven by
Playwright the way a user clicks through it.

    with Sao(server.url, server.database) as sao:
        sao.login('manager.bxl', 'retail-demo')
        sao.open_menu("Retail", "Terminals")
        sao.open_row("Brussels Till 1")
        sao.click_button("Enrollment Code")
"""
from playwright.sync_api import sync_playwright

CHROMIUM = '/usr/bin/chromium'
ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run']
TIMEOUT = 60000


class Sao:

    def __init__(self, url, database, viewport=(1366, 900)):
        self.url = url
        self.database = database
        self.viewport = viewport
        self.playwright = self.browser = self.page = None

    def __enter__(self):
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=CHROMIUM, args=ARGS)
        width, height = self.viewport
        self.page = self.browser.new_page(
            viewport={'width': width, 'height': height})
        self.page.set_default_timeout(TIMEOUT)
        return self

    def __exit__(self, *exc):
        self.browser.close()
        self.playwright.stop()

    def login(self, login, password):
        page = self.page
        page.goto(self.url)
        page.wait_for_selector('input#login')
        # Once the database list has answered, sao shows a list to choose
        # from, the only database read-only, or (no list) a field to type in
        page.wait_for_load_state('networkidle')
        choose = page.locator('select#database:visible')
        if choose.count():
            choose.select_option(self.database)
        elif page.locator('input#database').is_editable():
            page.fill('input#database', self.database)
        page.fill('input#login', login)
        page.locator('button[type="submit"]:visible').first.click()
        password_input = page.locator('input[type="password"]:visible').first
        password_input.wait_for()
        password_input.fill(password)
        page.keyboard.press('Enter')
        page.wait_for_selector('#menu >> text=Retail')
        self.idle()

    def idle(self, extra=300):
        "Wait until sao has no request in flight"
        self.page.wait_for_load_state('networkidle')
        self.page.wait_for_timeout(extra)

    def open_menu(self, *path):
        "Open the menu entry at path (e.g. 'Retail', 'Sync', 'Conflicts')"
        menu = self.page.locator('#menu')
        for name, child in zip(path, path[1:]):
            if not menu.get_by_text(child, exact=True).first.is_visible():
                menu.get_by_text(name, exact=True).first.click()
                menu.get_by_text(child, exact=True).first.wait_for()
        menu.get_by_text(path[-1], exact=True).first.dblclick()
        self.idle(1000)

    @property
    def tab(self):
        "The content of the current tab"
        return self.page.locator('#tabcontent > .tab-pane.active')

    def rows(self, within=None, wait=5000):
        """The rows of the current tab's list (or of the list within), each
        as the list of its cells' texts; waits up to wait ms for a row (an
        empty list is only known once sao had time to fill it)"""
        self.idle()
        scope = within or self.tab.locator('.treeview').first
        waited = 0
        while True:
            result = []
            for row in scope.locator('tbody tr:visible').all():
                cells = [c.strip()
                    for c in row.locator('td').all_inner_texts()]
                cells = [c for c in cells if c]
                if cells:
                    result.append(cells)
            if result or waited >= wait:
                return result
            self.page.wait_for_timeout(250)
            waited += 250

    def search(self, text):
        box = self.tab.locator('input[placeholder="Search"]').first
        box.fill(text)
        box.press('Enter')
        self.idle(1000)
        return self.rows()

    def open_row(self, text):
        self.tab.locator('td').filter(has_text=text).first.dblclick()
        self.idle(1000)

    def click_button(self, text, scope=None):
        scope = scope or self.tab
        scope.locator('button').filter(has_text=text).first.click()
        self.idle(1000)

    def dialog(self):
        dialog = self.page.locator('.modal-dialog:visible').last
        dialog.wait_for()
        return dialog

    def field_value(self, name, scope=None, wait=10000):
        "The value of the field name, once sao has filled it"
        scope = scope or self.tab
        field = scope.locator(f'input[name="{name}"]').first
        field.wait_for()
        waited = 0
        while not field.input_value() and waited < wait:
            self.page.wait_for_timeout(250)
            waited += 250
        return field.input_value()

    def reload(self):
        self.tab.locator('button#reload').first.click()
        self.idle(1000)

    def screenshot(self, path):
        self.page.screenshot(path=path)
