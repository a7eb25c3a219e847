import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../src/services/catalog.js';
import {
  DEFAULT_VARIABLE_RULES, gtinCheckDigit, layoutsToRules, parseBarcode, setVariableRules, variableRules,
} from '../src/services/barcode.js';

function ean(body) {
  return `${body}${gtinCheckDigit(body)}`;
}

const CHAIN = [
  { prefix: '21', kind: 'weight', item_digits: 5, value_check: false, value_digits: 5, value_decimals: 3 },
  { prefix: '28', kind: 'price', item_digits: 4, value_check: true, value_digits: 5, value_decimals: 2 },
  { prefix: '245', kind: 'price', item_digits: 4, value_check: false, value_digits: 5, value_decimals: 2 },
];

test('server layouts become rules; bad ones are left out, longest prefix first', () => {
  const rules = layoutsToRules([...CHAIN,
    { prefix: '29', kind: 'weight', item_digits: 6, value_digits: 5, value_decimals: 3 }, // 13 digits
    { prefix: '2x', kind: 'weight', item_digits: 5, value_digits: 5, value_decimals: 3 },
    { prefix: '26', kind: 'volume', item_digits: 5, value_digits: 5, value_decimals: 3 },
    { prefix: '27', kind: 'price', item_digits: 5, value_digits: 5, value_decimals: 6 }]);
  assert.deepEqual(rules.map((r) => r.prefix), ['245', '21', '28']);
  assert.equal(layoutsToRules([]), null);
  assert.equal(layoutsToRules(undefined), null);
});

test('the settings record replaces the built-in layouts of the till', () => {
  const c = new Catalog();
  const code23 = ean('231234501250');
  // Built in: 23 is a price layout
  assert.equal(parseBarcode(code23, { rules: DEFAULT_VARIABLE_RULES }).type, 'variable');
  c.putRecords({ settings: [{ id: 1, barcode_layouts: CHAIN }] });
  // The till passes its default rules: the chain's apply
  assert.equal(parseBarcode(code23, { rules: DEFAULT_VARIABLE_RULES }).type, 'gtin');
  const weight = parseBarcode(ean('210042001250'));
  assert.equal(weight.kind, 'weight');
  assert.equal(weight.quantity, 1250);
  assert.equal(weight.key, ean('210042000000'));
  // Prefix 28: 4-digit item, a price check digit, then 5 digits of cents
  // (GS1 price check digit of 01995: 2)
  const price = parseBarcode(ean('280042201995'));
  assert.deepEqual([price.kind, price.amount], ['price', { value: 1995, decimals: 2 }]);
  // A wrong price check digit: the price is not trusted
  assert.deepEqual(parseBarcode(ean('280042701995')), {
    type: 'invalid', raw: ean('280042701995'), reason: 'price-check-digit',
  });
  assert.equal(price.key, ean('280042000000'));
  const long = parseBarcode(ean('245001200350'));
  assert.deepEqual([long.kind, long.amount.value, long.key], ['price', 350, ean('245001200000')]);
  // A change of the layouts arrives as a delta
  c.applyChange({ kind: 'settings', id: 1, op: 'upsert', data: { id: 1, barcode_layouts: [] } });
  assert.equal(variableRules(), DEFAULT_VARIABLE_RULES);
  assert.equal(parseBarcode(code23).type, 'variable');
  c.applyChange({ kind: 'settings', id: 1, op: 'upsert', data: { id: 1, barcode_layouts: CHAIN } });
  assert.equal(variableRules()[0].prefix, '245');
  c.clear();
  assert.equal(variableRules(), DEFAULT_VARIABLE_RULES);
  setVariableRules(null);
});

test('explicit rules still win over the chain\'s', () => {
  setVariableRules(layoutsToRules(CHAIN));
  const only22 = [{ prefix: '22', kind: 'weight', itemDigits: 5, valueDigits: 5, decimals: 3 }];
  assert.equal(parseBarcode(ean('210042001250'), { rules: only22 }).type, 'gtin');
  setVariableRules(null);
});
