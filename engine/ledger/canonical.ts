import canonicalize from 'canonicalize';

import { LedgerError } from './errors.js';

/**
 * Encodes a value as RFC 8785 (JCS) canonical JSON. Only integers within the IEEE-754 safe range
 * are allowed: JCS prints other numbers through ECMAScript's shortest round-trip form, which other
 * languages reproduce unreliably, so a float in a record would make hashes hard to recheck.
 */
export function canonicalJson(value: unknown): string {
  assertHashable(value, '$');
  const text = canonicalize(value);
  if (text === undefined) {
    throw new LedgerError('LEDGER_INVALID_RECORD', 'record cannot be encoded as JSON');
  }
  return text;
}

function assertHashable(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    return;
  }

  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new LedgerError(
        'LEDGER_INVALID_RECORD',
        `invalid number ${value} at ${path}: ledger records allow only integers up to 2^53; store fractions as strings`,
      );
    }
    return;
  }

  if (Array.isArray(value)) {
    value.forEach((item, index) => assertHashable(item, `${path}[${index}]`));
    return;
  }

  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) {
        continue;
      }
      assertHashable(item, `${path}.${key}`);
    }
    return;
  }

  throw new LedgerError('LEDGER_INVALID_RECORD', `invalid value of type ${typeof value} at ${path}: use plain JSON values`);
}

/**
 * Parses one stored line and checks that it is already in canonical form, so that its bytes,
 * not a re-encoding, are what the hash covers.
 */
export function parseCanonicalLine(line: string): { value: unknown } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { error: `invalid JSON (${(error as Error).message})` };
  }

  let again: string;
  try {
    again = canonicalJson(value);
  } catch (error) {
    return { error: (error as Error).message };
  }

  if (again !== line) {
    return { error: 'not in RFC 8785 canonical form' };
  }
  return { value };
}
