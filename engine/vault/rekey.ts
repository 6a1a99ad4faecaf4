import { readKeyFile } from './credentials.js';
import { VaultError } from './errors.js';
import type { KeySlot, KeySlotType, VaultDocument } from './format.js';
import { freshSalt, newKdfParams, type KdfAlgorithm } from './kdf.js';
import { unwrapAwsKmsSlot, wrapWithAwsKms, type AwsClientOverrides } from './keyslots/aws-kms.js';
import { unwrapGcpKmsSlot, wrapWithGcpKms, type GcpClientOverrides } from './keyslots/gcp-kms.js';
import { unwrapPasswordSlot, wrapWithPassword } from './keyslots/password.js';
import { unwrapPkcs11Slot, wrapWithPkcs11 } from './keyslots/pkcs11.js';
import { checkNewPassword } from './open.js';
import { endSessions } from './session.js';
import { resolveTrust, type VaultTrust } from './trust.js';
import type { Vault } from './vault.js';

/**
 * Credentials for re-wrapping the key slots that a re-key keeps. A re-key draws a new data key,
 * so every kept slot must wrap it again, and that needs the slot's own credential: the password
 * (and key file) of a password slot, access to the KMS key, or the token PIN.
 */
export interface RekeyCredentials {
  env: NodeJS.ProcessEnv;
  trust?: VaultTrust;
  /** Passwords tried against each kept password slot; a slot keeps the password that opens it. */
  passwords?: string[];
  /** Key file for kept password slots that require one. */
  keyFile?: string;
  pkcs11Pin?: string;
  /** Remove kept slots that cannot be re-wrapped with these credentials, instead of failing. */
  dropOtherSlots?: boolean;
  aws?: AwsClientOverrides;
  gcp?: GcpClientOverrides;
  reason?: string;
}

export interface RekeyResult {
  /** Slots removed because `dropOtherSlots` was set and their credential was missing. */
  dropped: { id: number; type: KeySlotType; reason: string }[];
  /** Number of unlock sessions of this vault that were ended. */
  endedSessions: number;
}

export interface ChangePasswordOptions extends RekeyCredentials {
  currentPassword: string;
  /** Key file that the current password slot requires, if any. */
  currentKeyFile?: string;
  newPassword: string;
  /** Key file for the new slot: a path, null to stop requiring one, undefined to keep the current setting with the same file. */
  newKeyFile?: string | null;
  kdf?: KdfAlgorithm;
}

/**
 * Changes the password of the password slot that `currentPassword` opens, and re-keys the vault.
 * A new data key encrypts the body, and every other slot is re-wrapped (see RekeyCredentials).
 * The `.bak` copy is replaced, and this user's unlock sessions of the vault are ended. The old
 * password therefore opens no later generation, only copies made before (backups, `.pre-restore-*`).
 */
export async function changePassword(vault: Vault, options: ChangePasswordOptions): Promise<RekeyResult & { slotId: number }> {
  checkNewPassword(options.newPassword);
  const currentKeyFile = options.currentKeyFile === undefined ? undefined : await readKeyFile(options.currentKeyFile);
  let newKeyFile = currentKeyFile;
  if (options.newKeyFile === null) newKeyFile = undefined;
  else if (options.newKeyFile !== undefined) newKeyFile = await readKeyFile(options.newKeyFile);

  let slotId = -1;
  const dropped: RekeyResult['dropped'] = [];
  await vault.rekey(async (document, newKey) => {
    const target = await findPasswordSlot(document, vault, options.currentPassword, currentKeyFile);
    slotId = target.id;
    const algorithm = options.kdf ?? target.kdf.algorithm;
    const replacement = await wrapWithPassword(
      document.vaultId,
      target.id,
      newKey,
      { password: options.newPassword, keyFile: newKeyFile },
      newKdfParams(algorithm, options.env),
    );
    const passwords = [options.currentPassword, ...(options.passwords ?? [])];
    return rewrapSlots(document, vault, newKey, { ...options, passwords }, dropped, new Map([[target.id, replacement]]));
  });

  const endedSessions = await endSessions({ env: options.env, vaultPath: vault.path });
  vault.emit('change-password', undefined, options.reason);
  return { slotId, dropped, endedSessions };
}

/**
 * Removes a key slot and re-keys the vault like `changePassword`, so the removed slot's
 * credential opens no later generation of the file.
 */
export async function removeKeySlot(vault: Vault, id: number, options: RekeyCredentials): Promise<RekeyResult & { type: KeySlotType }> {
  let removedType: KeySlotType | undefined;
  const dropped: RekeyResult['dropped'] = [];
  await vault.rekey(async (document, newKey) => {
    const removed = document.keySlots.find((slot) => slot.id === id);
    if (removed === undefined) {
      throw new VaultError('NOT_FOUND', `the vault has no key slot ${id}; see \`aishell vault configure --show\``);
    }
    if (document.keySlots.length === 1) {
      throw new VaultError('INVALID_ARGUMENT', `key slot ${id} is the vault's only key slot; add another before removing it`);
    }
    removedType = removed.type;
    const kept = { ...document, keySlots: document.keySlots.filter((slot) => slot.id !== id) };
    const slots = await rewrapSlots(kept, vault, newKey, options, dropped, new Map());
    if (slots.length === 0) {
      throw new VaultError('INVALID_ARGUMENT', `removing key slot ${id} would leave no key slot that can be re-wrapped; nothing was changed`);
    }
    return slots;
  });

  const endedSessions = await endSessions({ env: options.env, vaultPath: vault.path });
  vault.emit('remove-key-slot', undefined, options.reason);
  return { type: removedType!, dropped, endedSessions };
}

/**
 * Wraps `newKey` in every slot of `document`: slots in `replacements` are taken as given, the
 * others are re-wrapped with the credentials. Raises MISSING_CREDENTIAL listing every slot that
 * cannot be re-wrapped, unless `dropOtherSlots` is set, which removes them.
 */
async function rewrapSlots(
  document: VaultDocument,
  vault: Vault,
  newKey: Buffer,
  credentials: RekeyCredentials,
  dropped: RekeyResult['dropped'],
  replacements: Map<number, KeySlot>,
): Promise<KeySlot[]> {
  const trust = credentials.trust ?? resolveTrust(credentials.env);
  const keyFile = credentials.keyFile === undefined ? undefined : await readKeyFile(credentials.keyFile);
  const slots: KeySlot[] = [];
  const failures: string[] = [];

  for (const slot of document.keySlots) {
    const replacement = replacements.get(slot.id);
    if (replacement !== undefined) {
      slots.push(replacement);
      continue;
    }
    try {
      slots.push(await rewrapSlot(document, vault, slot, newKey, { ...credentials, trust }, keyFile));
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      if (credentials.dropOtherSlots) dropped.push({ id: slot.id, type: slot.type, reason: error.message });
      else failures.push(`  key slot ${slot.id} (${slot.type}): ${error.message}`);
    }
  }

  if (failures.length > 0) {
    throw new VaultError(
      'MISSING_CREDENTIAL',
      `cannot re-key ${vault.path}: every key slot that stays must wrap the new data key, and these cannot be re-wrapped here:\n${failures.join('\n')}\n` +
        'give their credentials (--other-password-file FILE for another password slot, the KMS identity, the PKCS#11 PIN and module), ' +
        'or pass --drop-other-slots to remove them; nothing was changed',
    );
  }
  return slots;
}

async function rewrapSlot(
  document: VaultDocument,
  vault: Vault,
  slot: KeySlot,
  newKey: Buffer,
  credentials: RekeyCredentials & { trust: VaultTrust },
  keyFile: Buffer | undefined,
): Promise<KeySlot> {
  const oldKey = vault.requireKey();
  let wrapped: KeySlot;
  let check: Buffer | undefined;

  switch (slot.type) {
    case 'password': {
      const password = await matchingPassword(document, slot, oldKey, credentials.passwords ?? [], keyFile);
      const secret = { password, keyFile: slot.keyFile ? keyFile : undefined };
      // The slot keeps its KDF and cost; only the salt is new.
      wrapped = await wrapWithPassword(document.vaultId, slot.id, newKey, secret, freshSalt(slot.kdf));
      check = await unwrapPasswordSlot(document, wrapped, secret);
      break;
    }
    case 'aws-kms': {
      const access = { env: credentials.env, trust: credentials.trust, overrides: credentials.aws };
      wrapped = await wrapWithAwsKms(document.vaultId, slot.id, newKey, slot, access);
      check = await unwrapAwsKmsSlot(document, wrapped, access);
      break;
    }
    case 'gcp-kms': {
      const access = { env: credentials.env, trust: credentials.trust, overrides: credentials.gcp };
      wrapped = await wrapWithGcpKms(document.vaultId, slot.id, newKey, slot, access);
      check = await unwrapGcpKmsSlot(document, wrapped, access);
      break;
    }
    case 'pkcs11': {
      if (credentials.pkcs11Pin === undefined) {
        throw new VaultError('MISSING_CREDENTIAL', `needs the PIN of PKCS#11 token "${slot.tokenLabel}" (AISHELL_PKCS11_PIN or --pin-file FILE)`);
      }
      const module = credentials.trust.pkcs11Module;
      const target = { tokenLabel: slot.tokenLabel, keyLabel: slot.keyLabel, pin: credentials.pkcs11Pin };
      wrapped = await wrapWithPkcs11(document.vaultId, slot.id, newKey, target, { createKey: false, module });
      check = await unwrapPkcs11Slot(document, wrapped, credentials.pkcs11Pin, module);
      break;
    }
  }

  if (check === undefined || !check.equals(newKey)) {
    throw new VaultError('KEY_PROVIDER', 'the re-wrapped slot did not return the new data key when tested');
  }
  check.fill(0);
  return wrapped;
}

/** Returns the first password that opens `slot` with the current data key. */
async function matchingPassword(
  document: VaultDocument,
  slot: Extract<KeySlot, { type: 'password' }>,
  oldKey: Buffer,
  passwords: string[],
  keyFile: Buffer | undefined,
): Promise<string> {
  if (slot.keyFile && keyFile === undefined) {
    throw new VaultError('MISSING_CREDENTIAL', 'needs its key file (--key-file FILE)');
  }
  for (const password of passwords) {
    const unwrapped = await unwrapPasswordSlot(document, slot, { password, keyFile: slot.keyFile ? keyFile : undefined });
    const matches = unwrapped !== undefined && unwrapped.equals(oldKey);
    unwrapped?.fill(0);
    if (matches) return password;
  }
  throw new VaultError('MISSING_CREDENTIAL', 'none of the given passwords opens it (pass its password with --other-password-file FILE)');
}

/** Finds the password slot that the current password (and key file) opens. */
async function findPasswordSlot(
  document: VaultDocument,
  vault: Vault,
  password: string,
  keyFile: Buffer | undefined,
): Promise<Extract<KeySlot, { type: 'password' }>> {
  for (const slot of document.keySlots) {
    if (slot.type !== 'password') continue;
    // A slot that requires a key file raises MISSING_CREDENTIAL here when none was given.
    const unwrapped = await unwrapPasswordSlot(document, slot, { password, keyFile: slot.keyFile ? keyFile : undefined });
    const matches = unwrapped !== undefined && unwrapped.equals(vault.requireKey());
    unwrapped?.fill(0);
    if (matches) return slot;
  }
  throw new VaultError('BAD_CREDENTIAL', `cannot change the password of ${vault.path}: wrong current password or key file; nothing was changed`);
}
