/**
 * Failure classes of the vault. Callers branch on `code`. The message names the file or entry
 * and the next step, and never contains a secret value.
 */
export type VaultErrorCode =
  | 'NOT_FOUND'          // the vault file or an entry does not exist
  | 'ALREADY_EXISTS'     // init over an existing file, store over an existing entry
  | 'BAD_CREDENTIAL'     // wrong password, key file, PIN or KMS key
  | 'MISSING_CREDENTIAL' // no password source and no terminal to prompt on
  | 'INTEGRITY'          // the file was modified or damaged
  | 'FORMAT'             // not a vault file, or an unsupported version or parameter
  | 'EXPIRED'            // the entry is past its expiry time
  | 'PENDING'            // a rotation is pending, or none is when one is expected
  | 'LOCKED'             // the vault handle was locked, or the writer lock timed out
  | 'SESSION'            // the unlock session is missing, expired or invalid
  | 'KEY_PROVIDER'       // a KMS or PKCS#11 call failed for a reason other than a bad key
  | 'INVALID_ARGUMENT';  // a bad entry name, duration, option or metadata

export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VaultError';
    this.code = code;
  }
}

export function isVaultError(error: unknown, code?: VaultErrorCode): error is VaultError {
  return error instanceof VaultError && (code === undefined || error.code === code);
}
