import 'fake-indexeddb/auto';
import { openDatabase } from '../src/db/schema.js';
import { createVault } from '../src/services/vault.js';

let n = 0;
export async function freshDb() {
  n += 1;
  const db = openDatabase(`test-${process.pid}-${n}`);
  await db.open();
  return db;
}

export async function testVault() {
  return (await createVault()).vault;
}

// A retail_sync server in memory: records what was pushed, answers like v1.
export class FakeServer {
  constructor() {
    this.received = new Map();
    this.pushes = [];
    this.fail = 0;
    this.down = false;
    this.reject = new Set();
    this.dropAnswers = 0;
    this.changes = [];
    this.cursor = 'v1.1.0';
  }

  api() {
    const server = this;
    return {
      async status() {
        if (server.down) throw Object.assign(new Error('down'), { name: 'NetworkError' });
        return { terminal: 4 };
      },
      async push(body) {
        if (server.down) throw Object.assign(new Error('down'), { name: 'NetworkError' });
        if (server.fail > 0) {
          server.fail -= 1;
          throw Object.assign(new Error('busy'), { name: 'NetworkError' });
        }
        server.pushes.push(body.operations.map((o) => o.sequence));
        const results = body.operations.map((op) => {
          const first = server.received.get(op.uuid);
          if (first) return { uuid: op.uuid, status: 'duplicate', first_status: first.status, result: first.result };
          const status = server.reject.has(op.sequence) ? 'rejected' : 'accepted';
          const entry = { status, op, result: { sale: 1000 + op.sequence, flags: [] } };
          server.received.set(op.uuid, entry);
          if (status === 'rejected') return { uuid: op.uuid, status, reason: { code: 'unknown_product', message: 'no' } };
          return { uuid: op.uuid, status, result: entry.result };
        });
        if (server.dropAnswers > 0) {
          server.dropAnswers -= 1;
          throw Object.assign(new Error('answer lost'), { name: 'NetworkError' });
        }
        return { results };
      },
      async changes(cursor) {
        const page = server.changes.splice(0, 2);
        return { changes: page, cursor: `${cursor}+`, has_more: server.changes.length > 0 };
      },
    };
  }
}
