// Encryption at rest of sales, payments, customers and employees (WebCrypto).
//
// A random 256-bit AES-GCM data key encrypts the records. It is stored only
// wrapped (AES-KW) by a key derived with HKDF-SHA256 from the device secret
// (the key issued at enrollment) and a random salt; it is unwrapped into a
// non-extractable CryptoKey in memory when the POS opens, and forgotten when
// the device is reset. The catalog stays in clear for speed.
const te = new TextEncoder();
const td = new TextDecoder();

function subtle() {
  return globalThis.crypto.subtle;
}

async function wrappingKey(deviceSecret, salt) {
  const ikm = await subtle().importKey('raw', te.encode(deviceSecret), 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: te.encode('retail-pos data key v1') },
    ikm, { name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey'],
  );
}

// Make a new data key and return its wrapped form to store.
export async function createVault(deviceSecret) {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const dataKey = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const wrapped = await subtle().wrapKey('raw', dataKey, await wrappingKey(deviceSecret, salt), 'AES-KW');
  return { version: 1, salt, wrapped: new Uint8Array(wrapped) };
}

export async function openVault(record, deviceSecret) {
  const key = await subtle().unwrapKey(
    'raw', record.wrapped, await wrappingKey(deviceSecret, record.salt), 'AES-KW',
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
  );
  return new Vault(key);
}

export class Vault {
  constructor(key) {
    this.key = key;
  }

  async encrypt(value) {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const data = await subtle().encrypt({ name: 'AES-GCM', iv }, this.key, te.encode(JSON.stringify(value)));
    return { iv, data: new Uint8Array(data) };
  }

  async decrypt(enc) {
    const plain = await subtle().decrypt({ name: 'AES-GCM', iv: enc.iv }, this.key, enc.data);
    return JSON.parse(td.decode(plain));
  }
}
