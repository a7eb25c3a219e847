"""POS client benchmark (run by hand, not by the test runner).

    .venv/bin/python tests/benchmarks/bench_pos.py [--products 100000]

Starts the protocol stand-in (pos_offline_client/bench/mock-server.mjs)
with N variants, drives Debian's Chromium through enrollment and bootstrap,
then measures scan-to-cart-line latency, name search, JS heap and cold start,
each beside the raw Dexie bulkPut / index lookup of the same data in the same
browser as the baseline. Prints the figures; records nothing by itself.
"""
import argparse
import json
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / 'pos_offline_client'
ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--enable-precise-memory-info']


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def heap_mb(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send('HeapProfiler.collectGarbage')
    used = cdp.send('Runtime.getHeapUsage')['usedSize']
    cdp.detach()
    return used / 2 ** 20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--products', type=int, default=100_000)
    parser.add_argument('--samples', type=int, default=300)
    args = parser.parse_args()
    port = free_port()
    url = f'http://127.0.0.1:{port}/'
    server = subprocess.Popen(['node', str(CLIENT / 'bench' / 'mock-server.mjs'),
        '--port', str(port), '--products', str(args.products)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    profile = tempfile.mkdtemp(prefix='pos-bench-')
    results = {}
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + 'pos/', timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(profile,
                executable_path='/usr/bin/chromium', args=ARGS, headless=True,
                viewport={'width': 1920, 'height': 1080})
            page = ctx.new_page()
            page.goto(url + 'pos/?db=demo')
            page.fill('#enroll-code', 'DEMO-CODE')
            t0 = time.perf_counter()
            page.click('#enroll-submit')
            page.wait_for_selector('[data-employee]', timeout=600_000)
            results['bootstrap_s'] = time.perf_counter() - t0
            results['records'] = page.evaluate('pos.catalog.size')
            results['heap_after_load_mb'] = heap_mb(page)
            page.click("[data-employee='7']")
            page.fill('#pin', '1357')
            page.click('#pin-ok')
            page.wait_for_selector('#float')
            page.fill('#float', '100')
            page.click('#float-ok')
            page.wait_for_selector('#entry')
            # Scan to cart line: the app's scan handler up to the rendered
            # row, and to the next frame.
            scans = page.evaluate("""async (n) => {
                const codes = [...pos.catalog.barcodes.keys()].filter(c => /^54/.test(c));
                const sync = [], frame = [];
                for (let i = 0; i < n; i++) {
                    if (i % 25 === 0) pos.ui.newOrder();
                    const code = codes[(i * 7919) % codes.length];
                    const t0 = performance.now();
                    await pos.ui.handleCode(code);
                    sync.push(performance.now() - t0);
                    await new Promise(r => requestAnimationFrame(() => r()));
                    frame.push(performance.now() - t0);
                }
                pos.ui.newOrder();
                return {sync, frame};
            }""", args.samples)
            words = ['cof', 'organic tea', 'sweet', 'jeans xl', 'gold', 'sku00012', 'crisps 6', 'wild juice', 'smooth', 'dark choc']
            search = page.evaluate("""(words) => {
                const out = [];
                for (let i = 0; i < 300; i++) {
                    const q = words[i % words.length];
                    const t0 = performance.now();
                    pos.catalog.search(q, 30);
                    out.push(performance.now() - t0);
                }
                return out;
            }""", words)
            # Baseline: raw Dexie with one record per product, in the same browser
            base = page.evaluate("""async (n) => {
                const Dexie = pos.db.constructor;
                await Dexie.delete('bench-raw');
                const db = new Dexie('bench-raw');
                db.version(1).stores({p: 'id, *barcodes'});
                await db.open();
                const rows = [...pos.catalog.map('product').values()];
                const t0 = performance.now();
                for (let i = 0; i < rows.length; i += 5000) await db.p.bulkPut(rows.slice(i, i + 5000));
                const put = performance.now() - t0;
                const codes = [...pos.catalog.barcodes.keys()].filter(c => /^54/.test(c));
                const look = [], map = [];
                for (let i = 0; i < n; i++) {
                    const code = codes[(i * 7919) % codes.length];
                    let t = performance.now();
                    await db.p.where('barcodes').equals(code).first();
                    look.push(performance.now() - t);
                    t = performance.now();
                    pos.catalog.lookup([code]);
                    map.push(performance.now() - t);
                }
                db.close();
                await Dexie.delete('bench-raw');
                return {put, look, map, rows: rows.length};
            }""", args.samples)
            ctx.close()
            # Cold start: a fresh browser process on the same profile
            ctx = p.chromium.launch_persistent_context(profile,
                executable_path='/usr/bin/chromium', args=ARGS, headless=True,
                viewport={'width': 1920, 'height': 1080})
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(url + 'pos/')
            page.wait_for_function('window.pos && pos.metrics.interactiveAt', timeout=60_000)
            cold_wall = time.perf_counter() - t0
            cold = page.evaluate('({ready: pos.metrics.readyAt, interactive: pos.metrics.interactiveAt})')
            results['heap_cold_mb'] = heap_mb(page)
            ctx.close()
    finally:
        server.terminate()
        shutil.rmtree(profile, ignore_errors=True)
    r = results
    print(f"records synced                : {r['records']:,}")
    print(f"bootstrap end to end          : {r['bootstrap_s']:.1f} s (target < 30 s)")
    print(f"  raw Dexie bulkPut baseline  : {base['put'] / 1000:.1f} s for {base['rows']:,} rows, one per product "
          f"(ratio {r['bootstrap_s'] / (base['put'] / 1000):.2f})")
    print(f"scan to cart line p50/p95     : {pct(scans['sync'], 50):.2f} / {pct(scans['sync'], 95):.2f} ms "
          f"(to next frame p95 {pct(scans['frame'], 95):.2f} ms; target 16 ms)")
    m95 = pct(base['map'], 95)
    print("  in-memory Map lookup p95    : " + (f"{m95 * 1000:.1f} µs" if m95 else "below the timer resolution (0.1 ms)"))
    print(f"  raw Dexie index lookup p95  : {pct(base['look'], 95):.2f} ms "
          f"(ratio scan-to-line / Dexie lookup {pct(scans['sync'], 95) / pct(base['look'], 95):.2f})")
    print(f"search p50/p95                : {pct(search, 50):.2f} / {pct(search, 95):.2f} ms (target 50 ms)")
    print(f"JS heap after load            : {r['heap_after_load_mb']:.0f} MB (after cold start {r['heap_cold_mb']:.0f} MB; target < 150 MB)")
    print(f"cold start to ready to scan   : {cold['interactive']:.0f} ms from navigation "
          f"(catalog in memory at {cold['ready']:.0f} ms; wall {cold_wall * 1000:.0f} ms incl. browser start; target < 2 s)")
    print(json.dumps({'results': r, 'scan_p95': pct(scans['sync'], 95), 'frame_p95': pct(scans['frame'], 95),
        'search_p95': pct(search, 95), 'dexie_put_s': base['put'] / 1000, 'dexie_lookup_p95': pct(base['look'], 95),
        'cold': cold}))


if __name__ == '__main__':
    main()
