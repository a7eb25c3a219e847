// Encryption at rest (services/vault.js, db/migrate.js): the data key is
// opened only through an employee's PIN; nothing beside the data decrypts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { freshDb } from './helpers.js';
import { createLegacyVault, createVault, openSlot, seal } from '../src/services/vault.js';
import { verifyPin } from '../src/services/pin.js';
import { employeeSlots } from '../src/sync/pull.js';
import { dropSealed, migrateLegacyVault, openSealedEvents, sealEvent } from '../src/db/migrate.js';
import { openLegacyVault } from '../src/services/vault.js';

// The back office's format (addons/retail/company.py hash_pin), few
// iterations to keep the test fast.
function hashPin(pin, iterations = 1000) {
  const salt = randomBytes(16);
  const digest = pbkdf2Sync(pin, salt, iterations, 32, 'sha256');
  return `pbkdf2_sha256$${iterations}$${salt.toString('base64')}$${digest.toString('base64')}`;
}

test('a key slot opens with the employee\'s PIN only, and keeps no key in clear', async () => {
  const { vault } = await createVault();
  const pinHash = hashPin('2580');
  const slot = await vault.slotFor(7, pinHash, { name: 'Alice', manager: false });
  const enc = await vault.encrypt({ total: 1234 });
  assert.equal(await openSlot(slot, '1234'), null);
  assert.equal(await openSlot(slot, ''), null);
  const opened = await openSlot(slot, '2580');
  assert.deepEqual(await opened.decrypt(enc), { total: 1234 });
  // the slot holds the KDF's salt and count, never the hash nor the key
  const hash = Buffer.from(pinHash.split('$')[3], 'base64');
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', vault.key));
  const bytes = Buffer.from(JSON.stringify(Object.values(slot).map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))));
  assert.ok(!bytes.includes(hash.toString('hex')));
  assert.ok(!bytes.includes(Buffer.from(raw).toString('hex')));
  assert.equal(slot.iterations, 1000);
  // the same PIN hash still verifies the PIN (manager approvals while unlocked)
  assert.equal(await verifyPin('2580', pinHash), true);
  assert.equal(await verifyPin('2581', pinHash), false);
});

test('pulled employees make, remake and remove key slots', async () => {
  const { vault } = await createVault();
  const r = await employeeSlots(vault, [
    { id: 1, name: 'Alice', pin_hash: hashPin('2580'), permissions: {} },
    { id: 2, name: 'Chloé', pin_hash: hashPin('4826'), permissions: { allow_manager_override: true } },
    { id: 3, name: 'No PIN', pin_hash: null },
  ]);
  assert.deepEqual(r.put.map((s) => [s.employee, s.name, s.manager]), [[1, 'Alice', false], [2, 'Chloé', true]]);
  assert.deepEqual(r.remove, [3]);
  const changes = await employeeSlots(vault, [
    { kind: 'employee', id: 1, op: 'write', data: { id: 1, name: 'Alice', pin_hash: hashPin('0000') } },
    { kind: 'employee', id: 2, op: 'delete', data: null },
  ]);
  assert.deepEqual(changes.remove, [2]);
  assert.ok(await openSlot(changes.put[0], '0000'));
  assert.equal(await openSlot(changes.put[0], '2580'), null, 'a changed PIN replaces the slot');
});

test('events sealed while locked open only with the data key', async () => {
  const db = await freshDb();
  const { vault, record } = await createVault();
  await db.meta.put(record);
  assert.ok(await sealEvent(db, { payload: { action: 'pin_failed', cashier: 7 }, at: 1 }));
  const [row] = await db.sealed.toArray();
  assert.ok(!JSON.stringify(row).includes('pin_failed'));
  const other = (await createVault()).vault;
  const [bad] = await openSealedEvents(db, other).catch(() => [{ value: null }]);
  assert.equal(bad.value, null);
  const events = await openSealedEvents(db, vault);
  assert.deepEqual(events.map((e) => e.value), [{ payload: { action: 'pin_failed', cashier: 7 }, at: 1 }]);
  await dropSealed(db, events.map((e) => e.id));
  assert.equal(await db.sealed.count(), 0);
  // sealing needs no secret: the public key alone
  assert.ok(await seal({ sealKey: record.sealKey }, 'x'));
});

test('a version 1 vault migrates: new data key, slots, device key encrypted, old key material gone', async () => {
  const db = await freshDb();
  const deviceKey = 'rsk_1_secret';
  const legacy = await createLegacyVault(deviceKey);
  const old = await openLegacyVault(legacy, deviceKey);
  const pinHash = hashPin('2580');
  await db.meta.put({ key: 'device', deviceKey, vault: legacy, terminal: { id: 4 } });
  await db.catalog.put({ id: 1, records: { product: [{ id: 9 }] }, enc: await old.encrypt({ employee: [{ id: 1, name: 'Alice', pin_hash: pinHash }] }) });
  await db.sales.put({ uuid: 'u1', number: 'BXL1-000001', createdAt: 1, enc: await old.encrypt({ totals: { total: 4321 } }) });
  await db.quarantine.put({ uuid: 'q1', seq: 3, reason: { code: 'not_allowed', message: 'Manager Chloé' }, enc: await old.encrypt({ type: 'audit' }) });
  const result = await migrateLegacyVault(db);
  assert.ok(result);
  const device = await db.meta.get('device');
  assert.equal(device.deviceKey, undefined);
  assert.equal(device.vault, undefined);
  const [slot] = await db.slots.toArray();
  const vault = await openSlot(slot, '2580');
  assert.equal(await vault.decrypt(device.secret), deviceKey);
  const sale = await db.sales.get('u1');
  assert.deepEqual(await vault.decrypt(sale.enc), { totals: { total: 4321 } });
  await assert.rejects(old.decrypt(sale.enc), 'the old data key opens nothing written now');
  const q = await db.quarantine.get('q1');
  assert.equal(q.reason, undefined);
  assert.equal((await vault.decrypt(q.reasonEnc)).message, 'Manager Chloé');
  assert.equal(await migrateLegacyVault(db), null, 'nothing left to migrate');
});

test('a till on the version 1 schema upgrades (Dexie) and migrates with its outbox', async () => {
  const { default: Dexie } = await import('dexie');
  const { openDatabase } = await import('../src/db/schema.js');
  const name = `v1-${process.pid}`;
  const v1 = new Dexie(name);
  v1.version(1).stores({
    meta: 'key', catalog: 'id', changes: '[kind+id]', sales: 'uuid, number, sessionUuid, createdAt',
    outbox: 'seq, &uuid', quarantine: 'uuid, seq', held: 'uuid, createdAt', sessions: 'uuid, state, openedAt',
    customers: 'uuid', audit: '++id, at',
  });
  const deviceKey = 'rsk_1_old';
  const legacy = await createLegacyVault(deviceKey);
  const old = await openLegacyVault(legacy, deviceKey);
  const op = await old.encrypt({ uuid: 'o1', type: 'sale', payload: { receipt_number: 1 } });
  await v1.open();
  await v1.meta.put({ key: 'device', deviceKey, vault: legacy, terminal: { id: 4 } });
  await v1.changes.put({ kind: 'employee', id: 3, op: 'write', enc: await old.encrypt({ id: 3, name: 'Bruno', pin_hash: hashPin('1357') }) });
  await v1.outbox.put({ seq: 1, uuid: 'o1', type: 'sale', enc: op });
  v1.close();
  const db = openDatabase(name);
  await db.open();
  assert.equal(db.verno, 5);
  await migrateLegacyVault(db);
  const [slot] = await db.slots.toArray();
  assert.equal(slot.employee, 3);
  const vault = await openSlot(slot, '1357');
  const [entry] = await db.outbox.toArray();
  assert.deepEqual(await vault.decrypt(entry.enc), { uuid: 'o1', type: 'sale', payload: { receipt_number: 1 } });
  assert.equal((await db.meta.get('device')).deviceKey, undefined);
  db.close();
});
