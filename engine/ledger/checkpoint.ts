import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

import { LedgerError } from './errors.js';

// Checkpoints are signed notes in the C2SP tlog-checkpoint format, the one used by Go's
// transparency logs and their witnesses:
//
//   <origin>\n<tree size>\n<base64 root hash>\n
//   \n
//   — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\n
//
// The signature covers the three body lines including the final newline. The key id is the first
// four bytes of SHA-256(key name || 0x0A || 0x01 || public key), where 0x01 means Ed25519.

const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_ALGORITHM = 0x01;

/** An Ed25519 key that signs checkpoints. */
export interface SigningKey {
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The 32-byte raw public key. */
  publicRaw: Buffer;
  keyId: Buffer;
}

/** A public key that checkpoints may be signed with. */
export interface VerifierKey {
  name: string;
  publicKey: KeyObject;
  publicRaw: Buffer;
  keyId: Buffer;
}

export interface CheckpointSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  /** The signed text: the three body lines. */
  body: string;
  signatures: CheckpointSignature[];
  /** The whole note as it was parsed or written. */
  note: string;
}

export function computeKeyId(name: string, publicRaw: Buffer): Buffer {
  return createHash('sha256')
    .update(name)
    .update(Buffer.from([0x0a, ED25519_ALGORITHM]))
    .update(publicRaw)
    .digest()
    .subarray(0, 4);
}

/** Names a key after its public key, so that two ledgers' keys never share a name. */
export function defaultKeyName(publicRaw: Buffer): string {
  return `aishell-ledger-${createHash('sha256').update(publicRaw).digest('hex').slice(0, 8)}`;
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new LedgerError('LEDGER_KEY', 'the ledger signing key must be an Ed25519 key');
  }
  return Buffer.from(jwk.x, 'base64url');
}

export function verifierFromRaw(name: string, publicRaw: Buffer): VerifierKey {
  if (publicRaw.length !== 32) {
    throw new LedgerError('LEDGER_KEY', `invalid Ed25519 public key for ${name}: expected 32 bytes, got ${publicRaw.length}`);
  }
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicRaw.toString('base64url') }, format: 'jwk' });
  return { name, publicKey, publicRaw, keyId: computeKeyId(name, publicRaw) };
}

/**
 * Reads a verifier key from a PEM public key, such as the `<key>.pub` file beside the signing key.
 * aishell names every key after its public key, so the name is derived the same way.
 */
export function verifierFromPem(pem: string): VerifierKey {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new LedgerError('LEDGER_KEY', 'expected a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (error) {
    throw new LedgerError('LEDGER_KEY', 'invalid PEM public key', { cause: error });
  }
  const raw = rawPublicKey(publicKey);
  return verifierFromRaw(defaultKeyName(raw), raw);
}

/**
 * Formats a verifier key in the C2SP signed-note form `<name>+<hex key id>+<base64(0x01 || key)>`,
 * which other note verifiers accept as is.
 */
export function formatVerifierKey(key: VerifierKey): string {
  const encoded = Buffer.concat([Buffer.from([ED25519_ALGORITHM]), key.publicRaw]).toString('base64');
  return `${key.name}+${key.keyId.toString('hex')}+${encoded}`;
}

export function parseVerifierKey(text: string): VerifierKey {
  // Base64 may itself contain '+', so only the first two separate fields.
  const match = /^([^+\s]+)\+([0-9a-fA-F]{8})\+(\S+)$/.exec(text.trim());
  if (!match) {
    throw new LedgerError('LEDGER_KEY', `invalid verifier key "${text.trim()}": expected <name>+<hex id>+<base64 key>`);
  }
  const [, name, idHex, encoded] = match;
  const raw = Buffer.from(encoded, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519_ALGORITHM) {
    throw new LedgerError('LEDGER_KEY', `invalid verifier key for ${name}: only Ed25519 keys (algorithm 1) are supported`);
  }
  const key = verifierFromRaw(name, raw.subarray(1));
  if (key.keyId.toString('hex') !== idHex.toLowerCase()) {
    throw new LedgerError('LEDGER_KEY', `invalid verifier key for ${name}: key id ${idHex} does not match the key`);
  }
  return key;
}

export function checkpointBody(origin: string, size: number, root: Buffer): string {
  if (!origin || /\s/.test(origin)) {
    throw new LedgerError('LEDGER_CHECKPOINT', `invalid checkpoint origin "${origin}": it must be one word`);
  }
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

export function signCheckpoint(origin: string, size: number, root: Buffer, key: SigningKey): Checkpoint {
  const body = checkpointBody(origin, size, root);
  const signature = sign(null, Buffer.from(body), key.privateKey);
  const line = `${SIGNATURE_PREFIX}${key.name} ${Buffer.concat([key.keyId, signature]).toString('base64')}\n`;
  return {
    origin,
    size,
    root,
    body,
    signatures: [{ name: key.name, keyId: key.keyId, signature }],
    note: `${body}\n${line}`,
  };
}

/** Parses a signed note; the signatures still need `findValidSigner`. */
export function parseCheckpoint(note: string): Checkpoint {
  const separator = note.indexOf('\n\n');
  if (separator < 0) {
    throw new LedgerError('LEDGER_CHECKPOINT', 'invalid checkpoint: no blank line between the body and the signatures');
  }

  const body = note.slice(0, separator + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) {
    throw new LedgerError('LEDGER_CHECKPOINT', 'invalid checkpoint: expected origin, tree size and root hash lines');
  }

  const [origin, sizeText, rootText] = lines;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new LedgerError('LEDGER_CHECKPOINT', `invalid checkpoint tree size "${sizeText}"`);
  }
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) {
    throw new LedgerError('LEDGER_CHECKPOINT', `invalid checkpoint root hash "${rootText}": expected base64 of 32 bytes`);
  }

  const signatures: CheckpointSignature[] = [];
  const signatureText = note.slice(separator + 2);
  for (const line of signatureText.split('\n')) {
    if (line === '') {
      continue;
    }
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match) {
      throw new LedgerError('LEDGER_CHECKPOINT', `invalid checkpoint signature line "${line}"`);
    }
    const blob = Buffer.from(match[2], 'base64');
    if (blob.length < 5) {
      throw new LedgerError('LEDGER_CHECKPOINT', `invalid checkpoint signature for ${match[1]}: too short`);
    }
    signatures.push({ name: match[1], keyId: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  if (signatures.length === 0) {
    throw new LedgerError('LEDGER_CHECKPOINT', 'invalid checkpoint: it has no signature');
  }

  return { origin, size: Number(sizeText), root, body, signatures, note };
}

/** Returns the first key of `keys` that produced a valid signature on the checkpoint. */
export function findValidSigner(checkpoint: Checkpoint, keys: readonly VerifierKey[]): VerifierKey | undefined {
  for (const entry of checkpoint.signatures) {
    for (const key of keys) {
      if (key.name !== entry.name || !key.keyId.equals(entry.keyId) || entry.signature.length !== 64) {
        continue;
      }
      if (verify(null, Buffer.from(checkpoint.body), key.publicKey, entry.signature)) {
        return key;
      }
    }
  }
  return undefined;
}
