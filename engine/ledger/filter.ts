import { canonicalJson } from './canonical.js';
import { actorIdentity, describeActor } from './actor.js';
import { LedgerError } from './errors.js';
import type { LedgerRecord, RecordFilter } from './types.js';
import { globToRegExp } from '../glob.js';

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `15m`, `24h`, `30d` or `2w` into milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) {
    throw new LedgerError('LEDGER_CONFIG', `invalid duration "${text}": use a number and a unit, such as 24h, 30d or 2w`);
  }
  return Number(match[1]) * UNIT_MS[match[2]];
}

/** Parses a point in time: a duration means that long before `now`, otherwise an ISO 8601 date. */
export function parseTime(text: string, now: Date): Date {
  if (DURATION.test(text.trim())) {
    return new Date(now.getTime() - parseDuration(text));
  }
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new LedgerError('LEDGER_CONFIG', `invalid time "${text}": use a duration such as 24h or an ISO 8601 date such as 2026-12-01T00:00:00Z`);
  }
  return new Date(time);
}

/** Matches `*` and `?` wildcards over the whole text; a pattern without wildcards matches a substring. */
export function matchesPattern(pattern: string, text: string | undefined): boolean {
  if (text === undefined) {
    return false;
  }
  if (!/[*?]/.test(pattern)) {
    return text.toLowerCase().includes(pattern.toLowerCase());
  }
  return globToRegExp(pattern, 'i').test(text);
}

/**
 * Returns the operation of a record, which `--operation` and the summary use. Apply records store the
 * change kind in `details.change` (`grant`, `create_role`). Vault records store the vault
 * operation in `details.operation` (`read`, `unlock`). Other records fall back to the last word
 * of their kind (`drift`, `summary`).
 */
export function operationOf(record: LedgerRecord): string {
  for (const field of ['change', 'operation']) {
    const value = record.details[field];
    if (typeof value === 'string' && value !== '') {
      return value;
    }
  }
  return record.kind.slice(record.kind.lastIndexOf('.') + 1);
}

/** Vault operations recorded as `vault.read` that do not read an entry's value. */
const NON_ENTRY_READS = new Set(['unlock', 'unlock-failed', 'list', 'backup']);

/**
 * Tells whether a `vault.read` record is a read of one entry's value. Unlocks, listings and
 * backups are recorded as reads too, with target `vault` or an operation that names them.
 */
export function isEntryRead(record: LedgerRecord): boolean {
  if (record.kind !== 'vault.read') {
    return false;
  }
  const operation = record.details.operation;
  if (typeof operation === 'string' && NON_ENTRY_READS.has(operation)) {
    return false;
  }
  return (record.target?.startsWith('vault:') ?? false) || typeof record.details.entry === 'string';
}

export function matchesFilter(record: LedgerRecord, filter: RecordFilter): boolean {
  if (filter.kind !== undefined && !matchesKind(filter.kind, record.kind)) {
    return false;
  }
  if (filter.target !== undefined && !matchesPattern(filter.target, record.target)) {
    return false;
  }
  if (filter.actor !== undefined && !matchesActor(filter.actor, record)) {
    return false;
  }
  if (filter.operation !== undefined && operationOf(record).toLowerCase() !== filter.operation.toLowerCase()) {
    return false;
  }
  if (filter.outcome !== undefined && record.outcome !== filter.outcome) {
    return false;
  }

  const time = Date.parse(record.time);
  if (filter.since !== undefined && time < filter.since.getTime()) {
    return false;
  }
  if (filter.until !== undefined && time > filter.until.getTime()) {
    return false;
  }
  if (filter.text !== undefined && !canonicalJson(record).toLowerCase().includes(filter.text.toLowerCase())) {
    return false;
  }
  return true;
}

/** A kind pattern without wildcards matches that kind or its dotted children (`apply` → `apply.*`). */
function matchesKind(pattern: string, kind: string): boolean {
  if (/[*?]/.test(pattern)) {
    return matchesPattern(pattern, kind);
  }
  return kind === pattern || kind.startsWith(`${pattern}.`);
}

function matchesActor(pattern: string, record: LedgerRecord): boolean {
  const { actor } = record;
  const candidates = [
    actor.user,
    `${actor.user}@${actor.host}`,
    actor.ci?.triggeredBy,
    actor.ci?.pipeline,
    actorIdentity(actor),
    describeActor(actor),
  ];
  if (/[*?]/.test(pattern)) {
    return candidates.some((candidate) => matchesPattern(pattern, candidate));
  }
  return candidates.some((candidate) => candidate !== undefined && candidate.toLowerCase() === pattern.toLowerCase());
}
