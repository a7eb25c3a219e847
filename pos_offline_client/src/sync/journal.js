// The inalterable receipt journal (docs/journal.md): each sale, return,
// void and session close carries in its operation's `journal` the SHA-256
// of its canonical form chained to the previous entry of the terminal.
// The hash is made before the IndexedDB transaction that commits the
// operation (WebCrypto cannot run inside it) and that transaction checks
// that the chain's head has not moved, then stores the new head with the
// outbox entry and the chain record (sync/outbox.js).

export const GENESIS = '0'.repeat(64);
export const JOURNAL_TYPES = new Set(['sale', 'return', 'void', 'session_close']);
export const CHAIN_KEY = 'journal';

// The canonical bytes of a JSON value: keys sorted, no whitespace, UTF-8,
// integers only (amounts and quantities are decimal strings); a key whose
// value is undefined is left out, as JSON.stringify leaves it out on the wire.
export function canonicalJSON(value, path = '$') {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`${path} is a non-integer number: the journal takes decimal strings`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => (v === undefined ? 'null' : canonicalJSON(v, `${path}[${i}]`))).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(value[k], `${path}.${k}`)}`).join(',')}}`;
  }
  throw new Error(`${path} is not a JSON value`);
}

// The document hashed for an operation: the operation as pushed without
// its `journal`, with `previous` the hash of the terminal's entry before it.
export function journalEntry(operation, previous) {
  const rest = { ...operation };
  delete rest.journal;
  return { ...rest, previous };
}

export async function sha256Hex(text) {
  const bytes = new TextEncoder().encode(text);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function entryHash(operation, previous) {
  return sha256Hex(canonicalJSON(journalEntry(operation, previous)));
}

// Give an operation its journal {previous, hash}; returns the hash.
export async function chainOperation(operation, previous = GENESIS) {
  // What the server receives: the operation through JSON
  const wire = JSON.parse(JSON.stringify(operation));
  const hash = await entryHash(wire, previous);
  operation.journal = { previous, hash };
  return hash;
}

// Check the till's own journal: the chain records oldest first (each the
// operation as committed, decrypted), against the head the till keeps.
// Returns {entries, head, breaks: [{sequence, uuid, kind, message}]}.
export async function verifyChain(operations, head) {
  const breaks = [];
  let previous = null;
  for (const op of operations) {
    const journal = op?.journal;
    const at = { sequence: op?.sequence ?? null, uuid: op?.uuid ?? null };
    if (!journal || typeof journal.hash !== 'string' || typeof journal.previous !== 'string') {
      breaks.push({ ...at, kind: 'edited', message: 'The entry has no hash.' });
      continue;
    }
    let computed;
    try {
      computed = await entryHash(op, journal.previous);
    } catch (e) {
      computed = `not canonical: ${e.message}`;
    }
    if (computed !== journal.hash) {
      breaks.push({ ...at, kind: 'edited', message: `The hash ${journal.hash} is not that of the entry (${computed}): the entry was changed.` });
    }
    const expected = previous ?? journal.previous;
    if (previous !== null && journal.previous !== expected) {
      breaks.push({ ...at, kind: 'gap', message: `The previous hash ${journal.previous} is not that of the entry before (${expected}): an entry is missing or out of order.` });
    }
    previous = journal.hash;
  }
  if ((head ?? null) !== previous && !(head == null && previous === null)) {
    breaks.push({ sequence: null, uuid: null, kind: 'gap', message: `The journal ends at ${previous ?? 'no entry'} but the till's last hash is ${head}: an entry was deleted.` });
  }
  return { entries: operations.length, head: head ?? null, breaks };
}
