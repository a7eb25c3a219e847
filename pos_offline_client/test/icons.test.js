// The PNG icons of the manifest hold what scripts/make-icons.mjs draws
// from icon.svg's geometry, at the sizes the manifest states.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';

import { ICONS, pixels } from '../scripts/make-icons.mjs';

const PUBLIC = new URL('../public/', import.meta.url);

function decode(buffer) {
  assert.deepEqual([...buffer.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let header;
  const data = [];
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('ascii', offset + 4, offset + 8);
    const body = buffer.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = body;
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  return {
    width: header.readUInt32BE(0),
    height: header.readUInt32BE(4),
    depth: header[8],
    colour: header[9],
    rows: inflateSync(Buffer.concat(data)),
  };
}

test('the manifest lists 192 and 512 px PNG icons and a maskable one', () => {
  const manifest = JSON.parse(
    readFileSync(new URL('manifest.webmanifest', PUBLIC), 'utf8'));
  const png = manifest.icons.filter((i) => i.type === 'image/png');
  const any = png.filter((i) => (i.purpose || 'any') === 'any');
  assert.deepEqual(any.map((i) => i.sizes).sort(), ['192x192', '512x512']);
  assert.ok(png.some((i) => i.purpose === 'maskable'
    && i.sizes === '512x512'));
  for (const icon of png) {
    const { file, size } = ICONS.find((i) => i.file === icon.src);
    assert.equal(icon.sizes, `${size}x${size}`, file);
  }
});

for (const { file, size, maskable } of ICONS) {
  test(`public/${file} is the ${size} px ${maskable ? 'maskable ' : ''}icon`,
    () => {
      const png = decode(readFileSync(new URL(file, PUBLIC)));
      assert.equal(png.width, size);
      assert.equal(png.height, size);
      assert.equal(png.depth, 8);
      assert.equal(png.colour, 6);
      assert.ok(png.rows.equals(pixels(size, maskable)),
        `run: node scripts/make-icons.mjs`);
    });
}
