import { VaultError } from './errors.js';
import { isObject } from './format.js';

/** Default number of previous values kept per entry. */
export const DEFAULT_KEEP_HISTORY = 5;
export const MAX_KEEP_HISTORY = 100;

/** Default idle time, in seconds, after which an unlock session ends. */
export const DEFAULT_AUTO_LOCK_SECONDS = 15 * 60;

/**
 * Entry names: what `${vault:NAME}` references may contain, at most 128 characters. The characters
 * are those that security.yaml allows in credential names. Names are keys inside the encrypted
 * body and never file paths, so '/' and '..' have no special meaning.
 */
export const ENTRY_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}$/;

export interface VaultSettings {
  /** Previous values kept per entry unless the entry sets its own depth. */
  keepHistory: number;
  /** Idle seconds after which an unlock session ends. */
  autoLockSeconds: number;
}

export interface ChangeRecord {
  at: string;
  operation: string;
  actor: string | null;
  reason: string | null;
}

export interface HistoryRecord {
  value: string;
  version: number;
  /** When this value became current. */
  created: string;
  /** When a newer value replaced it. */
  retired: string;
}

/** A value written before the external system accepted it; see `Vault.setPending`. */
export interface PendingRecord {
  value: string;
  created: string;
  actor: string | null;
  reason: string | null;
}

export interface EntryRecord {
  /** The committed value; null while an entry has only a pending first value. */
  value: string | null;
  /** 1 for the first committed value, incremented by each later one; 0 before the first commit. */
  version: number;
  metadata: Record<string, unknown>;
  created: string;
  updated: string;
  lastAccessed: string | null;
  expires: string | null;
  /** History depth of this entry; null means the vault default. */
  keepHistory: number | null;
  /** Previous values, newest first. */
  history: HistoryRecord[];
  pending: PendingRecord | null;
  lastChange: ChangeRecord;
}

/** The decrypted body of the vault file. */
export interface VaultBody {
  settings: VaultSettings;
  entries: Record<string, EntryRecord>;
}

export function emptyBody(settings?: Partial<VaultSettings>): VaultBody {
  return {
    settings: {
      keepHistory: settings?.keepHistory ?? DEFAULT_KEEP_HISTORY,
      autoLockSeconds: settings?.autoLockSeconds ?? DEFAULT_AUTO_LOCK_SECONDS,
    },
    entries: {},
  };
}

/**
 * Checks the shape of a decrypted body. The body is authenticated, so a failure here means a
 * newer or buggy writer, not an attacker.
 */
export function parseBody(text: string): VaultBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VaultError('FORMAT', 'the decrypted vault body is not valid JSON');
  }
  if (!isObject(value) || !isObject(value.settings) || !isObject(value.entries)) {
    throw new VaultError('FORMAT', 'the decrypted vault body has an unexpected shape');
  }
  for (const [name, entry] of Object.entries(value.entries)) {
    if (!isObject(entry) || !Array.isArray(entry.history) || !Number.isSafeInteger(entry.version)) {
      throw new VaultError('FORMAT', `vault entry "${name}" has an unexpected shape`);
    }
  }
  return value as unknown as VaultBody;
}

export function checkEntryName(name: string): void {
  if (!ENTRY_NAME_PATTERN.test(name)) {
    throw new VaultError(
      'INVALID_ARGUMENT',
      `invalid vault entry name "${name}": use 1 to 128 letters, digits, '_', '.', '-' or '/', starting with a letter, digit or '_'`,
    );
  }
}

export function checkKeepHistory(depth: number): void {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_KEEP_HISTORY) {
    throw new VaultError('INVALID_ARGUMENT', `history depth ${depth} is invalid: expected an integer from 0 to ${MAX_KEEP_HISTORY}`);
  }
}

export function checkValue(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new VaultError('INVALID_ARGUMENT', `the value of vault entry "${name}" is empty`);
  }
  // With the u flag, a surrogate range matches only unpaired surrogates, which UTF-8 cannot encode.
  if (/[\uD800-\uDFFF]/u.test(value)) {
    throw new VaultError('INVALID_ARGUMENT', `the value of vault entry "${name}" is not valid Unicode text`);
  }
}

export function checkMetadata(metadata: unknown): Record<string, unknown> {
  if (!isObject(metadata)) {
    throw new VaultError('INVALID_ARGUMENT', 'vault entry metadata must be a JSON object, such as {"owner":"dba"}');
  }
  return metadata;
}
