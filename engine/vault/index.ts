/**
 * The built-in credential vault: one encrypted file of named secrets, each with metadata, expiry
 * and a history of previous values, opened by a password (optionally with a key file), AWS KMS,
 * GCP KMS or a PKCS#11 token. Plan and apply use `openVault`, `Vault.get` and the pending-value
 * methods; the CLI is `runVaultCommand` in ./cli.js.
 */
export { openVault, createVault, type OpenVaultOptions, type CreateVaultOptions } from './open.js';
export {
  Vault,
  describeSlot,
  type AccessEvent,
  type AccessOperation,
  type PendingInfo,
  type PutOptions,
  type UpdateOptions,
  type VaultContext,
  type VaultInfo,
} from './vault.js';
export type { EntryInfo } from './entries.js';
export {
  addKeySlot,
  backupVault,
  restoreVault,
  type NewKeySlot,
  type RestoreOptions,
  type RestoreResult,
} from './admin.js';
export { changePassword, removeKeySlot, type ChangePasswordOptions, type RekeyCredentials, type RekeyResult } from './rekey.js';
export { slotFingerprint, TRUST_ENV, TRUST_CONFIG_KEYS, type VaultTrust } from './trust.js';
export { generatePassword, CHARACTER_CLASSES, type CharacterClass, type PasswordOptions } from './password-generator.js';
export { resolveVaultPath, resolveVaultLocation, type VaultLocationOptions } from './location.js';
export { VaultError, isVaultError, type VaultErrorCode } from './errors.js';
export { ENV as VAULT_ENV } from './credentials.js';
export { ENTRY_NAME_PATTERN, DEFAULT_KEEP_HISTORY, type VaultSettings } from './body.js';
export { KDF_COST_ENV } from './kdf.js';
export type { UnlockOptions } from './unlock.js';
export type { KeySlot, KeySlotType } from './format.js';
