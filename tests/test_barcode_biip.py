"""The till's barcode parser (pos_offline_client/src/services/barcode.js, run
with node) reads thousands of generated codes as the server's parser does
(trytond.modules.retail.barcode.parse_scan, built on biip, the maintained
GS1 interpreter): GTINs and their check digits, in-store variable-measure
codes with and without a GS1 price check digit, GS1 element strings with
lots, serials, weights and dates, impossible dates included."""
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from biip.checksums import gs1_price_weight_check_digit
from stdnum import ean

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / 'pos_offline_client'
TODAY = dt.date(2026, 12, 4)
GS = '\x1d'

LAYOUTS = [
    # weight in grams after a 5-digit item code
    {'prefix': '21', 'kind': 'weight', 'item_digits': 5,
        'value_check': False, 'value_digits': 5, 'value_decimals': 3},
    {'prefix': '23', 'kind': 'price', 'item_digits': 5,
        'value_check': False, 'value_digits': 5, 'value_decimals': 2},
    # GS1 variable measure with a 4-digit price and its check digit
    {'prefix': '20', 'kind': 'price', 'item_digits': 5,
        'value_check': True, 'value_digits': 4, 'value_decimals': 2},
    # ... and a 5-digit price with its check digit
    {'prefix': '25', 'kind': 'price', 'item_digits': 4,
        'value_check': True, 'value_digits': 5, 'value_decimals': 2},
    {'prefix': '028', 'kind': 'weight', 'item_digits': 4,
        'value_check': False, 'value_digits': 5, 'value_decimals': 3},
    ]

NODE_SCRIPT = """
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [fixture, client] = process.argv.slice(2);
const b = await import(pathToFileURL(`${client}/src/services/barcode.js`));
const { codes, layouts, today } = JSON.parse(readFileSync(fixture, 'utf8'));
const rules = b.layoutsToRules(layouts);
const out = codes.map((code) => {
  const r = b.parseBarcode(code, { rules, today: new Date(today) });
  const o = { type: r.type };
  if (r.type === 'invalid') return o;
  if (r.type === 'gtin') o.gtin = r.gtin;
  if (r.type === 'variable') {
    Object.assign(o, { kind: r.kind, gtin: r.gtin, key: r.key });
    if (r.kind === 'weight') o.quantity = r.quantity;
    else o.amount = r.amount;
  }
  if (r.type === 'gs1') {
    o.gtin = r.gtin;
    for (const k of ['lot', 'serial', 'expiry', 'quantity']) {
      if (r[k] !== undefined) o[k] = r[k];
    }
  }
  return o;
});
process.stdout.write(JSON.stringify(out));
"""


def ean13(body):
    return body + ean.calc_check_digit(body)


def digits(rng, n):
    return ''.join(rng.choice('0123456789') for _ in range(n))


def spoil(rng, code):
    "The code with its last digit changed"
    return code[:-1] + str((int(code[-1]) + rng.randint(1, 9)) % 10)


def gtins(rng):
    for _ in range(600):
        code = ean13(
            rng.choice(['4', '5', '8', '9', '3', '0']) + digits(rng, 11))
        yield spoil(rng, code) if rng.random() < 0.2 else code
    for _ in range(100):
        body = digits(rng, 7)
        yield body + ean.calc_check_digit(body)  # EAN-8
        body = digits(rng, 11)
        yield body + ean.calc_check_digit(body)  # UPC-A


def in_store(rng):
    for _ in range(1500):
        layout = rng.choice(LAYOUTS)
        prefix = layout['prefix']
        item = digits(rng, layout['item_digits'])
        value = digits(rng, layout['value_digits'])
        check = ''
        if layout['value_check']:
            check = str(gs1_price_weight_check_digit(value))
            if rng.random() < 0.3:
                check = str((int(check) + rng.randint(1, 9)) % 10)
        code = ean13(prefix + item + check + value)
        yield spoil(rng, code) if rng.random() < 0.1 else code
    for _ in range(200):
        # Restricted circulation codes no layout describes
        yield ean13(
            rng.choice(['22', '24', '26', '27', '29']) + digits(rng, 10))


def date(rng):
    if rng.random() < 0.25:
        # impossible: 30 or 31 February, day 32, month 13 or 00
        return rng.choice(['260230', '270231', '250132', '261301', '260015',
                '280230', '250431'])
    year = rng.randint(0, 99)
    month = rng.randint(1, 12)
    day = rng.choice([0, rng.randint(1, 28)])
    return f'{year:02d}{month:02d}{day:02d}'


def element_strings(rng):
    for _ in range(1500):
        gtin = '0' + ean13(digits(rng, 12))
        if rng.random() < 0.1:
            gtin = spoil(rng, gtin)
        parts = [('01', gtin)]
        if rng.random() < 0.7:
            parts.append((rng.choice(['17', '15', '11']), date(rng)))
        if rng.random() < 0.4:
            parts.append(('310' + str(rng.randint(0, 5)), digits(rng, 6)))
        if rng.random() < 0.6:
            parts.append(('10', 'L' + digits(rng, rng.randint(1, 8))))
        if rng.random() < 0.3:
            parts.append(('21', 'S' + digits(rng, rng.randint(1, 8))))
        if rng.random() < 0.5:
            yield ''.join(f'({ai}){data}' for ai, data in parts)
        else:
            text = ''
            for ai, data in parts:
                text += ai + data
                if ai in {'10', '21'}:
                    text += GS
            yield ']C1' + text.rstrip(GS)


# The server's parser runs in its own process: importing trytond here
# would bind this test process's trytond to its default backend, and the
# tests that load a demo database in process would then fail
SERVER_SCRIPT = """
import datetime as dt, json, sys
from trytond.modules.retail.barcode import parse_scan
data = json.load(open(sys.argv[1]))
today = dt.date.fromisoformat(data['today'])
out = []
for code in data['codes']:
    r = parse_scan(code, data['layouts'], today=today)
    o = {'type': r['type']}
    if r['type'] != 'invalid':
        for key in ['gtin', 'kind', 'key', 'quantity', 'amount', 'lot',
                'serial', 'expiry']:
            if key in r:
                o[key] = r[key]
    out.append(o)
json.dump(out, sys.stdout)
"""


def server(fixture, tmp_path):
    "What trytond.modules.retail.barcode.parse_scan answers for each code"
    script = tmp_path / 'server.py'
    script.write_text(SERVER_SCRIPT)
    # trytond chooses its backend at import, from its configuration
    config = tmp_path / 'trytond.conf'
    config.write_text('[database]\nuri = sqlite://\n')
    result = subprocess.run([sys.executable, str(script), str(fixture)],
        capture_output=True, text=True, timeout=300, check=False,
        env=dict(os.environ, TRYTOND_CONFIG=str(config)))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_till_parser_agrees_with_biip(tmp_path):
    node = shutil.which('node')
    if not node:
        pytest.skip("node is not installed")
    rng = random.Random(42)
    codes = [*gtins(rng), *in_store(rng), *element_strings(rng)]
    fixture = tmp_path / 'codes.json'
    fixture.write_text(json.dumps({'codes': codes, 'layouts': LAYOUTS,
                'today': TODAY.isoformat()}))
    script = tmp_path / 'parse.mjs'
    script.write_text(NODE_SCRIPT)
    result = subprocess.run([node, str(script), str(fixture), str(CLIENT)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    till = json.loads(result.stdout)
    served = server(fixture, tmp_path)
    assert len(served) == len(till) == len(codes)
    differ = [(code, t, s) for code, t, s in zip(codes, till, served)
        if t != s]
    assert not differ, differ[:5]
    kinds = {(t['type'], t.get('kind')) for t in till}
    # Every family was exercised, valid and invalid
    assert {('gtin', None), ('variable', 'weight'), ('variable', 'price'),
        ('gs1', None), ('invalid', None)} <= kinds
    assert len(codes) >= 4000
