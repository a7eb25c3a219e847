// The till's key material in IndexedDB (docs/security.md): key slots, the
// vault record, the device record with its encrypted device key, events
// sealed while locked, and the migration from the version 1 vault.
import { ENCRYPTED_STORES, SENSITIVE_KINDS } from './schema.js';
import { createVault, openLegacyVault, seal } from '../services/vault.js';
import { employeeSlots } from '../sync/pull.js';

export async function loadSlots(db) {
  return db.slots.toArray();
}

export async function vaultRecord(db) {
  return (await db.meta.get('vault')) || null;
}

// Keep an event to record once someone unlocks the till (a wrong PIN
// while locked): sealed to the till's public key.
export async function sealEvent(db, value) {
  const record = await vaultRecord(db);
  if (!record) return false;
  await db.sealed.add({ box: await seal(record, value) });
  return true;
}

// The sealed events, opened with the vault, oldest first; `done(ids)`
// removes them once recorded.
export async function openSealedEvents(db, vault) {
  const record = await vaultRecord(db);
  if (!record) return [];
  const rows = await db.sealed.orderBy('id').toArray();
  const out = [];
  for (const row of rows) {
    try {
      out.push({ id: row.id, value: await vault.openSealed(record, row.box) });
    } catch {
      out.push({ id: row.id, value: null });
    }
  }
  return out;
}

export async function dropSealed(db, ids) {
  if (ids.length) await db.sealed.bulkDelete(ids);
}

// Version 1 stored the device key in clear in the device record and the
// data key wrapped by a key derived from it. Re-encrypt every record under
// a NEW data key (so an old copy of the profile opens nothing written
// from now on), make the key slots from the employees' synced PIN hashes,
// store the device key encrypted, and forget the version 1 key material:
// all in one transaction, so a cut leaves either version whole.
// Returns {vault, device} or null when there is nothing to migrate.
export async function migrateLegacyVault(db) {
  const device = await db.meta.get('device');
  if (!device?.deviceKey || !device.vault || device.vault.version !== 1) return null;
  const old = await openLegacyVault(device.vault, device.deviceKey);
  const { vault, record } = await createVault();
  const rewritten = {};
  const employees = new Map();
  for (const name of ENCRYPTED_STORES) {
    const rows = await db[name].toArray();
    const out = [];
    for (const row of rows) {
      if (!row.enc && !(name === 'quarantine' && row.reason)) continue;
      const next = { ...row };
      if (row.enc) {
        const value = await old.decrypt(row.enc);
        next.enc = await vault.encrypt(value);
        if (name === 'catalog') for (const e of value.employee || []) employees.set(e.id, { pageId: row.id, data: e });
        if (name === 'changes' && row.kind === 'employee') employees.set(row.id, { change: true, data: value });
      }
      if (name === 'quarantine' && row.reason) {
        next.reasonEnc = await vault.encrypt(row.reason);
        delete next.reason;
      }
      out.push(next);
    }
    rewritten[name] = out;
  }
  // a change that deleted an employee (stored without data) wins over the page
  for (const ch of await db.changes.toArray()) {
    if (SENSITIVE_KINDS.has(ch.kind) && ch.kind === 'employee' && !ch.enc) employees.delete(ch.id);
  }
  const slots = await employeeSlots(vault, [...employees.values()].map((e) => e.data));
  const secret = await vault.encrypt(device.deviceKey);
  const next = { ...device, secret, vaultVersion: record.version };
  delete next.deviceKey;
  delete next.vault;
  await db.transaction('rw', [db.meta, db.slots, ...ENCRYPTED_STORES.map((n) => db[n])], async () => {
    for (const [name, rows] of Object.entries(rewritten)) if (rows.length) await db[name].bulkPut(rows);
    await db.slots.clear();
    if (slots.put.length) await db.slots.bulkPut(slots.put);
    await db.meta.put(record);
    await db.meta.put(next);
  });
  return { vault, device: next };
}
