import { canonicalJson, parseCanonicalLine } from './canonical.js';
import { LedgerError } from './errors.js';
import { leafHash } from './merkle.js';
import { maskSecrets, maskSqlSecrets } from './redact.js';
import type { Actor, JsonObject, LedgerRecord, LedgerRecordInput } from './types.js';

/** `prev` of the record with seq 0. */
export const GENESIS_PREV = '0'.repeat(64);

const KIND_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/** Kinds only the ledger itself writes; callers cannot forge them through `append`. */
const INTERNAL_KINDS = /^(ledger\.|retention\.prune$)/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface RecordContext {
  seq: number;
  prev: string;
  actor: Actor;
  run: string;
  time: Date;
}

/** Validates a caller's input, masks secrets and returns the record with its canonical line. */
export function buildRecord(input: LedgerRecordInput, context: RecordContext, internal = false): { record: LedgerRecord; line: Buffer } {
  if (typeof input.kind !== 'string' || !KIND_PATTERN.test(input.kind)) {
    throw new LedgerError('LEDGER_INVALID_RECORD', `invalid record kind "${String(input.kind)}": use dotted lowercase words such as apply.change`);
  }
  if (!internal && INTERNAL_KINDS.test(input.kind)) {
    throw new LedgerError('LEDGER_INVALID_RECORD', `record kind ${input.kind} is written by the ledger itself and cannot be appended`);
  }
  for (const field of ['target', 'address', 'outcome'] as const) {
    const value = input[field];
    if (value !== undefined && typeof value !== 'string') {
      throw new LedgerError('LEDGER_INVALID_RECORD', `invalid ${field} in a ${input.kind} record: expected a string`);
    }
  }
  if (input.details !== undefined && (input.details === null || typeof input.details !== 'object' || Array.isArray(input.details))) {
    throw new LedgerError('LEDGER_INVALID_RECORD', `invalid details in a ${input.kind} record: expected an object`);
  }

  const { value: details, masked } = maskSecrets((input.details ?? {}) as JsonObject);
  const address = input.address === undefined ? undefined : maskSqlSecrets(input.address);
  if (address !== input.address) {
    masked.push('address');
  }

  const record: LedgerRecord = {
    v: 1,
    seq: context.seq,
    time: context.time.toISOString(),
    prev: context.prev,
    actor: context.actor,
    run: context.run,
    kind: input.kind,
    ...(input.target !== undefined ? { target: input.target } : {}),
    ...(address !== undefined ? { address } : {}),
    details,
    ...(input.outcome !== undefined ? { outcome: input.outcome } : {}),
    ...(masked.length > 0 ? { masked } : {}),
  };
  return { record, line: Buffer.from(canonicalJson(record)) };
}

/** Decodes and checks one stored line; returns a reason instead of throwing. */
export function decodeLine(line: Buffer): { record: LedgerRecord } | { error: string } {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    return { error: 'invalid UTF-8' };
  }

  const parsed = parseCanonicalLine(text);
  if ('error' in parsed) {
    return parsed;
  }

  const shapeError = checkShape(parsed.value);
  if (shapeError) {
    return { error: shapeError };
  }
  return { record: parsed.value as LedgerRecord };
}

/** Parses a line for reading, when the caller does not need verification. */
export function readLine(line: Buffer): LedgerRecord | undefined {
  try {
    const value = JSON.parse(line.toString('utf8')) as unknown;
    return checkShape(value) ? undefined : (value as LedgerRecord);
  } catch {
    return undefined;
  }
}

/** Returns the seq of `bytes` when they are a valid record that directly follows `last`. */
export function completeNextRecord(bytes: Buffer, last: Buffer | undefined): number | undefined {
  const decoded = decodeLine(bytes);
  if ('error' in decoded) {
    return undefined;
  }
  const { record } = decoded;
  if (!last) {
    return record.seq === 0 && record.prev === GENESIS_PREV ? 0 : undefined;
  }
  const previous = readLine(last);
  if (!previous || record.seq !== previous.seq + 1 || record.prev !== leafHash(last).toString('hex')) {
    return undefined;
  }
  return record.seq;
}

function checkShape(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'not a JSON object';
  }
  const record = value as Record<string, unknown>;
  if (record.v !== 1) {
    return `unsupported record version ${JSON.stringify(record.v)}`;
  }
  if (typeof record.seq !== 'number' || !Number.isSafeInteger(record.seq) || record.seq < 0) {
    return 'missing or invalid seq';
  }
  if (typeof record.prev !== 'string' || !/^[0-9a-f]{64}$/.test(record.prev)) {
    return 'missing or invalid prev hash';
  }
  if (typeof record.time !== 'string' || Number.isNaN(Date.parse(record.time))) {
    return 'missing or invalid time';
  }
  if (typeof record.kind !== 'string' || !KIND_PATTERN.test(record.kind)) {
    return 'missing or invalid kind';
  }
  if (record.actor === null || typeof record.actor !== 'object' || typeof (record.actor as Actor).user !== 'string') {
    return 'missing or invalid actor';
  }
  if (typeof record.run !== 'string') {
    return 'missing run';
  }
  if (record.details === null || typeof record.details !== 'object' || Array.isArray(record.details)) {
    return 'missing or invalid details';
  }
  return undefined;
}
