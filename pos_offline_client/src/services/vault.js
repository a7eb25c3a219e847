// Encryption at rest of everything personal or financial (WebCrypto).
// Threat model and figures: docs/security.md.
//
// - A random 256-bit AES-GCM data key encrypts the records (sales, outbox,
//   quarantine, parked orders, sessions, customers, audit, the employee and
//   customer records of the catalog, the device key, the sealing key).
// - The data key is never stored in clear. It is stored only in key slots,
//   one per employee with a PIN: the data key wrapped (AES-KW) by a key
//   derived from that employee's PIN through the server's PBKDF2-HMAC-SHA256
//   (the same salt and iteration count as the synced PIN hash), then HKDF
//   with a per-slot salt. Opening a slot takes the PIN and one full PBKDF2
//   run; a wrong PIN fails AES-KW's integrity check.
// - Because the slot key is the PBKDF2 output that the server's PIN hash
//   holds, the till makes (and remakes) an employee's slot whenever it
//   pulls the employee record, while it is unlocked: no first login is
//   needed, and a changed PIN replaces the slot.
// - Events that must be recorded while nobody has unlocked the till (a
//   wrong PIN) are sealed to the till's public key (ECDH P-256 + AES-GCM);
//   the private key is stored encrypted under the data key, so they are
//   opened once someone unlocks.
const te = new TextEncoder();
const td = new TextDecoder();

export const VAULT_VERSION = 2;
const SLOT_INFO = te.encode('retail-pos key slot v2');
const SEAL_INFO = te.encode('retail-pos sealed event v2');

function subtle() {
  return globalThis.crypto.subtle;
}

function random(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

function fromBase64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

// "pbkdf2_sha256$iterations$salt$hash" (the back office's format) -> parts.
export function parsePinHash(pinHash) {
  const parts = String(pinHash || '').split('$');
  if (parts.length !== 4 || parts[0] !== 'pbkdf2_sha256') return null;
  const iterations = Number(parts[1]);
  if (!Number.isInteger(iterations) || iterations < 1) return null;
  try {
    const hash = fromBase64(parts[3]);
    if (hash.length < 16) return null;
    return { iterations, salt: fromBase64(parts[2]), hash };
  } catch {
    return null;
  }
}

// PBKDF2-HMAC-SHA256 of a PIN: the costly step of every guess.
export async function pinBits(pin, salt, iterations, length = 32) {
  const key = await subtle().importKey('raw', te.encode(String(pin)), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(await subtle().deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, length * 8));
}

async function slotKey(bits, hkdfSalt) {
  const ikm = await subtle().importKey('raw', bits, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: hkdfSalt, info: SLOT_INFO },
    ikm, { name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey'],
  );
}

// A new data key, with the till's sealing key pair. Returns the vault (in
// memory) and the record to store in meta ('vault'): the public sealing
// key in clear, the private one encrypted under the data key.
export async function createVault() {
  const key = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const vault = new Vault(key);
  const pair = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const record = {
    key: 'vault', version: VAULT_VERSION, createdAt: Date.now(),
    sealKey: await subtle().exportKey('jwk', pair.publicKey),
    sealPrivate: await vault.encrypt(await subtle().exportKey('jwk', pair.privateKey)),
  };
  return { vault, record };
}

// Open a key slot with a PIN: the vault, or null for a wrong PIN.
export async function openSlot(slot, pin) {
  if (!slot || !pin) return null;
  const bits = await pinBits(pin, slot.salt, slot.iterations, slot.length || 32);
  try {
    const key = await subtle().unwrapKey(
      'raw', slot.wrapped, await slotKey(bits, slot.hkdfSalt), 'AES-KW',
      { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt'],
    );
    return new Vault(key);
  } catch {
    return null;
  }
}

export class Vault {
  constructor(key) {
    this.key = key;
  }

  async encrypt(value) {
    const iv = random(12);
    const data = await subtle().encrypt({ name: 'AES-GCM', iv }, this.key, te.encode(JSON.stringify(value)));
    return { iv, data: new Uint8Array(data) };
  }

  async decrypt(enc) {
    const plain = await subtle().decrypt({ name: 'AES-GCM', iv: enc.iv }, this.key, enc.data);
    return JSON.parse(td.decode(plain));
  }

  // The key slot of an employee, from their synced PIN hash (null when the
  // hash is not one the till can use). `label` is what the login screen
  // shows before anyone unlocks: {name, manager}.
  async slotFor(employeeId, pinHash, label = {}) {
    const parsed = parsePinHash(pinHash);
    if (!parsed) return null;
    const hkdfSalt = random(16);
    const wrapped = await subtle().wrapKey('raw', this.key, await slotKey(parsed.hash, hkdfSalt), 'AES-KW');
    return {
      employee: employeeId, name: String(label.name || ''), manager: Boolean(label.manager),
      iterations: parsed.iterations, salt: parsed.salt, length: parsed.hash.length, hkdfSalt, wrapped: new Uint8Array(wrapped),
    };
  }

  // The private sealing key, to open what was sealed while locked.
  async openSealed(vaultRecord, box) {
    const jwk = await this.decrypt(vaultRecord.sealPrivate);
    const priv = await subtle().importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const epk = await subtle().importKey('jwk', box.epk, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    const key = await sealingKey(epk, priv);
    const plain = await subtle().decrypt({ name: 'AES-GCM', iv: box.iv }, key, box.data);
    return JSON.parse(td.decode(plain));
  }
}

async function sealingKey(publicKey, privateKey) {
  const shared = await subtle().deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256);
  const ikm = await subtle().importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(16), info: SEAL_INFO },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
  );
}

// Encrypt a value to the till's public sealing key (no data key needed):
// only the holder of the data key can open it.
export async function seal(vaultRecord, value) {
  const pub = await subtle().importKey('jwk', vaultRecord.sealKey, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const eph = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const key = await sealingKey(pub, eph.privateKey);
  const iv = random(12);
  const data = await subtle().encrypt({ name: 'AES-GCM', iv }, key, te.encode(JSON.stringify(value)));
  return { epk: await subtle().exportKey('jwk', eph.publicKey), iv, data: new Uint8Array(data) };
}

// -- version 1 (before protocol of key slots) --------------------------------
// Version 1 wrapped the data key with a key derived from the device key
// alone, stored beside it. Used only to migrate (see db/migrate.js).
async function legacyWrappingKey(deviceSecret, salt) {
  const ikm = await subtle().importKey('raw', te.encode(deviceSecret), 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: te.encode('retail-pos data key v1') },
    ikm, { name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey'],
  );
}

export async function openLegacyVault(record, deviceSecret) {
  const key = await subtle().unwrapKey(
    'raw', record.wrapped, await legacyWrappingKey(deviceSecret, record.salt), 'AES-KW',
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
  );
  return new Vault(key);
}

// For the tests of the migration: a version 1 vault record.
export async function createLegacyVault(deviceSecret) {
  const salt = random(16);
  const dataKey = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const wrapped = await subtle().wrapKey('raw', dataKey, await legacyWrappingKey(deviceSecret, salt), 'AES-KW');
  return { version: 1, salt, wrapped: new Uint8Array(wrapped) };
}
