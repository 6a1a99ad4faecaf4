import { randomBytes, randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';

import { secretBuffer } from './aead.js';
import { openBody, sealBody } from './body-crypto.js';
import { emptyBody, type VaultSettings } from './body.js';
import { ENV, readKeyFile } from './credentials.js';
import { VaultError } from './errors.js';
import { readVaultText, withWriteLock, writeFileAtomic } from './file-store.js';
import { FORMAT_NAME, FORMAT_VERSION, parseVaultFile, serializeVaultFile, type UnsealedDocument, type VaultDocument } from './format.js';
import { newKdfParams, type KdfAlgorithm } from './kdf.js';
import { wrapWithPassword } from './keyslots/password.js';
import { openSession } from './session.js';
import { checkPins } from './trust.js';
import { trustOf, unlockDataKey, type UnlockOptions } from './unlock.js';
import { Vault, type VaultContext } from './vault.js';

export interface OpenVaultOptions extends UnlockOptions, Omit<VaultContext, 'path'> {
  path: string;
  /** Use the unlock session named by AISHELL_VAULT_SESSION when there is one (default true). */
  useSession?: boolean;
}

/**
 * Opens and unlocks a vault. Credentials are tried in this order: the `password` or
 * `passwordFile` option; the session in AISHELL_VAULT_SESSION; AISHELL_VAULT_PASSWORD; the KMS
 * and PKCS#11 key slots; `prompt`. The body is decrypted once to verify the whole file before
 * the handle is returned. A pinned vault id or slot fingerprint (`trust`) is checked first, before
 * any credential is used.
 */
export async function openVault(options: OpenVaultOptions): Promise<Vault> {
  const document = parseVaultFile(await readVaultText(options.path), options.path);
  const trust = trustOf(options);
  checkPins(document, trust, options.path);
  const context: VaultContext = { path: options.path, actor: options.actor, onAccess: options.onAccess, now: options.now };
  const emit = (operation: 'unlock' | 'unlock-failed') =>
    options.onAccess?.({ operation, vaultId: document.vaultId, generation: document.generation, ...(options.actor ? { actor: options.actor } : {}) });

  const explicit = options.password !== undefined || options.passwordFile !== undefined;
  let sessionError: VaultError | undefined;
  if (!explicit && options.useSession !== false && options.env[ENV.session]) {
    try {
      const session = await openSession({ env: options.env, token: options.env[ENV.session]!, vaultPath: options.path, now: options.now?.() ?? new Date() });
      if (session.vaultId !== document.vaultId) {
        throw new VaultError('SESSION', `the vault session was started for another vault at ${options.path}; run \`aishell vault unlock\` again`);
      }
      return verifiedSession(new Vault(context, document.vaultId, secretBuffer(session.dataKey)), document);
    } catch (error) {
      if (!(error instanceof VaultError) || error.code !== 'SESSION') throw error;
      sessionError = error;
    }
  }

  let unlocked;
  try {
    unlocked = await unlockDataKey(document, options.path, { ...options, trust });
  } catch (error) {
    if (error instanceof VaultError && error.code === 'BAD_CREDENTIAL') emit('unlock-failed');
    if (error instanceof VaultError && error.code === 'MISSING_CREDENTIAL' && sessionError) throw sessionError;
    throw error;
  }

  const vault = verified(new Vault(context, document.vaultId, secretBuffer(unlocked.dataKey), unlocked.slot), document);
  unlocked.dataKey.fill(0);
  emit('unlock');
  return vault;
}

export interface CreateVaultOptions extends Omit<VaultContext, 'path'> {
  path: string;
  env: NodeJS.ProcessEnv;
  password: string;
  /** Path of a key file required as a second factor with the password. */
  keyFile?: string;
  kdf?: KdfAlgorithm;
  settings?: Partial<VaultSettings>;
}

/** Creates a vault with one password key slot. Raises ALREADY_EXISTS rather than overwrite a file. */
export async function createVault(options: CreateVaultOptions): Promise<Vault> {
  checkNewPassword(options.password);
  const keyFile = options.keyFile === undefined ? undefined : await readKeyFile(options.keyFile);
  const now = options.now?.() ?? new Date();
  const vaultId = randomUUID();
  const dataKey = secretBuffer(randomBytes(32));

  await withWriteLock(options.path, async (assertHeld) => {
    if (await exists(options.path)) {
      throw new VaultError('ALREADY_EXISTS', `a vault already exists at ${options.path}; choose another --vault-path or remove it first`);
    }
    const slot = await wrapWithPassword(vaultId, 0, dataKey, { password: options.password, keyFile }, newKdfParams(options.kdf ?? 'scrypt', options.env));
    const header = { format: FORMAT_NAME, version: FORMAT_VERSION, vaultId, generation: 1, created: now.toISOString(), keySlots: [slot] } satisfies Omit<UnsealedDocument, 'body'>;
    const sealed = sealBody(header, dataKey, emptyBody(options.settings));
    await writeFileAtomic(options.path, serializeVaultFile(sealed), { keepBackup: false, assertHeld });
  });

  const vault = new Vault({ path: options.path, actor: options.actor, onAccess: options.onAccess, now: options.now }, vaultId, dataKey);
  vault.emit('configure', undefined, 'vault created');
  return vault;
}

export function checkNewPassword(password: string): void {
  if (password.length < 8) {
    throw new VaultError('INVALID_ARGUMENT', 'the master password must have at least 8 characters');
  }
}

/**
 * Verifies a vault opened from a session. A session contains the data key of the time it started,
 * so after a re-key (change-password, removing a key slot) it no longer opens the file. That is
 * reported as SESSION, which lets the caller fall back to the other credentials.
 */
function verifiedSession(vault: Vault, document: VaultDocument): Vault {
  try {
    return verified(vault, document);
  } catch (error) {
    if (!(error instanceof VaultError) || error.code !== 'INTEGRITY') throw error;
    throw new VaultError(
      'SESSION',
      `the unlock session no longer opens ${vault.path}: the vault was re-keyed (change-password, removed key slot) or replaced since the session started; run \`aishell vault unlock\` again`,
      { cause: error },
    );
  }
}

function verified(vault: Vault, document: VaultDocument): Vault {
  try {
    openBody(document, vault.requireKey(), vault.path);
  } catch (error) {
    vault.lock();
    throw error;
  }
  return vault;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
