import { copyFile, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';

import { secretBuffer } from './aead.js';
import { openBody, sealBody } from './body-crypto.js';
import { readKeyFile } from './credentials.js';
import { canonicalJson } from './encoding.js';
import { VaultError } from './errors.js';
import { readVaultText, withWriteLock, writeFileAtomic } from './file-store.js';
import { AWS_REGION_PATTERN, GCP_KEY_NAME_PATTERN, parseVaultFile, serializeVaultFile, type KeySlot, type VaultDocument } from './format.js';
import { newKdfParams, type KdfAlgorithm } from './kdf.js';
import { unwrapAwsKmsSlot, wrapWithAwsKms, type AwsClientOverrides, type AwsKmsTarget } from './keyslots/aws-kms.js';
import { unwrapGcpKmsSlot, wrapWithGcpKms, type GcpClientOverrides, type GcpKmsTarget } from './keyslots/gcp-kms.js';
import { unwrapPasswordSlot, wrapWithPassword } from './keyslots/password.js';
import { unwrapPkcs11Slot, wrapWithPkcs11, type Pkcs11Target } from './keyslots/pkcs11.js';
import { checkNewPassword } from './open.js';
import { checkPins, resolveTrust, type VaultTrust } from './trust.js';
import { trustOf, unlockDataKey, type UnlockOptions } from './unlock.js';
import type { Vault, VaultContext } from './vault.js';

export type NewKeySlot =
  | ({ type: 'password'; password: string; keyFile?: string; kdf?: KdfAlgorithm })
  | ({ type: 'aws-kms' } & AwsKmsTarget)
  | ({ type: 'gcp-kms' } & GcpKmsTarget)
  | ({ type: 'pkcs11'; createKey?: boolean } & Pkcs11Target);

export interface KeyProviderOptions {
  env: NodeJS.ProcessEnv;
  /** PKCS#11 module and KMS endpoints; read from `env` when absent. */
  trust?: VaultTrust;
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
  checkSlotTarget(spec);
  const trust = options.trust ?? resolveTrust(options.env);
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
        case 'aws-kms': {
          const access = { env: options.env, trust, overrides: options.aws };
          slot = await wrapWithAwsKms(document.vaultId, id, dataKey, spec, access);
          check = await unwrapAwsKmsSlot(document, slot, access);
          break;
        }
        case 'gcp-kms': {
          const access = { env: options.env, trust, overrides: options.gcp };
          slot = await wrapWithGcpKms(document.vaultId, id, dataKey, spec, access);
          check = await unwrapGcpKmsSlot(document, slot, access);
          break;
        }
        case 'pkcs11':
          slot = await wrapWithPkcs11(document.vaultId, id, dataKey, spec, { createKey: spec.createKey ?? false, module: trust.pkcs11Module });
          check = await unwrapPkcs11Slot(document, slot, spec.pin, trust.pkcs11Module);
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

/** Rejects a KMS key reference that the file format would reject, before any KMS call. */
function checkSlotTarget(spec: NewKeySlot): void {
  if (spec.type === 'aws-kms' && !AWS_REGION_PATTERN.test(spec.region)) {
    throw new VaultError('INVALID_ARGUMENT', `--region ${spec.region} is not an AWS region name such as us-east-1`);
  }
  if (spec.type === 'gcp-kms' && !GCP_KEY_NAME_PATTERN.test(spec.keyName)) {
    throw new VaultError('INVALID_ARGUMENT', `--kms-key-name ${spec.keyName} is not a key name such as projects/P/locations/L/keyRings/R/cryptoKeys/K`);
  }
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
  /**
   * True when the backup's key slots differ from those of the replaced file. The backup then
   * predates a password change, re-key or slot change. The restored vault opens with the
   * credentials and data key of that time, including an old password, and not with the current ones.
   */
  keySlotsDiffer: boolean;
}

/**
 * Restores a backup. The backup is verified completely (checksum, unlock, body tag) before the
 * vault file is touched; the replaced file is kept as `<path>.pre-restore-<time>`. The restored
 * content is sealed again with a generation above the replaced file's. A pinned vault id or slot
 * fingerprint applies to the backup, even with `allowOtherVault`.
 */
export async function restoreVault(options: RestoreOptions): Promise<RestoreResult> {
  const backup = parseVaultFile(await readVaultText(options.source), options.source);
  const trust = trustOf(options);
  checkPins(backup, trust, options.source);
  const unlocked = await unlockDataKey(backup, options.source, { ...options, trust });
  const dataKey = secretBuffer(unlocked.dataKey);
  unlocked.dataKey.fill(0);

  try {
    const body = openBody(backup, dataKey, options.source);
    const now = options.now?.() ?? new Date();

    const result = await withWriteLock(options.path, async (assertHeld) => {
      let currentGeneration = 0;
      let previousCopy: string | undefined;
      let keySlotsDiffer = false;
      if (await exists(options.path)) {
        const current = parseCurrentForRestore(await readVaultText(options.path), options.path);
        if (current && current.vaultId !== backup.vaultId && !options.allowOtherVault) {
          throw new VaultError(
            'INVALID_ARGUMENT',
            `${options.source} is a backup of vault ${backup.vaultId}, but ${options.path} is vault ${current.vaultId}; pass --force to replace it anyway`,
          );
        }
        currentGeneration = current?.generation ?? 0;
        keySlotsDiffer = current !== undefined && !sameKeySlots(current, backup);
        previousCopy = `${options.path}.pre-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
        await copyFile(options.path, previousCopy, fsConstants.COPYFILE_EXCL);
      }

      const { body: _body, checksum: _checksum, ...header } = backup;
      const generation = Math.max(currentGeneration, backup.generation) + 1;
      const sealed = sealBody({ ...header, generation }, dataKey, body);
      await writeFileAtomic(options.path, serializeVaultFile(sealed), { keepBackup: true, assertHeld });
      return { backupGeneration: backup.generation, generation, keySlotsDiffer, ...(previousCopy ? { previousCopy } : {}) };
    });

    options.onAccess?.({ operation: 'restore', vaultId: backup.vaultId, ...(options.actor ? { actor: options.actor } : {}), ...(options.reason ? { reason: options.reason } : {}) });
    return result;
  } finally {
    dataKey.fill(0);
  }
}

function sameKeySlots(a: VaultDocument, b: VaultDocument): boolean {
  return canonicalJson(a.keySlots) === canonicalJson(b.keySlots);
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
