import { randomBytes } from 'node:crypto';

import { KEY_LENGTH, secretBuffer } from './aead.js';
import { sealBody, openBody } from './body-crypto.js';
import { checkEntryName, checkKeepHistory, checkValue, type EntryRecord, type VaultBody, type VaultSettings } from './body.js';
import {
  applyEntryOptions,
  changeRecord,
  describeEntry,
  newEntry,
  replaceValue,
  requireCurrentValue,
  requireEntry,
  type EntryInfo,
} from './entries.js';
import { VaultError } from './errors.js';
import { backupPath, READ_ONLY_CODES, readVaultText, withWriteLock, writeFileAtomic } from './file-store.js';
import { parseVaultFile, serializeVaultFile, type KeySlot, type UnsealedDocument, type VaultDocument } from './format.js';
import { MAX_SESSION_SECONDS } from './session.js';
import { slotFingerprint } from './trust.js';

/** Operations reported to `onAccess`. */
export type AccessOperation =
  | 'unlock'
  | 'unlock-failed'
  | 'list'
  | 'read'
  | 'read-history'
  | 'read-pending'
  | 'create'
  | 'update'
  | 'delete'
  | 'set-pending'
  | 'commit-pending'
  | 'discard-pending'
  | 'change-password'
  | 'configure'
  | 'add-key-slot'
  | 'remove-key-slot'
  | 'backup'
  | 'restore';

/** One vault access, for the audit ledger. It never contains a value, password or key. */
export interface AccessEvent {
  operation: AccessOperation;
  vaultId: string;
  entry?: string;
  actor?: string;
  reason?: string;
  /**
   * Generation of the vault file that this handle last read or wrote. A ledger that records it
   * can notice an older file put back later (rollback), which the file alone cannot show.
   */
  generation?: number;
}

export interface VaultContext {
  path: string;
  actor?: string;
  onAccess?: (event: AccessEvent) => void;
  /** Clock for expiry and timestamps; tests inject one. */
  now?: () => Date;
}

export interface PutOptions {
  metadata?: Record<string, unknown>;
  /** Absolute expiry; null removes it. */
  expires?: Date | null;
  /** History depth of this entry; null returns to the vault default. */
  keepHistory?: number | null;
  /** `create` fails if the entry exists, `replace` if it does not; `upsert` (the default) does either. */
  mode?: 'create' | 'replace' | 'upsert';
  reason?: string;
}

export interface UpdateOptions {
  value?: string;
  metadata?: Record<string, unknown>;
  expires?: Date | null;
  keepHistory?: number | null;
  reason?: string;
}

export interface PendingInfo {
  name: string;
  created: Date;
  actor: string | null;
  reason: string | null;
  /** Whether the entry has a committed value that the pending one would replace. */
  hasCommittedValue: boolean;
}

export interface VaultInfo {
  path: string;
  vaultId: string;
  generation: number;
  created: Date;
  keySlots: { id: number; type: KeySlot['type']; detail: string }[];
  /** `slotFingerprint` of the key slots, for pinning (AISHELL_VAULT_SLOT_FINGERPRINT). */
  slotFingerprint: string;
  settings: VaultSettings;
  entryCount: number;
}

/**
 * An unlocked vault. It holds only the data key: every operation reads the current file, and
 * every change re-reads it under the writer lock, applies the change and saves atomically, so
 * changes made meanwhile by other processes are kept. `lock()` zeroes the key.
 */
export class Vault {
  readonly path: string;
  readonly vaultId: string;
  /** The key slot that unlocked this handle, or undefined when a session did. */
  readonly unlockedBy: KeySlot | undefined;
  private dataKey: Buffer | undefined;
  private readonly context: VaultContext;
  /** Generation of the file as last read or written, for access events. */
  private generation: number | undefined;

  constructor(context: VaultContext, vaultId: string, dataKey: Buffer, unlockedBy?: KeySlot) {
    this.path = context.path;
    this.vaultId = vaultId;
    this.dataKey = dataKey;
    this.unlockedBy = unlockedBy;
    this.context = context;
  }

  get locked(): boolean {
    return this.dataKey === undefined;
  }

  /** Zeroes the data key; every later call raises LOCKED. */
  lock(): void {
    this.dataKey?.fill(0);
    this.dataKey = undefined;
  }

  /**
   * Returns the committed value and records the access time. Expired entries raise EXPIRED
   * unless `allowExpired` is set; an entry with only a pending value raises PENDING.
   */
  async get(name: string, options: { reason?: string; allowExpired?: boolean } = {}): Promise<string> {
    let value: string;
    try {
      value = await this.mutate(
        (body) => {
          const entry = requireEntry(body, name);
          const current = requireCurrentValue(name, entry, this.now(), options.allowExpired ?? false);
          entry.lastAccessed = this.now().toISOString();
          return current;
        },
        { keepBackup: false },
      );
    } catch (error) {
      // NOTE: a vault on a read-only file system still serves reads; only the access time is lost.
      if (!isReadOnlyError(error)) throw error;
      const { body } = await this.load();
      value = requireCurrentValue(name, requireEntry(body, name), this.now(), options.allowExpired ?? false);
    }
    this.emit('read', name, options.reason);
    return value;
  }

  /** Returns whether the entry exists with a committed value. */
  async has(name: string): Promise<boolean> {
    const { body } = await this.load();
    return Object.hasOwn(body.entries, name) && body.entries[name].value !== null;
  }

  /** Metadata of every entry, sorted by name. No values. */
  async entries(): Promise<EntryInfo[]> {
    const { body } = await this.load();
    this.emit('list');
    return Object.keys(body.entries)
      .sort()
      .map((name) => describeEntry(body, name, body.entries[name], this.now()));
  }

  /** Metadata of one entry. No value. */
  async entry(name: string): Promise<EntryInfo> {
    const { body } = await this.load();
    return describeEntry(body, name, requireEntry(body, name), this.now());
  }

  /** Stores a value, creating the entry or replacing its value (the old one goes to the history). */
  async put(name: string, value: string, options: PutOptions = {}): Promise<EntryInfo> {
    const [info] = await this.putMany([{ name, value, options }], { reason: options.reason });
    return info;
  }

  /**
   * Stores several entries in one save: either all are written or, when one fails its checks,
   * none is. Each item follows the rules of `put`.
   */
  async putMany(items: { name: string; value: string; options?: PutOptions }[], options: { reason?: string } = {}): Promise<EntryInfo[]> {
    // Nothing to store: no new generation is written.
    if (items.length === 0) return [];
    const created: boolean[] = [];
    const infos = await this.mutate((body) =>
      items.map(({ name, value, options: itemOptions = {} }) => {
        const exists = Object.hasOwn(body.entries, name);
        const mode = itemOptions.mode ?? 'upsert';
        if (exists && mode === 'create') {
          throw new VaultError(
            'ALREADY_EXISTS',
            `vault entry "${name}" already exists; nothing was stored; use \`aishell vault update ${name}\` or \`rotate\` to change it`,
          );
        }
        if (!exists && mode === 'replace') requireEntry(body, name);

        const change = { now: this.now(), operation: exists ? 'update' : 'create', actor: this.context.actor, reason: itemOptions.reason ?? options.reason };
        if (!exists) {
          body.entries[name] = newEntry(name, value, itemOptions, change);
        } else {
          refuseWhilePending(name, body.entries[name]);
          replaceValue(body, name, body.entries[name], value, change);
          applyEntryOptions(body.entries[name], itemOptions, body);
        }
        created.push(!exists);
        return describeEntry(body, name, body.entries[name], this.now());
      }),
    );
    infos.forEach((info, index) => this.emit(created[index] ? 'create' : 'update', info.name, options.reason));
    return infos;
  }

  /** Changes an entry's value and/or its metadata, expiry or history depth. */
  async update(name: string, options: UpdateOptions): Promise<EntryInfo> {
    const info = await this.mutate((body) => {
      const entry = requireEntry(body, name);
      const change = { now: this.now(), operation: 'update', actor: this.context.actor, reason: options.reason };
      if (options.value !== undefined) {
        refuseWhilePending(name, entry);
        replaceValue(body, name, entry, options.value, change);
      }
      applyEntryOptions(entry, options, body);
      entry.updated = change.now.toISOString();
      entry.lastChange = changeRecord(change);
      return describeEntry(body, name, entry, this.now());
    });
    this.emit('update', name, options.reason);
    return info;
  }

  /**
   * Deletes an entry with its history and pending value. The `.bak` copy is replaced by the new
   * generation too, so the deleted values stay only in backups made before.
   */
  async delete(name: string, options: { reason?: string } = {}): Promise<void> {
    await this.mutate(
      (body) => {
        requireEntry(body, name);
        delete body.entries[name];
      },
      { purgeBackup: true },
    );
    this.emit('delete', name, options.reason);
  }

  /** Previous values of an entry, newest first, for rejecting reuse (password_policy.history). */
  async history(name: string, options: { reason?: string } = {}): Promise<string[]> {
    const { body } = await this.load();
    const values = requireEntry(body, name).history.map((item) => item.value);
    this.emit('read-history', name, options.reason);
    return values;
  }

  /**
   * Stores a value as pending, before the external system (a database role) is changed. The
   * committed value stays current until `commitPending`; an interrupted rotation leaves the
   * pending value in the file, where `pending()` finds it on the next run. A second
   * `setPending` raises PENDING unless `replace` is set.
   */
  async setPending(name: string, value: string, options: { reason?: string; replace?: boolean } = {}): Promise<void> {
    await this.mutate((body) => {
      const now = this.now();
      checkEntryName(name);
      checkValue(name, value);
      const entry = Object.hasOwn(body.entries, name)
        ? body.entries[name]
        : newEntry(name, null, {}, { now, operation: 'set-pending', actor: this.context.actor, reason: options.reason });
      if (entry.pending !== null && !options.replace) {
        throw new VaultError(
          'PENDING',
          `a new value for vault entry "${name}" is already pending since ${entry.pending.created}; commit or discard it first`,
        );
      }
      entry.pending = { value, created: now.toISOString(), actor: this.context.actor ?? null, reason: options.reason ?? null };
      body.entries[name] = entry;
    });
    this.emit('set-pending', name, options.reason);
  }

  /** Returns the pending value, for retrying an interrupted rotation with the same value. */
  async getPending(name: string, options: { reason?: string } = {}): Promise<string> {
    const { body } = await this.load();
    const pending = requirePending(name, requireEntry(body, name));
    this.emit('read-pending', name, options.reason);
    return pending.value;
  }

  /** Makes the pending value current; the previous value moves to the history. */
  async commitPending(name: string, options: { reason?: string; expires?: Date | null } = {}): Promise<EntryInfo> {
    const info = await this.mutate((body) => {
      const entry = requireEntry(body, name);
      const pending = requirePending(name, entry);
      const change = { now: this.now(), operation: 'rotate', actor: this.context.actor, reason: options.reason ?? pending.reason ?? undefined };
      replaceValue(body, name, entry, pending.value, change);
      entry.pending = null;
      if (options.expires !== undefined) applyEntryOptions(entry, { expires: options.expires }, body);
      return describeEntry(body, name, entry, this.now());
    });
    this.emit('commit-pending', name, options.reason);
    return info;
  }

  /** Drops the pending value. An entry that never had a committed value is removed. */
  async discardPending(name: string, options: { reason?: string } = {}): Promise<void> {
    await this.mutate((body) => {
      const entry = requireEntry(body, name);
      requirePending(name, entry);
      entry.pending = null;
      if (entry.value === null && entry.history.length === 0) delete body.entries[name];
    });
    this.emit('discard-pending', name, options.reason);
  }

  /** Entries with a pending value: rotations that were started and not yet committed or discarded. */
  async pending(): Promise<PendingInfo[]> {
    const { body } = await this.load();
    return Object.keys(body.entries)
      .sort()
      .filter((name) => body.entries[name].pending !== null)
      .map((name) => {
        const entry = body.entries[name];
        const pending = entry.pending!;
        return { name, created: new Date(pending.created), actor: pending.actor, reason: pending.reason, hasCommittedValue: entry.value !== null };
      });
  }

  /** Vault-wide settings, the key slots and the file generation. */
  async info(): Promise<VaultInfo> {
    const { document, body } = await this.load();
    return {
      path: this.path,
      vaultId: document.vaultId,
      generation: document.generation,
      created: new Date(document.created),
      keySlots: document.keySlots.map((slot) => ({ id: slot.id, type: slot.type, detail: describeSlot(slot) })),
      slotFingerprint: slotFingerprint(document),
      settings: { ...body.settings },
      entryCount: Object.keys(body.entries).length,
    };
  }

  async configure(settings: Partial<VaultSettings>, options: { reason?: string } = {}): Promise<VaultSettings> {
    if (settings.keepHistory !== undefined) checkKeepHistory(settings.keepHistory);
    const autoLock = settings.autoLockSeconds;
    if (autoLock !== undefined && (!Number.isInteger(autoLock) || autoLock < 1 || autoLock > MAX_SESSION_SECONDS)) {
      throw new VaultError(
        'INVALID_ARGUMENT',
        `auto-lock timeout ${autoLock} s is invalid: expected whole seconds from 1 to ${MAX_SESSION_SECONDS} (12 h, the maximum length of a session)`,
      );
    }
    const result = await this.mutate((body) => {
      Object.assign(body.settings, settings);
      if (settings.keepHistory !== undefined) {
        for (const entry of Object.values(body.entries)) {
          if (entry.keepHistory === null) entry.history.splice(body.settings.keepHistory);
        }
      }
      return { ...body.settings };
    });
    this.emit('configure', undefined, options.reason);
    return result;
  }

  /** Reads and decrypts the current file. */
  async load(): Promise<{ document: VaultDocument; body: VaultBody }> {
    const key = this.requireKey();
    const document = parseVaultFile(await readVaultText(this.path), this.path);
    if (document.vaultId !== this.vaultId) {
      throw new VaultError(
        'INTEGRITY',
        `${this.path} now contains another vault (id ${document.vaultId}, expected ${this.vaultId}); it was replaced since it was unlocked`,
      );
    }
    const body = openBody(document, key, this.path);
    this.generation = Math.max(this.generation ?? 0, document.generation);
    return { document, body };
  }

  /**
   * Runs a change under the writer lock on freshly read state and saves the result as the next
   * generation. A change that throws writes nothing. `header` may replace the key slots.
   * `keepBackup: false` leaves `<path>.bak` as it is; reads use it, so recording an access time
   * does not push the last content change out of the backup.
   */
  async mutate<T>(
    change: (body: VaultBody, document: VaultDocument) => T | Promise<T>,
    options: { purgeBackup?: boolean; keepBackup?: boolean; header?: (document: VaultDocument) => Promise<Omit<UnsealedDocument, 'body'>> } = {},
  ): Promise<T> {
    this.requireKey();
    return withWriteLock(this.path, async (assertHeld) => {
      const { document, body } = await this.load();
      const result = await change(body, document);

      const { body: _sealed, checksum: _checksum, ...header } = document;
      const nextHeader = options.header ? await options.header(document) : header;
      const sealed = sealBody({ ...nextHeader, generation: document.generation + 1 }, this.requireKey(), body);
      const text = serializeVaultFile(sealed);
      const keepBackup = !options.purgeBackup && options.keepBackup !== false;
      await writeFileAtomic(this.path, text, { keepBackup, assertHeld });
      this.generation = sealed.generation;
      if (options.purgeBackup) await writeFileAtomic(backupPath(this.path), text, { keepBackup: false, assertHeld });
      return result;
    });
  }

  /**
   * Re-encrypts the body under a new random data key and saves it as the next generation, with
   * the key slots that `wrapSlots` returns for that key. The `.bak` copy is replaced by the new
   * generation too, so no copy that the vault keeps opens with the old key or old credentials.
   * This handle goes on with the new key. Nothing is written when `wrapSlots` throws.
   */
  async rekey(wrapSlots: (document: VaultDocument, newKey: Buffer) => Promise<KeySlot[]>): Promise<UnsealedDocument> {
    this.requireKey();
    const newKey = secretBuffer(randomBytes(KEY_LENGTH));
    let switched = false;
    try {
      return await withWriteLock(this.path, async (assertHeld) => {
        const { document, body } = await this.load();
        const keySlots = await wrapSlots(document, newKey);

        const { body: _sealed, checksum: _checksum, ...header } = document;
        const sealed = sealBody({ ...header, keySlots, generation: document.generation + 1 }, newKey, body);
        const text = serializeVaultFile(sealed);
        await writeFileAtomic(this.path, text, { keepBackup: false, assertHeld });
        this.generation = sealed.generation;

        // The file now needs the new key; switch before anything else can fail.
        this.dataKey?.fill(0);
        this.dataKey = newKey;
        switched = true;
        await writeFileAtomic(backupPath(this.path), text, { keepBackup: false, assertHeld });
        return sealed;
      });
    } finally {
      if (!switched) newKey.fill(0);
    }
  }

  /** Returns the data key, for wrapping it into a new key slot or session. Callers must not keep or print it. */
  requireKey(): Buffer {
    if (this.dataKey === undefined) {
      throw new VaultError('LOCKED', `the vault ${this.path} was locked; open it again`);
    }
    return this.dataKey;
  }

  now(): Date {
    return this.context.now?.() ?? new Date();
  }

  emit(operation: AccessOperation, entry?: string, reason?: string): void {
    this.context.onAccess?.({
      operation,
      vaultId: this.vaultId,
      ...(entry === undefined ? {} : { entry }),
      ...(this.context.actor === undefined ? {} : { actor: this.context.actor }),
      ...(reason === undefined ? {} : { reason }),
      ...(this.generation === undefined ? {} : { generation: this.generation }),
    });
  }
}

export function describeSlot(slot: KeySlot): string {
  switch (slot.type) {
    case 'password':
      return `${slot.kdf.algorithm}${slot.keyFile ? ' + key file' : ''}`;
    case 'aws-kms':
      return `${slot.keyId} (${slot.region})${slot.endpoint ? ' (endpoint in the file ignored)' : ''}`;
    case 'gcp-kms':
      return `${slot.keyName}${slot.endpoint ? ' (endpoint in the file ignored)' : ''}`;
    case 'pkcs11':
      return `token "${slot.tokenLabel}", key "${slot.keyLabel}"${slot.module ? ' (module in the file ignored)' : ''}`;
  }
}

function isReadOnlyError(error: unknown): boolean {
  const code = ((error as { cause?: NodeJS.ErrnoException }).cause ?? {}).code;
  return error instanceof VaultError && error.code === 'LOCKED' && code !== undefined && READ_ONLY_CODES.has(code);
}

function refuseWhilePending(name: string, entry: EntryRecord): void {
  if (entry.pending !== null) {
    throw new VaultError(
      'PENDING',
      `vault entry "${name}" has a pending value since ${entry.pending.created}; commit or discard the rotation before changing the value`,
    );
  }
}

function requirePending(name: string, entry: EntryRecord) {
  if (entry.pending === null) {
    throw new VaultError('PENDING', `vault entry "${name}" has no pending value`);
  }
  return entry.pending;
}
