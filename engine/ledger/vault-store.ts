import { stat } from 'node:fs/promises';

import { SecretStoreCheckpointStore, type CheckpointStore } from './anchors.js';
import { vaultSecretStore } from './keys.js';

export interface VaultStoreOptions {
  /** `--vault-path`; otherwise AISHELL_VAULT_PATH, `vault.path` of ./security.yaml, or ~/.aishell/vault. */
  vaultPath?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The vault's checkpoint store, or the reason it could not be used. */
export type VaultStoreResult =
  | { store: CheckpointStore; source: string; lock: () => void }
  | { skipped: { source: string; reason: string }; exists: boolean };

/**
 * Opens the vault without prompting, so that `aishell audit` also checks the head that apply and
 * plan keep there. Credentials come from the environment only: an unlock session
 * (AISHELL_VAULT_SESSION), AISHELL_VAULT_PASSWORD, or a KMS or PKCS#11 key slot. A vault that is
 * absent or cannot be opened this way is reported as skipped, with the reason.
 */
export async function openVaultCheckpointStore(options: VaultStoreOptions): Promise<VaultStoreResult> {
  // The vault module is loaded only here, so commands that never need it start fast.
  const [{ resolveVaultPath }, { openVault }] = await Promise.all([import('../vault/location.js'), import('../vault/open.js')]);

  let path: string;
  try {
    path = await resolveVaultPath({ vaultPath: options.vaultPath, env: options.env, cwd: options.cwd });
  } catch (error) {
    return { skipped: { source: 'vault', reason: (error as Error).message }, exists: false };
  }
  const source = `vault ${path}`;

  try {
    await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { skipped: { source, reason: `no vault at ${path}` }, exists: false };
    }
    return { skipped: { source, reason: (error as Error).message }, exists: true };
  }

  try {
    const vault = await openVault({ path, env: options.env });
    return { store: new SecretStoreCheckpointStore(vaultSecretStore(vault), source), source, lock: () => vault.lock() };
  } catch (error) {
    return { skipped: { source, reason: `cannot be opened without a prompt: ${(error as Error).message}` }, exists: true };
  }
}
