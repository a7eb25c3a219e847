"""The till is an installable app whose storage the browser keeps.

trytond serves the till at /pos/ as in production (no database needed for
that).  In a Chromium profile (not an incognito context, where nothing
installs), the DevTools protocol's Page.getInstallabilityErrors answers no
error, the manifest parses without error with its PNG icons, and
PWA.install installs it.

Persistent storage: Chromium never asks the user; it grants
navigator.storage.persist() to a site it deems important (installed,
bookmarked, much used, or allowed to show notifications).  Installing
through the DevTools protocol does not make the site important in a
headless profile, so the test gives the origin the notification permission
in the profile's own settings (as a user does), which Chromium counts the
same way: before the till runs, the origin's storage is not persistent;
once the till has started (it asks at every start and when it is
installed), it is."""
import json
import os
import tempfile
import urllib.request

import pytest

from retail_setup import server
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port

playwright = pytest.importorskip('playwright.sync_api')


@pytest.fixture(scope='module')
def web():
    "trytond serving the web root (sao at /, the till at /pos/)"
    directory = tempfile.mkdtemp(prefix='retail-install-')
    port = free_port()
    config = server.write_config(os.path.join(directory, 'trytond.conf'),
        'sqlite://', port, db_path=os.path.join(directory, 'db'))
    server.assemble_web_root()
    process = server.TrytondProcess(config, port,
        log_path=os.path.join(directory, 'trytond.log')).start()
    try:
        yield f'http://127.0.0.1:{port}'
    finally:
        process.stop()


def profile(origin):
    "A Chromium profile where the origin may show notifications"
    directory = tempfile.mkdtemp(prefix='retail-chromium-')
    os.makedirs(os.path.join(directory, 'Default'))
    with open(os.path.join(directory, 'Default', 'Preferences'), 'w') as fp:
        json.dump({'profile': {'content_settings': {'exceptions': {
                            'notifications': {
                                f'{origin},*': {'setting': 1}}}}}}, fp)
    return directory


def test_manifest_served_with_its_icons(web):
    with urllib.request.urlopen(f'{web}/pos/manifest.webmanifest') as r:
        manifest = json.load(r)
    assert manifest['start_url'] == manifest['scope'] == '/pos/'
    for icon in manifest['icons']:
        with urllib.request.urlopen(f"{web}/pos/{icon['src']}") as r:
            assert r.status == 200
            assert r.headers.get_content_type() == icon['type']
    with urllib.request.urlopen(f'{web}/pos/sw.js') as r:
        assert 'javascript' in r.headers['Content-Type']


def test_installable_and_persistent(web):
    till = f'{web}/pos/'
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile(web),
            executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            # The origin, before the till ran: not persistent
            page.goto(f'{till}manifest.webmanifest')
            assert page.evaluate('Notification.permission') == 'granted'
            assert page.evaluate('navigator.storage.persisted()') is False

            page.goto(till)
            page.evaluate('navigator.serviceWorker.ready.then(() => true)')
            page.wait_for_function('window.pos?.status?.persisted === true',
                timeout=30_000)
            assert page.evaluate('navigator.storage.persisted()') is True

            cdp = context.new_cdp_session(page)
            assert cdp.send('Page.getInstallabilityErrors') == {
                'installabilityErrors': []}
            manifest = cdp.send('Page.getAppManifest')
            assert manifest['errors'] == []
            icons = {(i['url'].rsplit('/', 1)[-1], i['sizes'])
                for i in manifest['manifest']['icons']
                if i['type'] == 'image/png'}
            assert icons == {('icon-192.png', '192x192'),
                ('icon-512.png', '512x512'),
                ('icon-maskable-512.png', '512x512')}
            manifest_id = manifest['manifest']['id']
            assert manifest_id == till
            cdp.send('PWA.install', {'manifestId': manifest_id})
            cdp.send('PWA.getOsAppState', {'manifestId': manifest_id})
        finally:
            context.close()


def test_installability_check_reports_errors(web):
    "The check is live: an incognito context cannot install the till"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
            args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f'{web}/pos/')
            page.evaluate('navigator.serviceWorker.ready.then(() => true)')
            cdp = page.context.new_cdp_session(page)
            errors = cdp.send('Page.getInstallabilityErrors')
            assert [e['errorId'] for e in errors['installabilityErrors']] == [
                'in-incognito']
        finally:
            browser.close()
