import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent, quoteLiteral } from '../../providers/postgres/quote.js';
import { verifyScram } from '../../providers/postgres/scram.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';

// Passwords whose SASLprep form differs from their NFKC form, and one SASLprep rejects.
const PASSWORDS = ['soft\u00adhyphen', 'zero\u200bwidth', 'non\u00a0breaking space', 'roman \u2163', 'plain-ascii-1', 'bell\u0007control'];

describe.each(BACKENDS)('SCRAM verifiers from %s', (backend) => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch(backend);
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('match passwords the server hashed', async () => {
    for (const [index, password] of PASSWORDS.entries()) {
      const role = scratch.role(`scram_${index}`);
      await scratch.sql(`SET password_encryption = 'scram-sha-256'; CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(password)}`);
      const [row] = await scratch.sql('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
      expect(verifyScram(password, String(row.rolpassword)), JSON.stringify(password)).toBe(true);
      expect(verifyScram(`${password}x`, String(row.rolpassword))).toBe(false);
    }
  });
});
