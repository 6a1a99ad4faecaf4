import { createHash } from 'node:crypto';

import { canonicalJson } from './encoding.js';
import { VaultError } from './errors.js';

export const FORMAT_NAME = 'aishell-vault';
export const FORMAT_VERSION = 1;
export const BODY_ALGORITHM = 'A256GCM-HKDF-SHA256';

/** Largest vault file that `parseVaultFile` reads, so a huge file cannot exhaust memory. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface ScryptParams {
  algorithm: 'scrypt';
  logN: number;
  r: number;
  p: number;
  salt: string;
}

export interface Argon2idParams {
  algorithm: 'argon2id';
  /** Memory in KiB. */
  memory: number;
  iterations: number;
  parallelism: number;
  salt: string;
}

export type KdfParams = ScryptParams | Argon2idParams;

export interface PasswordSlot {
  id: number;
  type: 'password';
  kdf: KdfParams;
  /** When true, the key-encryption key also depends on the contents of a key file. */
  keyFile: boolean;
  nonce: string;
  ciphertext: string;
}

export interface AwsKmsSlot {
  id: number;
  type: 'aws-kms';
  keyId: string;
  region: string;
  /**
   * Written by earlier versions. It stays part of the authenticated slot header but is never
   * contacted: endpoints come only from the configuration (see trust.ts).
   */
  endpoint?: string;
  ciphertext: string;
}

export interface GcpKmsSlot {
  id: number;
  type: 'gcp-kms';
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  keyName: string;
  /** Written by earlier versions; authenticated but never contacted, like AwsKmsSlot.endpoint. */
  endpoint?: string;
  ciphertext: string;
}

export interface Pkcs11Slot {
  id: number;
  type: 'pkcs11';
  /**
   * Written by earlier versions. It stays part of the authenticated slot header but is never
   * loaded: the module path comes only from the configuration (see trust.ts).
   */
  module?: string;
  tokenLabel: string;
  keyLabel: string;
  nonce: string;
  ciphertext: string;
}

/** AWS region names such as us-east-1 or us-gov-west-1. */
export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z0-9]+)+$/;

/** Full resource name of a Cloud KMS key. */
export const GCP_KEY_NAME_PATTERN = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

export type KeySlot = PasswordSlot | AwsKmsSlot | GcpKmsSlot | Pkcs11Slot;
export type KeySlotType = KeySlot['type'];

export interface SealedBody {
  algorithm: typeof BODY_ALGORITHM;
  /** HKDF salt of this save's body key. */
  salt: string;
  nonce: string;
  ciphertext: string;
}

/** The vault file as stored: a plaintext header, every part of it authenticated, and one sealed body. */
export interface VaultDocument {
  format: typeof FORMAT_NAME;
  version: typeof FORMAT_VERSION;
  vaultId: string;
  /** Incremented by every save. */
  generation: number;
  created: string;
  keySlots: KeySlot[];
  body: SealedBody;
  /**
   * SHA-256 of the rest of the document. It distinguishes accidental damage from a wrong password
   * before the KDF runs. It gives no protection against an attacker; the AEAD tags do.
   */
  checksum: string;
}

export type UnsealedDocument = Omit<VaultDocument, 'checksum'>;

/** Serializes a document as canonical JSON plus a newline, computing its checksum. */
export function serializeVaultFile(document: UnsealedDocument): string {
  const { checksum: _ignored, ...rest } = document as VaultDocument;
  const withChecksum = { ...rest, checksum: computeChecksum(rest) };
  return `${canonicalJson(withChecksum)}\n`;
}

/**
 * Parses and checks a vault file without decrypting it. Every byte counts: the text must be the
 * canonical serialization of what it parses to, and the checksum must match, so even a change in
 * whitespace or key order is reported.
 */
export function parseVaultFile(text: string, path: string): VaultDocument {
  if (text.length > MAX_FILE_BYTES) {
    throw new VaultError('FORMAT', `${path} is larger than ${MAX_FILE_BYTES} bytes; it is not a vault file`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VaultError('INTEGRITY', `${path} is damaged: it is not valid JSON; restore it from a backup`);
  }

  if (!isObject(parsed) || parsed.format !== FORMAT_NAME) {
    throw new VaultError('FORMAT', `${path} is not an aishell vault file`);
  }
  if (parsed.version !== FORMAT_VERSION) {
    throw new VaultError(
      'FORMAT',
      `${path} has vault format version ${JSON.stringify(parsed.version)}; this aishell reads version ${FORMAT_VERSION}`,
    );
  }

  let canonical: string;
  try {
    canonical = `${canonicalJson(parsed)}\n`;
  } catch {
    throw new VaultError('INTEGRITY', `${path} is damaged: it contains invalid text; restore it from a backup`);
  }
  if (canonical !== text) {
    throw new VaultError('INTEGRITY', `${path} was modified: it is not in canonical form; restore it from a backup`);
  }

  const { checksum, ...rest } = parsed;
  if (typeof checksum !== 'string' || checksum !== computeChecksum(rest)) {
    throw new VaultError('INTEGRITY', `${path} is damaged: checksum mismatch; restore it from a backup`);
  }

  return validateDocument(parsed, path);
}

/** Additional authenticated data of one key slot: the vault identity and every slot field but its ciphertext. */
export function keySlotAad(document: Pick<VaultDocument, 'vaultId'>, slot: KeySlot): Buffer {
  const { ciphertext: _ciphertext, nonce: _nonce, ...header } = slot as KeySlot & { nonce?: string };
  return Buffer.from(
    canonicalJson({ format: FORMAT_NAME, version: FORMAT_VERSION, vaultId: document.vaultId, slot: header }),
    'utf8',
  );
}

/** Additional authenticated data of the body: the whole header, including every key slot. */
export function bodyAad(document: UnsealedDocument): Buffer {
  const { body, checksum: _checksum, ...header } = document as VaultDocument;
  const { ciphertext: _ciphertext, nonce: _nonce, ...bodyHeader } = body;
  return Buffer.from(canonicalJson({ ...header, body: bodyHeader }), 'utf8');
}

function computeChecksum(rest: object): string {
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

function validateDocument(value: Record<string, unknown>, path: string): VaultDocument {
  const fail = (field: string): never => {
    throw new VaultError('FORMAT', `${path} has an invalid field ${field}`);
  };

  requireKeys(value, ['format', 'version', 'vaultId', 'generation', 'created', 'keySlots', 'body', 'checksum'], [], 'header', fail);
  if (typeof value.vaultId !== 'string' || !/^[0-9a-f-]{36}$/.test(value.vaultId)) fail('vaultId');
  if (!Number.isSafeInteger(value.generation) || (value.generation as number) < 1) fail('generation');
  if (typeof value.created !== 'string') fail('created');
  if (!Array.isArray(value.keySlots) || value.keySlots.length === 0) fail('keySlots');

  const ids = new Set<number>();
  for (const [index, slot] of (value.keySlots as unknown[]).entries()) {
    validateSlot(slot, `keySlots[${index}]`, fail);
    const id = (slot as KeySlot).id;
    if (ids.has(id)) fail(`keySlots[${index}].id`);
    ids.add(id);
  }

  const body = value.body;
  if (!isObject(body)) return fail('body');
  requireKeys(body, ['algorithm', 'salt', 'nonce', 'ciphertext'], [], 'body', fail);
  if (body.algorithm !== BODY_ALGORITHM) fail('body.algorithm');
  for (const key of ['salt', 'nonce', 'ciphertext']) {
    if (typeof body[key] !== 'string') fail(`body.${key}`);
  }

  return value as unknown as VaultDocument;
}

function validateSlot(slot: unknown, where: string, fail: (field: string) => never): void {
  if (!isObject(slot)) return fail(where);
  if (!Number.isSafeInteger(slot.id) || (slot.id as number) < 0) fail(`${where}.id`);

  const strings = (keys: string[]) => {
    for (const key of keys) {
      if (typeof slot[key] !== 'string' || slot[key] === '') fail(`${where}.${key}`);
    }
  };

  switch (slot.type) {
    case 'password': {
      requireKeys(slot, ['id', 'type', 'kdf', 'keyFile', 'nonce', 'ciphertext'], [], where, fail);
      strings(['nonce', 'ciphertext']);
      if (typeof slot.keyFile !== 'boolean') fail(`${where}.keyFile`);
      validateKdf(slot.kdf, `${where}.kdf`, fail);
      return;
    }
    case 'aws-kms':
      requireKeys(slot, ['id', 'type', 'keyId', 'region', 'ciphertext'], ['endpoint'], where, fail);
      strings(['keyId', 'region', 'ciphertext', ...(slot.endpoint === undefined ? [] : ['endpoint'])]);
      // The region names the default endpoint kms.REGION.amazonaws.com, so it must be a plain
      // host label and cannot redirect requests to another domain.
      if (!AWS_REGION_PATTERN.test(slot.region as string)) fail(`${where}.region`);
      return;
    case 'gcp-kms':
      requireKeys(slot, ['id', 'type', 'keyName', 'ciphertext'], ['endpoint'], where, fail);
      strings(['keyName', 'ciphertext', ...(slot.endpoint === undefined ? [] : ['endpoint'])]);
      if (!GCP_KEY_NAME_PATTERN.test(slot.keyName as string)) fail(`${where}.keyName`);
      return;
    case 'pkcs11':
      requireKeys(slot, ['id', 'type', 'tokenLabel', 'keyLabel', 'nonce', 'ciphertext'], ['module'], where, fail);
      strings(['tokenLabel', 'keyLabel', 'nonce', 'ciphertext', ...(slot.module === undefined ? [] : ['module'])]);
      return;
    default:
      fail(`${where}.type`);
  }
}

function validateKdf(kdf: unknown, where: string, fail: (field: string) => never): void {
  if (!isObject(kdf)) return fail(where);
  const numbers = (keys: string[]) => {
    for (const key of keys) {
      if (!Number.isSafeInteger(kdf[key])) fail(`${where}.${key}`);
    }
  };
  if (kdf.algorithm === 'scrypt') {
    requireKeys(kdf, ['algorithm', 'logN', 'r', 'p', 'salt'], [], where, fail);
    numbers(['logN', 'r', 'p']);
  } else if (kdf.algorithm === 'argon2id') {
    requireKeys(kdf, ['algorithm', 'memory', 'iterations', 'parallelism', 'salt'], [], where, fail);
    numbers(['memory', 'iterations', 'parallelism']);
  } else {
    fail(`${where}.algorithm`);
  }
  if (typeof kdf.salt !== 'string') fail(`${where}.salt`);
}

function requireKeys(
  value: Record<string, unknown>,
  required: string[],
  optional: string[],
  where: string,
  fail: (field: string) => never,
): void {
  for (const key of required) {
    if (!(key in value)) fail(`${where}.${key}`);
  }
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) fail(`${where}.${key}`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
