// The till's PNG icons, drawn from the geometry of public/icon.svg (a
// barcode on the brand's blue), for the install prompts and home screens
// that want bitmaps: 192 and 512 px ("any": rounded corners, transparent
// outside) and 512 px "maskable" (full bleed, the barcode inside the
// central safe zone, which the platform's mask never cuts).
//   node scripts/make-icons.mjs      writes them to public/
// test/icons.test.js checks the files in public/ hold what this draws.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const BLUE = [0x1f, 0x3a, 0x5f];
const WHITE = [0xff, 0xff, 0xff];
// icon.svg, in its 64-unit view box
const RADIUS = 12;
const BARS = [[12, 3], [18, 1.5], [22, 4], [29, 1.5], [33, 3], [39, 1.5],
  [43, 4], [50, 2]].map(([x, width]) => ({ x, width, y: 18, height: 28 }));

export const ICONS = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'icon-maskable-512.png', size: 512, maskable: true },
];

function insideRoundedSquare(x, y) {
  const cx = Math.min(Math.max(x, RADIUS), 64 - RADIUS);
  const cy = Math.min(Math.max(y, RADIUS), 64 - RADIUS);
  return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS ** 2;
}

function onBar(x, y) {
  return BARS.some((b) => x >= b.x && x < b.x + b.width
    && y >= b.y && y < b.y + b.height);
}

// The colour (RGBA) at (x, y) of the 64-unit view box
function sample(x, y, maskable) {
  if (maskable) {
    // The safe zone is the central circle of 80 % of the width: the
    // barcode, scaled by 0.8 about the centre, stays well inside it
    const bx = 32 + (x - 32) / 0.8;
    const by = 32 + (y - 32) / 0.8;
    return [...(onBar(bx, by) ? WHITE : BLUE), 255];
  }
  if (!insideRoundedSquare(x, y)) return [0, 0, 0, 0];
  return [...(onBar(x, y) ? WHITE : BLUE), 255];
}

// 4 x 4 samples per pixel, averaged (premultiplied, so edges stay clean)
export function pixels(size, maskable) {
  const n = 4;
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let py = 0; py < size; py++) {
    const row = py * (size * 4 + 1);
    rows[row] = 0; // filter: none
    for (let px = 0; px < size; px++) {
      let r = 0; let g = 0; let b = 0; let a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const [cr, cg, cb, ca] = sample(
            ((px + (sx + 0.5) / n) * 64) / size,
            ((py + (sy + 0.5) / n) * 64) / size, maskable);
          r += cr * ca; g += cg * ca; b += cb * ca; a += ca;
        }
      }
      const o = row + 1 + px * 4;
      rows[o] = a ? Math.round(r / a) : 0;
      rows[o + 1] = a ? Math.round(g / a) : 0;
      rows[o + 2] = a ? Math.round(b / a) : 0;
      rows[o + 3] = Math.round(a / (n * n));
    }
  }
  return rows;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

// A PNG file (8-bit RGBA), the same bytes on every run
export function renderIcon(size, maskable) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels(size, maskable), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { file, size, maskable } of ICONS) {
    const path = new URL(`../public/${file}`, import.meta.url);
    writeFileSync(path, renderIcon(size, maskable));
    console.log(`public/${file}`);
  }
}
