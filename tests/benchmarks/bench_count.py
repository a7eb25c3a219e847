"""Benchmark: the counting phone's page (pos_offline_client/count/) with
20,000 scanned lines, beside a raw baseline in the same run and browser.

    .venv/bin/python tests/benchmarks/bench_count.py [--lines N] [--naive]

Serves the built page (pos_offline_client/dist-count, `npm run build`) on a
free port, opens it in Debian's Chromium at a phone's viewport (390×844),
gives it a catalog of N products (as a bootstrap would) and an open count
that is not blind, then scans every product once through the page's scan
form (the code in the field, the form submitted as a scanner's Enter does).
Scan-to-line is the time from the submit to the line drawn in the table,
layout included (the page's scan handler, the entry given to its outbox,
the row's layout read back); each scan comes in a task of its own, as a
scanner's Enter does, so the outbox's writes run between the scans. The
baseline does the least a page can do for a scan in the same browser:
look the code up in a Map and put a new row at the top of a plain table
showing as many lines as the page (the last 100 counted), layout read back
likewise; and, with --naive, for scale, the same into a table that keeps
every line (what a page showing all its rows would cost; slow). Prints
the median, p95 and maximum of each, in milliseconds, and the target (p95
<= 16 ms, one frame)."""
import argparse
import functools
import http.server
import json
import os
import socket
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / 'pos_offline_client' / 'dist-count'
CHROMIUM = '/usr/bin/chromium'
ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run']

SETUP = '''async (n) => {
  const page = window.countPage;
  const products = [];
  for (let i = 0; i < n; i += 1) {
    products.push({ id: i + 1, name: `Product ${i + 1}`, code: `P${i + 1}`,
      barcodes: [`B${String(i + 1).padStart(8, '0')}`], lot_tracked: false });
  }
  page.state.catalog = new page.Catalog({ products, lots: [] });
  page.state.expected = products.map((p) => ({ count: 1, product: p.id,
    lot: null, quantity: '3' }));
  await page.openCount({ id: 1, number: 'INV-1', blind: false,
    location: { id: 1, name: 'Storage' }, date: '2026-12-05' });
  return products.length;
}'''

MEASURE = '''async (n) => {
  const form = document.getElementById('scan-form');
  const input = document.getElementById('scan');
  const body = document.getElementById('line-body');
  const times = [];
  // Each scan in a task of its own, as a scanner's Enter comes: what the
  // page does in between (the outbox's writes) runs between the scans
  const channel = new MessageChannel();
  const next = () => new Promise((resolve) => {
    channel.port1.onmessage = resolve;
    channel.port2.postMessage(0);
  });
  for (let i = 0; i < n; i += 1) {
    await next();
    const code = `B${String(i + 1).padStart(8, '0')}`;
    const start = performance.now();
    input.value = code;
    form.requestSubmit();
    void body.firstChild.offsetTop;
    times.push(performance.now() - start);
  }
  // The outbox holds every entry once the page is idle
  await window.countPage.state.db.entries.count();
  return { times, lines: window.countPage.state.tally.lines.size,
    pending: Number(document.getElementById('pending').textContent) };
}'''

BASELINE = '''async ([n, shown]) => {
  const channel = new MessageChannel();
  const next = () => new Promise((resolve) => {
    channel.port1.onmessage = resolve;
    channel.port2.postMessage(0);
  });
  const table = document.createElement('table');
  table.style.tableLayout = 'fixed';
  table.style.width = '100%';
  const body = document.createElement('tbody');
  table.append(body);
  document.body.append(table);
  const map = new Map();
  for (let i = 0; i < n; i += 1) {
    map.set(`B${String(i + 1).padStart(8, '0')}`,
      { id: i + 1, name: `Product ${i + 1}` });
  }
  const times = [];
  for (let i = 0; i < n; i += 1) {
    await next();
    const start = performance.now();
    const product = map.get(`B${String(i + 1).padStart(8, '0')}`);
    const row = document.createElement('tr');
    row.innerHTML = '<td></td><td></td><td></td><td></td>';
    row.cells[0].textContent = product.name;
    row.cells[2].textContent = '1';
    row.cells[3].textContent = '3';
    body.prepend(row);
    if (shown && body.rows.length > shown) body.lastChild.remove();
    void row.offsetTop;
    times.push(performance.now() - start);
  }
  table.remove();
  return { times, lines: n };
}'''


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * len(values))) - 1)]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--lines', type=int, default=20000)
    parser.add_argument('--naive', action='store_true')
    args = parser.parse_args()
    if not (DIST / 'index.html').exists():
        raise SystemExit(
            "Build the page first: cd pos_offline_client && npm run build")
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as root:
        os.symlink(DIST, os.path.join(root, 'count'))
        handler = functools.partial(Quiet, directory=root)
        port = free_port()
        server = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=ARGS, headless=True)
                page = browser.new_page(
                    viewport={'width': 390, 'height': 844})
                page.goto(f'http://127.0.0.1:{port}/count/?db=bench')
                page.wait_for_function('window.countPage !== undefined')
                page.evaluate(SETUP, args.lines)
                counted = page.evaluate(MEASURE, args.lines)
                page.goto('about:blank')
                raw = page.evaluate(BASELINE, [args.lines, 100])
                naive = None
                if args.naive:
                    page.goto('about:blank')
                    naive = page.evaluate(BASELINE, [args.lines, 0])
                browser.close()
        finally:
            server.shutdown()
    assert counted['lines'] == args.lines, counted['lines']
    assert counted['pending'] == args.lines, counted['pending']
    result = {}
    for name, data in [('count page', counted), ('raw baseline', raw),
            ('naive full table', naive)]:
        if data is None:
            continue
        times = data['times']
        result[name] = {
            'median_ms': round(percentile(times, 50), 3),
            'p95_ms': round(percentile(times, 95), 3),
            'max_ms': round(max(times), 3),
            }
    print(json.dumps({'lines': args.lines, **result,
                'target': 'count page p95 <= 16 ms'}, indent=2))


if __name__ == '__main__':
    main()
