import { canonicalJson } from './canonical.js';
import { actorIdentity, describeActor } from './actor.js';
import { LedgerError } from './errors.js';
import type { LedgerRecord, RecordFilter } from './types.js';

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
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(text);
}

/** The operation of a record: `details.operation` when set, otherwise the last word of its kind. */
export function operationOf(record: LedgerRecord): string {
  const operation = record.details.operation;
  if (typeof operation === 'string' && operation !== '') {
    return operation;
  }
  return record.kind.slice(record.kind.lastIndexOf('.') + 1);
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
