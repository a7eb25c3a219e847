// Offline PIN check against the synced hash "pbkdf2_sha256$iter$salt$hash"
// (the back office's format), with WebCrypto PBKDF2-HMAC-SHA256.
const te = new TextEncoder();

function fromBase64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

export function parsePinHash(pinHash) {
  const parts = String(pinHash || '').split('$');
  if (parts.length !== 4 || parts[0] !== 'pbkdf2_sha256') return null;
  const iterations = Number(parts[1]);
  if (!Number.isInteger(iterations) || iterations < 1) return null;
  try {
    return { iterations, salt: fromBase64(parts[2]), hash: fromBase64(parts[3]) };
  } catch {
    return null;
  }
}

export async function verifyPin(pin, pinHash) {
  const parsed = parsePinHash(pinHash);
  if (!pin || !parsed) return false;
  const key = await crypto.subtle.importKey('raw', te.encode(String(pin)), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: parsed.salt, iterations: parsed.iterations },
    key, parsed.hash.length * 8,
  ));
  // Constant time comparison
  let diff = bits.length ^ parsed.hash.length;
  for (let i = 0; i < bits.length; i += 1) diff |= bits[i] ^ parsed.hash[i];
  return diff === 0;
}
