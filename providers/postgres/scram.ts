import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { saslprep } from '@mongodb-js/saslprep';

/**
 * SCRAM-SHA-256 verifiers as PostgreSQL stores them (RFC 5802, RFC 7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64.
 *
 * aishell sends the verifier, never the password, so the password cannot appear in the server's
 * statement log, and compares a declared password with the stored verifier to keep plans empty.
 */

/** PostgreSQL's default for scram_iterations. */
const DEFAULT_ITERATIONS = 4096;

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/**
 * Prepares a password as PostgreSQL does before hashing it (pg_saslprep, RFC 4013): SASLprep
 * when the password passes it, and the raw password when SASLprep rejects it, for instance for a
 * prohibited or unassigned character.
 */
function prepare(password: string): string {
  try {
    return saslprep(password);
  } catch {
    return password;
  }
}

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(prepare(password), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

export function scramVerifier(password: string, iterations = DEFAULT_ITERATIONS, salt = randomBytes(16)): string {
  const { storedKey, serverKey } = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** True when `password` produces the stored verifier; false for a malformed verifier. */
export function verifyScram(password: string, verifier: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match) return false;
  const iterations = Number(match[1]);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;

  const { storedKey, serverKey } = keys(password, Buffer.from(match[2], 'base64'), iterations);
  const expectedStored = Buffer.from(match[3], 'base64');
  const expectedServer = Buffer.from(match[4], 'base64');
  return (
    expectedStored.length === storedKey.length &&
    expectedServer.length === serverKey.length &&
    timingSafeEqual(expectedStored, storedKey) &&
    timingSafeEqual(expectedServer, serverKey)
  );
}
