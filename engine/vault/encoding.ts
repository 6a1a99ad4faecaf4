import canonicalize from 'canonicalize';

import { VaultError } from './errors.js';

/**
 * Serializes a value as RFC 8785 (JCS) canonical JSON, so the same value always gives the same
 * bytes. The vault authenticates these bytes, never the text as read from disk.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new VaultError('INVALID_ARGUMENT', `cannot serialize vault data: ${(error as Error).message}`);
  }
  if (text === undefined) {
    throw new VaultError('INVALID_ARGUMENT', 'cannot serialize vault data: the value is undefined');
  }
  return text;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes standard padded base64 and rejects any other spelling of the same bytes. Node's decoder
 * skips invalid characters and ignores the unused low bits of the last character, so without the
 * round-trip check an edited file could still decode to the authenticated bytes.
 */
export function decodeBase64(text: string, field: string, expectedLength?: number): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new VaultError('INTEGRITY', `vault field ${field} is not valid base64`);
  }
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new VaultError(
      'INTEGRITY',
      `vault field ${field} has ${bytes.length} bytes, expected ${expectedLength}`,
    );
  }
  return bytes;
}
