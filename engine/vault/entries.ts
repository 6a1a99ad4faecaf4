import {
  checkEntryName,
  checkKeepHistory,
  checkMetadata,
  checkValue,
  type ChangeRecord,
  type EntryRecord,
  type VaultBody,
} from './body.js';
import { VaultError } from './errors.js';

/** Entry metadata without any value: what `list`, `show` and plan may see. */
export interface EntryInfo {
  name: string;
  /** Version of the committed value; 0 while only a pending first value exists. */
  version: number;
  metadata: Record<string, unknown>;
  created: Date;
  updated: Date;
  lastAccessed: Date | null;
  expires: Date | null;
  expired: boolean;
  /** History depth in force for this entry. */
  keepHistory: number;
  historyCount: number;
  pending: { created: Date; actor: string | null; reason: string | null } | null;
  lastChange: { at: Date; operation: string; actor: string | null; reason: string | null };
}

export interface ValueChange {
  now: Date;
  operation: string;
  actor?: string;
  reason?: string;
}

export function describeEntry(body: VaultBody, name: string, entry: EntryRecord, now: Date): EntryInfo {
  return {
    name,
    version: entry.version,
    metadata: entry.metadata,
    created: new Date(entry.created),
    updated: new Date(entry.updated),
    lastAccessed: entry.lastAccessed === null ? null : new Date(entry.lastAccessed),
    expires: entry.expires === null ? null : new Date(entry.expires),
    expired: isExpired(entry, now),
    keepHistory: entry.keepHistory ?? body.settings.keepHistory,
    historyCount: entry.history.length,
    pending:
      entry.pending === null
        ? null
        : { created: new Date(entry.pending.created), actor: entry.pending.actor, reason: entry.pending.reason },
    lastChange: { ...entry.lastChange, at: new Date(entry.lastChange.at) },
  };
}

export function isExpired(entry: EntryRecord, now: Date): boolean {
  return entry.expires !== null && now.getTime() >= Date.parse(entry.expires);
}

/** Returns the entry or raises NOT_FOUND naming it. */
export function requireEntry(body: VaultBody, name: string): EntryRecord {
  checkEntryName(name);
  const entry = Object.hasOwn(body.entries, name) ? body.entries[name] : undefined;
  if (entry === undefined) {
    throw new VaultError('NOT_FOUND', `vault entry "${name}" not found; list entries with \`aishell vault list\``);
  }
  return entry;
}

/** Returns the committed value, refusing expired entries and entries that have only a pending value. */
export function requireCurrentValue(name: string, entry: EntryRecord, now: Date, allowExpired: boolean): string {
  if (entry.value === null) {
    throw new VaultError(
      'PENDING',
      `vault entry "${name}" has no committed value: a rotation started at ${entry.pending?.created ?? 'an unknown time'} is pending`,
    );
  }
  if (!allowExpired && isExpired(entry, now)) {
    throw new VaultError(
      'EXPIRED',
      `vault entry "${name}" expired at ${entry.expires}; set a new value with \`aishell vault rotate ${name}\` or extend it with \`aishell vault update ${name} --expires-in 90d\``,
    );
  }
  return entry.value;
}

export function newEntry(
  name: string,
  value: string | null,
  options: { metadata?: Record<string, unknown>; expires?: Date | null; keepHistory?: number | null },
  change: ValueChange,
): EntryRecord {
  checkEntryName(name);
  if (value !== null) checkValue(name, value);
  if (options.keepHistory !== undefined && options.keepHistory !== null) checkKeepHistory(options.keepHistory);

  const at = change.now.toISOString();
  return {
    value,
    version: value === null ? 0 : 1,
    metadata: options.metadata === undefined ? {} : checkMetadata(options.metadata),
    created: at,
    updated: at,
    lastAccessed: null,
    expires: options.expires ? options.expires.toISOString() : null,
    keepHistory: options.keepHistory ?? null,
    history: [],
    pending: null,
    lastChange: changeRecord(change),
  };
}

/**
 * Makes `value` the committed value: the previous one moves to the front of the history, which
 * is trimmed to the entry's depth.
 */
export function replaceValue(body: VaultBody, name: string, entry: EntryRecord, value: string, change: ValueChange): void {
  checkValue(name, value);
  const at = change.now.toISOString();

  if (entry.value !== null) {
    entry.history.unshift({ value: entry.value, version: entry.version, created: valueSince(entry), retired: at });
  }
  entry.history.splice(entry.keepHistory ?? body.settings.keepHistory);

  entry.value = value;
  entry.version += 1;
  entry.updated = at;
  entry.lastChange = changeRecord(change);
}

export function applyEntryOptions(
  entry: EntryRecord,
  options: { metadata?: Record<string, unknown>; expires?: Date | null; keepHistory?: number | null },
  body: VaultBody,
): void {
  if (options.metadata !== undefined) entry.metadata = checkMetadata(options.metadata);
  if (options.expires !== undefined) entry.expires = options.expires === null ? null : options.expires.toISOString();
  if (options.keepHistory !== undefined) {
    if (options.keepHistory !== null) checkKeepHistory(options.keepHistory);
    entry.keepHistory = options.keepHistory;
    entry.history.splice(entry.keepHistory ?? body.settings.keepHistory);
  }
}

export function changeRecord(change: ValueChange): ChangeRecord {
  return { at: change.now.toISOString(), operation: change.operation, actor: change.actor ?? null, reason: change.reason ?? null };
}

/** When the committed value was set: the time the newest history item was retired, else the entry's creation. */
function valueSince(entry: EntryRecord): string {
  return entry.history[0]?.retired ?? entry.created;
}
