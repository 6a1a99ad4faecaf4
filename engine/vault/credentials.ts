import { readFile } from 'node:fs/promises';

import { VaultError } from './errors.js';

/** Environment variables that the vault reads. */
export const ENV = {
  password: 'AISHELL_VAULT_PASSWORD',
  keyFile: 'AISHELL_VAULT_KEY_FILE',
  pkcs11Pin: 'AISHELL_PKCS11_PIN',
  slot: 'AISHELL_VAULT_SLOT',
  session: 'AISHELL_VAULT_SESSION',
  path: 'AISHELL_VAULT_PATH',
} as const;

/**
 * Reads a password or PIN from a file. One trailing newline is removed, because editors and
 * `echo` add one; all other characters count.
 */
export async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new VaultError('MISSING_CREDENTIAL', `cannot read ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') {
    throw new VaultError('MISSING_CREDENTIAL', `${what} file ${path} is empty`);
  }
  return value;
}

/** Reads a key file, the second factor of a password slot. Any non-empty file works; its bytes count, not its text. */
export async function readKeyFile(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new VaultError('MISSING_CREDENTIAL', `cannot read key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (bytes.length === 0) {
    throw new VaultError('MISSING_CREDENTIAL', `key file ${path} is empty`);
  }
  return bytes;
}
