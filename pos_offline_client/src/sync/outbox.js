// The durable outbox. An operation (a sale, a return, a cash movement...) is
// committed in ONE IndexedDB transaction with its journal record, its receipt
// number and its per-terminal operation sequence, before anything is printed.
// It leaves the outbox only when the server has acknowledged it.
import { COUNTERS_KEY, emptyCounters } from '../db/schema.js';
import { uuid as makeUuid } from '../lib/uuid.js';
import { GENESIS, JOURNAL_TYPES, chainOperation } from './journal.js';

export function formatReceiptNumber(prefix, n) {
  return `${prefix}-${String(n).padStart(6, '0')}`;
}

export function isoNow(date = new Date()) {
  // ISO 8601 with the local offset, as the protocol asks.
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export async function readCounters(db) {
  return (await db.meta.get(COUNTERS_KEY)) || emptyCounters();
}

// Commit one operation.
//   type: wire operation type; employee: id; terminal: id
//   receipt: true when the operation consumes a receipt number
//   build({receiptNumber, sequence, uuid, clientTime}) -> {payload, journal?, extra?, also?}
//     journal: {clear: {...indexed fields}, secret: {...}} stored in `sales`
//     also: [{type, payload}] more operations committed in the same
//       transaction, sequenced right after this one (the audit of the
//       manager approvals of a sale)
//     extra: async (tx, encrypted) => writes to other stores (already encrypted)
//     secrets: {name: value} encrypted before the transaction and passed to extra
// Returns {uuid, sequence, receiptNumber, clientTime, operation, also}.
export async function commitOperation({ db, vault, type, terminal, employee, receipt = false, build, stores = [], now = () => new Date() }) {
  const opUuid = makeUuid();
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const counters = await readCounters(db);
    const receiptNumber = receipt ? counters.receipt + 1 : null;
    const sequence = counters.operation + 1;
    const date = now();
    const clientTime = isoNow(date);
    const built = await build({ receiptNumber, sequence, uuid: opUuid, clientTime, date });
    const operation = {
      uuid: opUuid, type, terminal, sequence, client_time: clientTime, employee, payload: built.payload,
    };
    // The receipt journal (sync/journal.js): chained to the head read with
    // the counters; the transaction below stores the new head only if
    // the counters (and so the head) have not moved meanwhile
    const chained = JOURNAL_TYPES.has(type);
    const journalHash = chained ? await chainOperation(operation, counters.journal || GENESIS) : null;
    const encOp = await vault.encrypt(operation);
    const also = [];
    for (const [i, more] of (built.also || []).entries()) {
      const op = {
        uuid: makeUuid(), type: more.type, terminal, sequence: sequence + 1 + i, client_time: clientTime, employee, payload: more.payload,
      };
      also.push({ operation: op, enc: await vault.encrypt(op) });
    }
    const lastSequence = sequence + also.length;
    const encJournal = built.journal ? await vault.encrypt(built.journal.secret) : null;
    const secrets = {};
    for (const [k, v] of Object.entries(built.secrets || {})) secrets[k] = await vault.encrypt(v);
    const tables = [db.meta, db.outbox, db.sales, ...(chained ? [db.chain] : []), ...stores.map((s) => db[s])];
    const ok = await db.transaction('rw', tables, async () => {
      const current = (await db.meta.get(COUNTERS_KEY)) || emptyCounters();
      if (current.receipt !== counters.receipt || current.operation !== counters.operation) return false;
      if ((current.journal || null) !== (counters.journal || null)) return false;
      await db.meta.put({
        ...current, receipt: receipt ? receiptNumber : current.receipt, operation: lastSequence,
        ...(chained ? { journal: journalHash } : {}),
      });
      if (chained) await db.chain.add({ seq: sequence, uuid: opUuid, type, hash: journalHash, enc: encOp });
      await db.outbox.add({ seq: sequence, uuid: opUuid, type, createdAt: date.getTime(), attempts: 0, enc: encOp });
      for (const { operation: op, enc } of also) {
        await db.outbox.add({ seq: op.sequence, uuid: op.uuid, type: op.type, createdAt: date.getTime(), attempts: 0, enc });
      }
      if (built.journal) {
        await db.sales.add({ ...built.journal.clear, uuid: opUuid, createdAt: date.getTime(), synced: false, enc: encJournal });
      }
      if (built.extra) await built.extra(secrets);
      return true;
    });
    if (ok) return { uuid: opUuid, sequence, receiptNumber, clientTime, operation, also: also.map((a) => a.operation) };
  }
  throw new Error('Could not reserve a receipt number');
}
