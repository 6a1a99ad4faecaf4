import { canonicalJson } from './canonical.js';
import { operationOf } from './filter.js';
import type { LedgerRecord } from './types.js';

export const CSV_COLUMNS = [
  'seq',
  'time',
  'kind',
  'user',
  'host',
  'ci_system',
  'pipeline',
  'ci_run',
  'commit',
  'branch',
  'triggered_by',
  'target',
  'address',
  'operation',
  'outcome',
  'details',
] as const;

/** Formats a record as one CSV row (RFC 4180) with a trailing CRLF. */
export function csvRow(record: LedgerRecord): string {
  const ci = record.actor.ci;
  const cells = [
    String(record.seq),
    record.time,
    record.kind,
    record.actor.user,
    record.actor.host,
    ci?.system ?? '',
    ci?.pipeline ?? '',
    ci?.run ?? '',
    ci?.commit ?? '',
    ci?.branch ?? '',
    ci?.triggeredBy ?? '',
    record.target ?? '',
    record.address ?? '',
    operationOf(record),
    record.outcome ?? '',
    canonicalJson(record.details),
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

// A cell that a spreadsheet would run as a formula: one starting with = + - @ (or their
// full-width forms), also after leading whitespace, or starting with a tab or carriage return.
const FORMULA = /^(\s*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r])/;

/**
 * Quotes a cell and defuses spreadsheet formulas by prefixing a single quote, as OWASP
 * recommends against CSV injection.
 */
export function csvCell(value: string): string {
  const safe = FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replace(/"/g, '""')}"` : safe;
}
