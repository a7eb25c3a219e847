// The till's own stock moves: what each sale, return and count did to the
// local stock, kept until the server's figure includes it.
//
// Local stock of a product (services/catalog.js stockOf) = the server's
// figure (the last `stock` record pulled) + these moves. A move is written
// in the same IndexedDB transaction as its operation's outbox entry, so
// the figure changes at once. When the server acknowledges the operation
// (accepted, duplicate or rejected), the move is marked `ackedAt`: an
// accepted sale is in the server's stock ledger when the push answers
// (posting runs in the push's transaction), so the first pull that starts
// after the acknowledgement brings the figure that includes it, and the
// move is then dropped (settleStock). A rejected operation is not in the
// server's figure: its move is dropped at the same time, the server's
// figure being the authority.
//
// A record: {id: '<operation uuid>:<n>', op, product, lot (id or null),
// quantity (signed thousandths of the product's default unit: a sale
// takes away, a return brings back, a count sets the difference), ackedAt}.

// The moves of an order (a sale or a return) committed as operation `op`:
// one per lot of each line of a stocked product.
export function orderMoves(catalog, order, op) {
  const out = [];
  for (const line of order.lines) {
    if (line.voided || !catalog.stocked(line.product)) continue;
    const parts = line.lots?.length ? line.lots.map((l) => ({ lot: l.id, quantity: l.quantity })) : [{ lot: line.lot?.id ?? null, quantity: line.quantity }];
    for (const part of parts) {
      out.push({
        id: `${op}:${out.length}`, op, product: line.product, lot: part.lot ?? null,
        quantity: -catalog.toStockUnit(line.product, part.quantity), ackedAt: null,
      });
    }
  }
  return out;
}

// The moves of a count committed as operation `op`: lines {product, lot,
// quantity (thousandths counted)}; each sets the local figure to what was
// counted (of the lot, when the line names one).
export function countMoves(catalog, lines, op) {
  return lines.map((line, i) => {
    const lot = line.lot ?? null;
    const current = lot === null
      ? catalog.stockOf(line.product).quantity
      : (catalog.lotsOf(line.product).find((l) => l.id === lot)?.quantity ?? 0);
    return { id: `${op}:${i}`, op, product: line.product, lot, quantity: line.quantity - current, ackedAt: null };
  });
}

export async function putMoves(db, moves) {
  if (moves.length) await db.stock.bulkPut(moves);
}

// Inside the push's transaction (db.stock among its tables).
export async function acknowledgeMoves(db, opUuids, at) {
  if (!opUuids.length) return;
  await db.stock.where('op').anyOf(opUuids).modify({ ackedAt: at });
}

// After a pull that started at `pullStartedAt`: drop the moves it covers.
// Answers the number dropped.
export async function settleStock(db, pullStartedAt) {
  return db.stock.filter((m) => m.ackedAt !== null && m.ackedAt <= pullStartedAt).delete();
}

export async function loadLocalStock(db, catalog) {
  catalog.setLocalMoves(await db.stock.toArray());
}
