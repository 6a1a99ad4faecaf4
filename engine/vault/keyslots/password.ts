import { createHash } from 'node:crypto';

import { deriveKey, open, seal } from '../aead.js';
import { decodeBase64, encodeBase64 } from '../encoding.js';
import { VaultError } from '../errors.js';
import { keySlotAad, type KdfParams, type PasswordSlot, type VaultDocument } from '../format.js';
import { runKdf } from '../kdf.js';

const INFO_PASSWORD = 'aishell-vault/v1/password-slot';
const INFO_PASSWORD_AND_KEY_FILE = 'aishell-vault/v1/password-and-key-file-slot';

export interface PasswordSecret {
  password: string;
  /** Contents of the key file, when the slot requires one. */
  keyFile?: Buffer;
}

/** Wraps the data key under a key derived from the password and, if given, the key file. */
export async function wrapWithPassword(
  vaultId: string,
  id: number,
  dataKey: Buffer,
  secret: PasswordSecret,
  kdf: KdfParams,
): Promise<PasswordSlot> {
  const header = { id, type: 'password' as const, kdf, keyFile: secret.keyFile !== undefined };
  const kek = await deriveKek(header, secret);
  try {
    const sealed = seal(kek, dataKey, keySlotAad({ vaultId }, { ...header, nonce: '', ciphertext: '' }));
    return { ...header, nonce: encodeBase64(sealed.nonce), ciphertext: encodeBase64(sealed.ciphertext) };
  } finally {
    kek.fill(0);
  }
}

/** Unwraps the data key, or returns undefined when the password or key file is wrong. */
export async function unwrapPasswordSlot(
  document: Pick<VaultDocument, 'vaultId'>,
  slot: PasswordSlot,
  secret: PasswordSecret,
): Promise<Buffer | undefined> {
  if (slot.keyFile && secret.keyFile === undefined) {
    throw new VaultError(
      'MISSING_CREDENTIAL',
      'this vault requires a key file as a second factor: pass --key-file PATH or set AISHELL_VAULT_KEY_FILE',
    );
  }

  const sealed = {
    nonce: decodeBase64(slot.nonce, `keySlots[${slot.id}].nonce`, 12),
    ciphertext: decodeBase64(slot.ciphertext, `keySlots[${slot.id}].ciphertext`, 48),
  };
  const kek = await deriveKek(slot, slot.keyFile ? secret : { password: secret.password });
  try {
    return open(kek, sealed, keySlotAad(document, slot));
  } finally {
    kek.fill(0);
  }
}

/**
 * Derives the key-encryption key. The key file's SHA-256 is the HKDF salt, so both factors are
 * needed and neither can be checked alone.
 */
async function deriveKek(slot: Pick<PasswordSlot, 'kdf'>, secret: PasswordSecret): Promise<Buffer> {
  const stretched = await runKdf(slot.kdf, secret.password);
  try {
    if (secret.keyFile === undefined) {
      return deriveKey(stretched, Buffer.alloc(0), INFO_PASSWORD);
    }
    const keyFileDigest = createHash('sha256').update(secret.keyFile).digest();
    return deriveKey(stretched, keyFileDigest, INFO_PASSWORD_AND_KEY_FILE);
  } finally {
    stretched.fill(0);
  }
}
