import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../src/services/catalog.js';
import { gridCategories, nextAttribute, quickKeys, templatesIn, variantsLeft } from '../src/ui/components/product-grid.js';

function shirt(id, size, colour, text) {
  return {
    id, template: 7, name: `Oxford Shirt (${size}, ${text})`, template_name: 'Oxford Shirt', category: 2, salable: true,
    attributes: [{ name: 'size', label: 'Size', value: size, text: size }, { name: 'colour', label: 'Colour', value: colour, text }],
    gross_price: '49.95', barcodes: [],
  };
}

function catalog() {
  const c = new Catalog();
  const shirts = [];
  let id = 10;
  for (const size of ['S', 'M', 'L']) {
    for (const [colour, text] of [['white', 'White'], ['blue', 'Light Blue']]) shirts.push(shirt(id++, size, colour, text));
  }
  // M comes only in white
  const sold = shirts.filter((p) => !(p.attributes[0].value === 'M' && p.attributes[1].value === 'blue'));
  c.putRecords({
    category: [{ id: 1, name: 'Grocery' }, { id: 2, name: 'Shirts' }, { id: 3, name: 'Empty' }],
    product: [
      { id: 1, template: 1, name: 'Espresso', category: 1, salable: true, gross_price: '5', barcodes: [] },
      { id: 2, template: 1, name: 'Espresso decaf', category: 1, salable: true, gross_price: '5.5', barcodes: [] },
      { id: 3, template: 3, name: 'Gift wrap', category: 1, salable: false, barcodes: [] },
      ...sold,
    ],
    quick_key: [{ id: 2, sequence: 20, product: 1, label: 'Espresso', colour: 'green' }, { id: 1, sequence: 10, product: 12, label: null, colour: null },
      { id: 3, sequence: 5, product: 999, label: 'Gone', colour: null }],
  });
  return c;
}

test('the grid shows the categories that have salable products, by name', () => {
  assert.deepEqual(gridCategories(catalog()).map((c) => c.name), ['Grocery', 'Shirts']);
});

test('one tile per template with variants; products without attributes have their own tile', () => {
  const c = catalog();
  const grocery = templatesIn(c, 1);
  assert.deepEqual(grocery.map((e) => [e.name, e.products.length]), [['Espresso', 1], ['Espresso decaf', 1]]);
  const shirts = templatesIn(c, 2);
  assert.equal(shirts.length, 1);
  assert.equal(shirts[0].name, 'Oxford Shirt');
  assert.equal(shirts[0].products.length, 5);
});

test('variants are picked by size, then colour, offering only what exists', () => {
  const [entry] = templatesIn(catalog(), 2);
  const size = nextAttribute(entry.products);
  assert.equal(size.name, 'size');
  assert.deepEqual(size.values.map((v) => v.text), ['S', 'M', 'L']);
  const colour = nextAttribute(entry.products, { size: 'L' });
  assert.equal(colour.label, 'Colour');
  assert.deepEqual(colour.values.map((v) => v.text), ['White', 'Light Blue']);
  // one M left: nothing more to ask
  assert.equal(nextAttribute(entry.products, { size: 'M' }), null);
  assert.deepEqual(variantsLeft(entry.products, { size: 'M' }).map((p) => p.name), ['Oxford Shirt (M, White)']);
  assert.equal(nextAttribute(entry.products, { size: 'L', colour: 'blue' }), null);
  assert.equal(variantsLeft(entry.products, { size: 'L', colour: 'blue' })[0].name, 'Oxford Shirt (L, Light Blue)');
});

test('quick keys in sequence order, those of unknown products left out', () => {
  assert.deepEqual(quickKeys(catalog()).map((k) => k.id), [1, 2]);
});
