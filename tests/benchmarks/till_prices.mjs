// The prices a till charges, worked out by the till's own code.
//
// Reads on stdin {records: {kind: [record, ...]}, products: [id, ...],
// currency_digits}: the records of a terminal's bootstrap (its branch, price
// list, categories, taxes, units, terminal and products). Fills the till's
// catalog (src/services/catalog.js) with them and writes on stdout, for each
// product, what a sale line of one unit carries on the wire
// (src/sync/wire.js): {id: {unit_price, amount, source}} with unit_price the
// unit price in the terminal's terms (the branch price list's when it has
// one, else the product's own), amount the line's amount in the currency
// and source 'price_list' or 'base'. tests/benchmarks/bench_load.py uses it
// so that its tills charge what a till of the branch would.
import { readFileSync } from 'node:fs';

import { formatDecimal, PRICE_DIGITS, QTY_DIGITS } from '../../pos_offline_client/src/lib/money.js';
import { Catalog } from '../../pos_offline_client/src/services/catalog.js';
import { lineAmount } from '../../pos_offline_client/src/services/pricing.js';

const input = JSON.parse(readFileSync(0, 'utf8'));
const digits = input.currency_digits ?? 2;
const catalog = new Catalog();
catalog.putRecords(input.records);
const one = 10 ** QTY_DIGITS;
const out = {};
for (const id of input.products) {
  const price = catalog.unitPrice(id, one);
  if (!price) continue;
  out[id] = {
    unit_price: formatDecimal(price.unitPrice, PRICE_DIGITS),
    amount: formatDecimal(lineAmount(one, price.unitPrice, digits), digits),
    source: price.source,
  };
}
process.stdout.write(JSON.stringify(out));
