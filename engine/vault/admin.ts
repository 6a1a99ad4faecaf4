import { copyFile, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';

import { secretBuffer } from './aead.js';
import { openBody, sealBody } from './body-crypto.js';
import { readKeyFile } from './credentials.js';
import { VaultError } from './errors.js';
import { readVaultText, withWriteLock, writeFileAtomic } from './file-store.js';
import { parseVaultFile, serializeVaultFile, type KeySlot, type KeySlotType } from './format.js';
import { newKdfParams, type KdfAlgorithm } from './kdf.js';
import { unwrapAwsKmsSlot, wrapWithAwsKms, type AwsClientOverrides, type AwsKmsTarget } from './keyslots/aws-kms.js';
import { unwrapGcpKmsSlot, wrapWithGcpKms, type GcpClientOverrides, type GcpKmsTarget } from './keyslots/gcp-kms.js';
import { unwrapPasswordSlot, wrapWithPassword } from './keyslots/password.js';
import { unwrapPkcs11Slot, wrapWithPkcs11, type Pkcs11Target } from './keyslots/pkcs11.js';
import { checkNewPassword } from './open.js';
import { unlockDataKey, type UnlockOptions } from './unlock.js';
import type { Vault, VaultContext } from './vault.js';

export interface ChangePasswordOptions {
  currentPassword: string;
  /** Key file that the current password slot requires, if any. */
  currentKeyFile?: string;
  newPassword: string;
  /** Key file for the new slot: a path, null to stop requiring one, undefined to keep the current setting with the same file. */
  newKeyFile?: string | null;
  kdf?: KdfAlgorithm;
  env: NodeJS.ProcessEnv;
  reason?: string;
}

/**
 * Re-wraps the data key in the password slot that the current password opens, with a fresh salt.
 * No other slot and no entry changes; the previous file generation stays in `<path>.bak`, where
 * the old password still opens it.
 */
export async function changePassword(vault: Vault, options: ChangePasswordOptions): Promise<{ slotId: number }> {
  checkNewPassword(options.newPassword);
  const currentKeyFile = options.currentKeyFile === undefined ? undefined : await readKeyFile(options.currentKeyFile);
  let newKeyFile = currentKeyFile;
  if (options.newKeyFile === null) newKeyFile = undefined;
  else if (options.newKeyFile !== undefined) newKeyFile = await readKeyFile(options.newKeyFile);

  let slotId = -1;
  await vault.mutate(() => undefined, {
    header: async (document) => {
      const slots: KeySlot[] = [];
      for (const slot of document.keySlots) {
        if (slot.type !== 'password' || slotId !== -1) {
          slots.push(slot);
          continue;
        }
        const dataKey = await unwrapPasswordSlot(document, slot, { password: options.currentPassword, keyFile: currentKeyFile });
        if (dataKey === undefined) {
          slots.push(slot);
          continue;
        }
        dataKey.fill(0);
        slotId = slot.id;
        const algorithm = options.kdf ?? slot.kdf.algorithm;
        slots.push(await wrapWithPassword(document.vaultId, slot.id, vault.requireKey(), { password: options.newPassword, keyFile: newKeyFile }, newKdfParams(algorithm, options.env)));
      }
      if (slotId === -1) {
        throw new VaultError('BAD_CREDENTIAL', `cannot change the password of ${vault.path}: wrong current password or key file; nothing was changed`);
      }
      const { body: _body, checksum: _checksum, ...header } = document;
      return { ...header, keySlots: slots };
    },
  });
  vault.emit('change-password', undefined, options.reason);
  return { slotId };
}

export type NewKeySlot =
  | ({ type: 'password'; password: string; keyFile?: string; kdf?: KdfAlgorithm })
  | ({ type: 'aws-kms' } & AwsKmsTarget)
  | ({ type: 'gcp-kms' } & GcpKmsTarget)
  | ({ type: 'pkcs11'; createKey?: boolean } & Pkcs11Target);

export interface KeyProviderOptions {
  env: NodeJS.ProcessEnv;
  aws?: AwsClientOverrides;
  gcp?: GcpClientOverrides;
  reason?: string;
}

/**
 * Adds a key slot that wraps the same data key, so it opens the vault alone. The slot is
 * unwrapped once before saving, so a slot that cannot open the vault is never written.
 */
export async function addKeySlot(vault: Vault, spec: NewKeySlot, options: KeyProviderOptions): Promise<KeySlot> {
  if (spec.type === 'password') checkNewPassword(spec.password);
  const keyFile = spec.type === 'password' && spec.keyFile !== undefined ? await readKeyFile(spec.keyFile) : undefined;

  let added: KeySlot | undefined;
  await vault.mutate(() => undefined, {
    header: async (document) => {
      const id = Math.max(...document.keySlots.map((slot) => slot.id)) + 1;
      const dataKey = vault.requireKey();
      let slot: KeySlot;
      let check: Buffer | undefined;
      switch (spec.type) {
        case 'password':
          slot = await wrapWithPassword(document.vaultId, id, dataKey, { password: spec.password, keyFile }, newKdfParams(spec.kdf ?? 'scrypt', options.env));
          check = await unwrapPasswordSlot(document, slot, { password: spec.password, keyFile });
          break;
        case 'aws-kms':
          slot = await wrapWithAwsKms(document.vaultId, id, dataKey, spec, options.env, options.aws);
          check = await unwrapAwsKmsSlot(document, slot, options.env, options.aws);
          break;
        case 'gcp-kms':
          slot = await wrapWithGcpKms(document.vaultId, id, dataKey, spec, options.env, options.gcp);
          check = await unwrapGcpKmsSlot(document, slot, options.env, options.gcp);
          break;
        case 'pkcs11':
          slot = await wrapWithPkcs11(document.vaultId, id, dataKey, spec, { createKey: spec.createKey ?? false });
          check = await unwrapPkcs11Slot(document, slot, spec.pin);
          break;
      }
      if (check === undefined || !check.equals(dataKey)) {
        throw new VaultError('KEY_PROVIDER', `the new ${spec.type} key slot did not return the data key when tested; nothing was changed`);
      }
      check.fill(0);
      added = slot;
      const { body: _body, checksum: _checksum, ...header } = document;
      return { ...header, keySlots: [...document.keySlots, slot] };
    },
  });
  vault.emit('add-key-slot', undefined, options.reason);
  return added!;
}

/**
 * Removes a key slot. The data key stays the same, so a copy of an older file generation (the
 * `.bak` file, backups) still opens with the removed slot's credential.
 */
export async function removeKeySlot(vault: Vault, id: number, options: { reason?: string } = {}): Promise<KeySlotType> {
  // TODO: add a rekey that draws a new data key and re-wraps the remaining slots, so removed
  // credentials stop opening copies made afterwards.
  let removedType: KeySlotType | undefined;
  await vault.mutate(() => undefined, {
    header: async (document) => {
      const removed = document.keySlots.find((slot) => slot.id === id);
      if (removed === undefined) {
        throw new VaultError('NOT_FOUND', `the vault has no key slot ${id}; see \`aishell vault configure --show\``);
      }
      if (document.keySlots.length === 1) {
        throw new VaultError('INVALID_ARGUMENT', `key slot ${id} is the vault's only key slot; add another before removing it`);
      }
      removedType = removed.type;
      const { body: _body, checksum: _checksum, ...header } = document;
      return { ...header, keySlots: document.keySlots.filter((slot) => slot.id !== id) };
    },
  });
  vault.emit('remove-key-slot', undefined, options.reason);
  return removedType!;
}

/**
 * Writes an encrypted copy of the vault: the current file, verified by decrypting it first. The
 * copy opens with the same key slots as the vault had when it was written.
 */
export async function backupVault(vault: Vault, destination: string, options: { overwrite?: boolean; reason?: string } = {}): Promise<{ generation: number }> {
  const text = await readVaultText(vault.path);
  const document = parseVaultFile(text, vault.path);
  if (document.vaultId !== vault.vaultId) {
    throw new VaultError('INTEGRITY', `${vault.path} now contains another vault; nothing was backed up`);
  }
  openBody(document, vault.requireKey(), vault.path);

  if (!options.overwrite && (await exists(destination))) {
    throw new VaultError('ALREADY_EXISTS', `${destination} already exists; choose another file or pass --force`);
  }
  await writeFileAtomic(destination, text, { keepBackup: false });
  vault.emit('backup', undefined, options.reason);
  return { generation: document.generation };
}

export interface RestoreOptions extends UnlockOptions, Omit<VaultContext, 'path'> {
  path: string;
  source: string;
  /** Allow replacing a vault whose id differs from the backup's. */
  allowOtherVault?: boolean;
  reason?: string;
}

export interface RestoreResult {
  /** Generation recorded in the backup. */
  backupGeneration: number;
  /** Generation of the restored vault: newer than any earlier one, so later writers see a new file. */
  generation: number;
  /** Copy of the replaced file, or undefined when there was none. */
  previousCopy?: string;
}

/**
 * Restores a backup. The backup is verified completely (checksum, unlock, body tag) before the
 * vault file is touched; the replaced file is kept as `<path>.pre-restore-<time>`. The restored
 * content is sealed again with a generation above the replaced file's.
 */
export async function restoreVault(options: RestoreOptions): Promise<RestoreResult> {
  const backup = parseVaultFile(await readVaultText(options.source), options.source);
  const unlocked = await unlockDataKey(backup, options.source, options);
  const dataKey = secretBuffer(unlocked.dataKey);
  unlocked.dataKey.fill(0);

  try {
    const body = openBody(backup, dataKey, options.source);
    const now = options.now?.() ?? new Date();

    const result = await withWriteLock(options.path, async (assertHeld) => {
      let currentGeneration = 0;
      let previousCopy: string | undefined;
      if (await exists(options.path)) {
        const current = parseCurrentForRestore(await readVaultText(options.path), options.path);
        if (current && current.vaultId !== backup.vaultId && !options.allowOtherVault) {
          throw new VaultError(
            'INVALID_ARGUMENT',
            `${options.source} is a backup of vault ${backup.vaultId}, but ${options.path} is vault ${current.vaultId}; pass --force to replace it anyway`,
          );
        }
        currentGeneration = current?.generation ?? 0;
        previousCopy = `${options.path}.pre-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
        await copyFile(options.path, previousCopy, fsConstants.COPYFILE_EXCL);
      }

      const { body: _body, checksum: _checksum, ...header } = backup;
      const generation = Math.max(currentGeneration, backup.generation) + 1;
      const sealed = sealBody({ ...header, generation }, dataKey, body);
      await writeFileAtomic(options.path, serializeVaultFile(sealed), { keepBackup: true, assertHeld });
      return { backupGeneration: backup.generation, generation, ...(previousCopy ? { previousCopy } : {}) };
    });

    options.onAccess?.({ operation: 'restore', vaultId: backup.vaultId, ...(options.actor ? { actor: options.actor } : {}), ...(options.reason ? { reason: options.reason } : {}) });
    return result;
  } finally {
    dataKey.fill(0);
  }
}

/** Parses the file that a restore replaces. Returns undefined for a damaged file, which a restore may replace. */
function parseCurrentForRestore(text: string, path: string) {
  try {
    return parseVaultFile(text, path);
  } catch (error) {
    if (error instanceof VaultError && (error.code === 'INTEGRITY' || error.code === 'FORMAT')) return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
