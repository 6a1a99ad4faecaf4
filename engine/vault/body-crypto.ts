import { randomBytes } from 'node:crypto';

import { deriveKey, open, seal } from './aead.js';
import { parseBody, type VaultBody } from './body.js';
import { canonicalJson, decodeBase64, encodeBase64 } from './encoding.js';
import { VaultError } from './errors.js';
import { BODY_ALGORITHM, bodyAad, type UnsealedDocument, type VaultDocument } from './format.js';

const BODY_INFO = 'aishell-vault/v1/body';
const BODY_SALT_LENGTH = 32;

/**
 * Encrypts the body under a key derived from the data key and a fresh random 32-byte salt. Each
 * derived key encrypts exactly once, so GCM nonce reuse under one key cannot occur.
 */
export function sealBody(header: Omit<UnsealedDocument, 'body'>, dataKey: Buffer, body: VaultBody): UnsealedDocument {
  const salt = randomBytes(BODY_SALT_LENGTH);
  const bodyHeader = { algorithm: BODY_ALGORITHM, salt: encodeBase64(salt), nonce: '', ciphertext: '' } as const;
  const aad = bodyAad({ ...header, body: bodyHeader });

  const bodyKey = deriveKey(dataKey, salt, BODY_INFO);
  const plaintext = Buffer.from(canonicalJson(body), 'utf8');
  try {
    const sealed = seal(bodyKey, plaintext, aad);
    return {
      ...header,
      body: { ...bodyHeader, nonce: encodeBase64(sealed.nonce), ciphertext: encodeBase64(sealed.ciphertext) },
    };
  } finally {
    bodyKey.fill(0);
    plaintext.fill(0);
  }
}

/** Decrypts and checks the body. Any change to the header or body raises INTEGRITY. */
export function openBody(document: VaultDocument, dataKey: Buffer, path: string): VaultBody {
  const salt = decodeBase64(document.body.salt, 'body.salt', BODY_SALT_LENGTH);
  const sealed = {
    nonce: decodeBase64(document.body.nonce, 'body.nonce', 12),
    ciphertext: decodeBase64(document.body.ciphertext, 'body.ciphertext'),
  };

  const bodyKey = deriveKey(dataKey, salt, BODY_INFO);
  const plaintext = open(bodyKey, sealed, bodyAad(document));
  bodyKey.fill(0);
  if (plaintext === undefined) {
    throw new VaultError(
      'INTEGRITY',
      `${path} was modified: the header or body does not match its authentication tag; restore it from a backup`,
    );
  }

  try {
    return parseBody(plaintext.toString('utf8'));
  } finally {
    plaintext.fill(0);
  }
}
