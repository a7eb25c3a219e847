"""Encryption at rest and PIN guessing at the till (docs/security.md).

1. Sell at a till in a browser profile on disk, close the browser, copy the
   profile and read it WITHOUT the app and without a PIN: the raw files,
   and IndexedDB dumped by a fresh Chromium on the copy through the plain
   IndexedDB API (no app code: every request is answered by a blank page,
   service workers blocked). No sale, total, customer, PIN hash or device
   key is there in clear; the attacker's only way in is a key slot, and
   one guess against it is timed (the figure in docs/security.md).
2. Wrong PINs: the till makes the next try wait longer each time, locks
   the employee out after the chain's count, a manager's PIN unlocks; the
   server lists every wrong PIN, the lockout and the unlock.
"""
import hashlib
import itertools
import json
import shutil
import time

import pytest

from tests.e2e.backoffice import DEMO_PASSWORD, manager_login
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.till import (
    SCREENSHOTS, employee_id, enroll_and_open, journal, methods, open_till,
    pay, pick_products, scan, shot)

BLANK = '<!doctype html><meta charset="utf-8"><title>copy</title>'

# The attacker's script: the plain IndexedDB API, bytes as hex
DUMP = """async () => {
    const hex = (u) => Array.from(
        u, (b) => b.toString(16).padStart(2, '0')).join('');
    const plain = (v) => {
        if (v instanceof ArrayBuffer) return {hex: hex(new Uint8Array(v))};
        if (ArrayBuffer.isView(v)) {
            return {hex: hex(
                new Uint8Array(v.buffer, v.byteOffset, v.byteLength))};
        }
        if (Array.isArray(v)) return v.map(plain);
        if (v && typeof v === 'object') {
            return Object.fromEntries(
                Object.entries(v).map(([k, x]) => [k, plain(x)]));
        }
        return v;
    };
    const dbs = await indexedDB.databases();
    const out = {};
    for (const {name} of dbs) {
        const db = await new Promise((ok, ko) => {
            const r = indexedDB.open(name);
            r.onsuccess = () => ok(r.result);
            r.onerror = () => ko(r.error);
        });
        out[name] = {};
        for (const store of db.objectStoreNames) {
            out[name][store] = await new Promise((ok, ko) => {
                const r = db.transaction(store).objectStore(store).getAll();
                r.onsuccess = () => ok(plain(r.result));
                r.onerror = () => ko(r.error);
            });
        }
        db.close();
    }
    return out;
}"""

# One guess against a key slot, as an attacker with the copy would make
# it (the slot's PBKDF2 salt and count, HKDF, AES-KW unwrap): ms per guess,
# and whether `right` opens it
GUESS = """async ({slot, guesses, right}) => {
    const bytes = (h) => new Uint8Array(
        h.match(/../g).map((x) => parseInt(x, 16)));
    const te = new TextEncoder();
    const s = crypto.subtle;
    async function open(pin) {
        const k = await s.importKey(
            'raw', te.encode(pin), 'PBKDF2', false, ['deriveBits']);
        const bits = await s.deriveBits({name: 'PBKDF2', hash: 'SHA-256',
            salt: bytes(slot.salt.hex), iterations: slot.iterations}, k,
            (slot.length || 32) * 8);
        const ikm = await s.importKey(
            'raw', bits, 'HKDF', false, ['deriveKey']);
        const kw = await s.deriveKey({name: 'HKDF', hash: 'SHA-256',
            salt: bytes(slot.hkdfSalt.hex),
            info: te.encode('retail-pos key slot v2')}, ikm,
            {name: 'AES-KW', length: 256}, false, ['unwrapKey']);
        try {
            await s.unwrapKey('raw', bytes(slot.wrapped.hex), kw, 'AES-KW',
                {name: 'AES-GCM', length: 256}, false, ['decrypt']);
            return true;
        } catch (e) {
            return false;
        }
    }
    const t0 = performance.now();
    let opened = 0;
    for (const g of guesses) if (await open(g)) opened += 1;
    const ms = (performance.now() - t0) / guesses.length;
    return {ms, opened, right: await open(right)};
}"""


def people(backend):
    "(terminal prefix, cashier, manager) of a branch no other test sells at"
    if hasattr(backend, 'office'):
        return ('ANT1', backend.office.cashier('ANT'),
            backend.office.manager('ANT'))
    return 'BXL1', backend.employees['cashier'], backend.employees['manager']


def encodings(text):
    "How a string may sit in the files: UTF-8/Latin-1 and UTF-16"
    return {text.encode('utf-8'), text.encode('latin-1', 'ignore'),
        text.encode('utf-16-le')}


def test_a_copy_of_the_profile_reveals_nothing_without_a_pin(
        backend, pos_dist, tmp_path):
    sync_api = pytest.importorskip('playwright.sync_api')
    prefix, cashier, _manager = people(backend)
    profile = tmp_path / 'profile'
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport={'width': 1280, 'height': 800})
        page, errors = enroll_and_open(context, backend, prefix, cashier)
        products = pick_products(page)['plain']
        card = next(m['id'] for m in methods(page) if not m['cash'])
        for code in products[:3]:
            scan(page, code)
        page.keyboard.press('F3')
        page.fill('#new-customer-name', 'Zoe Privatename')
        page.fill('#new-customer-email', 'zoe.private@example.org')
        page.click('#create-customer')
        page.wait_for_selector('.customer')
        pay(page, (card, None))
        sale = journal(page)[-1]
        secrets = page.evaluate(f"""() => ({{
            deviceKey: pos.deviceKey,
            hashes: pos.register.employees().map((e) => e.pin_hash),
            employee: pos.loginEmployees().find(
                (e) => e.name === {json.dumps(cashier[0])}).id,
        }})""")
        assert secrets['deviceKey'] and secrets['hashes'], secrets
        assert not errors, errors
        context.close()

    copy = tmp_path / 'copy'
    shutil.copytree(profile, copy)
    digits = 2
    total = f"{sale['total'] / 10 ** digits:.{digits}f}"
    # what must not be found, in any encoding, in any file of the profile
    needles = {
        'device key': secrets['deviceKey'],
        'customer name': 'Zoe Privatename',
        'customer email': 'zoe.private@example.org',
        'receipt totals (key of the journal)': 'totals',
        'operation (key of the outbox)': 'client_time',
        'employee record (key)': 'pin_hash',
        }
    for h in secrets['hashes']:
        needles[f'PIN hash {h[-12:]}'] = h.split('$')[-1]
    files = [f for f in copy.rglob('*') if f.is_file()]
    indexeddb = [f for f in files if '.indexeddb.' in str(f)]
    assert indexeddb, 'the profile holds no IndexedDB files'
    # the names of the keys are in the app's own code (its cache): they
    # are looked for in the IndexedDB files only
    keys = {'totals', 'client_time', 'pin_hash'}
    for f in files:
        data = f.read_bytes()
        for what, text in needles.items():
            if text in keys and f not in indexeddb:
                continue
            for form in encodings(text):
                assert form not in data, (what, str(f.relative_to(copy)))

    # A fresh Chromium on the copy, no app: dump IndexedDB
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(copy), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, service_workers='block')
        page = context.new_page()
        page.route('**/*', lambda route: route.fulfill(
            status=200, content_type='text/html', body=BLANK))
        page.goto(backend.url + 'pos/')
        dump = page.evaluate(DUMP)['retail-pos']
        slot = next(s for s in dump['slots']
            if s['employee'] == secrets['employee'])
        started = time.perf_counter()
        guess = page.evaluate(GUESS, {'slot': slot,
                'guesses': ['000000', '999999', '123456'],
                'right': cashier[1]})
        took = time.perf_counter() - started
        context.close()
    text = json.dumps(dump)
    for what, needle in needles.items():
        assert needle not in text, what
    # no amount of the sale outside the catalog (prices are public there)
    private = json.dumps({k: v for k, v in dump.items()
            if k not in {'catalog', 'changes'}})
    assert total not in private and f'"{sale["total"]}"' not in private
    for name in ['sales', 'outbox', 'sessions', 'customers']:
        for record in dump[name]:
            assert set(record['enc']) == {'iv', 'data'}, (name, record)
    for record in dump['quarantine']:
        assert 'reason' not in record
    device = next(m for m in dump['meta'] if m['key'] == 'device')
    assert 'deviceKey' not in device and 'vault' not in device, device
    assert set(device['secret']) == {'iv', 'data'}
    # the slot keeps the KDF's parameters, no hash: guesses cost PBKDF2
    assert set(slot) >= {'salt', 'iterations', 'hkdfSalt', 'wrapped'}
    assert slot['iterations'] >= 100_000, slot['iterations']
    assert guess['opened'] == 0 and guess['right'] is True, guess
    salt = bytes.fromhex(slot['salt']['hex'])
    t0 = time.perf_counter()
    hashlib.pbkdf2_hmac('sha256', b'000000', salt, slot['iterations'])
    python = time.perf_counter() - t0
    print(f"\none PIN guess against a key slot ({slot['iterations']} "
        f"PBKDF2-SHA256 iterations): {guess['ms']:.0f} ms in Chromium, "
        f"{python * 1000:.0f} ms in Python hashlib (one core); "
        f"4 guesses in {took:.1f} s")


def test_wrong_pins_wait_lock_out_and_a_manager_unlocks(backend, browser):
    prefix, cashier, manager = people(backend)
    office = getattr(backend, 'office', None)
    if office:
        # the chain's setting, sent to the tills in the settings record
        office.admin.model('retail.sync.configuration', 'write', [1],
            {'pos_pin_max_attempts': 3})
    try:
        context, page, errors = open_till(browser, backend, prefix, cashier)
        assert page.evaluate('() => pos.pinPolicy().maxAttempts') == (
            3 if office else 5)
        page.evaluate('() => pos.ui.lock()')
        page.wait_for_selector('[data-employee]')
        cid = employee_id(page, cashier[0])
        mid = employee_id(page, manager[0])
        wrong = '0' if cashier[1] != '0000' else '1'
        wrong = wrong * len(cashier[1])
        page.click(f"[data-employee='{cid}']")
        attempts = page.evaluate('() => pos.pinPolicy().maxAttempts')
        waits = []
        for n in range(1, attempts):
            page.fill('#pin', wrong)
            page.click('#pin-ok')
            page.wait_for_function(
                "() => /\\d+ s/.test("
                "document.querySelector('#pin-error').textContent)")
            assert page.is_disabled('#pin-ok')
            t0 = time.monotonic()
            page.wait_for_function(
                "() => !document.querySelector('#pin-ok').disabled",
                timeout=60_000)
            waits.append(time.monotonic() - t0)
        # the wait grows: 1 s, 2 s, ...
        assert all(b > a for a, b in itertools.pairwise(waits)), waits
        assert waits[0] > 0.5, waits
        page.fill('#pin', wrong)
        page.click('#pin-ok')
        page.wait_for_selector('#pin-locked')
        shot(page, 'pin-locked')
        # locked: the cashier's right PIN is not even asked for
        page.click(f"[data-unlock-manager='{mid}']")
        page.fill('#pin', manager[1])
        page.click('#pin-ok')
        page.wait_for_selector(f'text=PIN of {cashier[0]}')
        page.fill('#pin', cashier[1])
        page.click('#pin-ok')
        page.wait_for_selector('#entry')
        assert not errors, errors
        if office:
            page.evaluate('() => pos.forceSync()')
            deadline = time.monotonic() + 60
            while True:
                actions = [o['action'] for o in office.overrides(prefix)
                    if o['action'].startswith('pin_')]
                if len(actions) >= attempts + 2 or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert actions == ['pin_failed'] * attempts + [
                'pin_locked', 'pin_unlocked'], actions
            # the branch's store manager lists them in the back office
            sao = browser.new_page(viewport={'width': 1366, 'height': 800})
            sao_login(sao, backend, manager_login('ANT'), DEMO_PASSWORD)
            sao.goto(backend.url
                + f'#{backend.database}/model/retail.sync.override')
            for label in ['Wrong PIN', 'PIN Lockout', 'PIN Unlocked']:
                row = sao.locator('tr', has_text=label).first
                row.wait_for(timeout=60_000)
                assert cashier[0] in row.inner_text(), label
            assert sao.locator('tr', has_text='Wrong PIN').count() == attempts
            assert manager[0] in sao.locator(
                'tr', has_text='PIN Unlocked').first.inner_text()
            sao.screenshot(path=str(SCREENSHOTS / 'backoffice-pin-audit.png'))
            sao.close()
        context.close()
    finally:
        if office:
            office.admin.model('retail.sync.configuration', 'write', [1],
                {'pos_pin_max_attempts': 5})


def sao_login(page, backend, login, password):
    "Log into the back office (sao) at the server's root"
    page.goto(backend.url)
    page.wait_for_selector('input#login', timeout=60_000)
    database = page.locator('input#database')
    if database.is_visible() and database.is_editable():
        database.fill(backend.database)
    page.fill('input#login', login)
    page.locator('button[type="submit"]:visible').first.click()
    secret = page.locator('input[type="password"]:visible').first
    secret.wait_for(timeout=30_000)
    secret.fill(password)
    page.keyboard.press('Enter')
    page.locator('text=Retail').first.wait_for(timeout=60_000)
