import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Length in bytes of the data key, of every key-encryption key and of every AES key here. */
export const KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;

export interface Sealed {
  nonce: Buffer;
  /** Ciphertext followed by the 16-byte GCM tag. */
  ciphertext: Buffer;
}

/** Encrypts with AES-256-GCM under a fresh random 96-bit nonce. */
export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

/**
 * Decrypts AES-256-GCM output of `seal`. Returns undefined when the tag does not verify, which
 * means a wrong key or modified ciphertext, nonce or AAD; the caller decides which message fits.
 */
export function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer | undefined {
  if (sealed.ciphertext.length < TAG_LENGTH || sealed.nonce.length !== NONCE_LENGTH) {
    return undefined;
  }
  const body = sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_LENGTH);
  const tag = sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** Derives a 32-byte key with HKDF-SHA-256. */
export function deriveKey(inputKey: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', inputKey, salt, Buffer.from(info, 'utf8'), KEY_LENGTH));
}

/**
 * Allocates a key buffer outside Node's shared pool, so zeroing it with `fill(0)` on lock clears
 * the only copy this module made.
 */
export function secretBuffer(bytes: Uint8Array): Buffer {
  const buffer = Buffer.allocUnsafeSlow(bytes.length);
  buffer.set(bytes);
  return buffer;
}
