import type { SecretRef } from './config/types.js';

/** Resolves `${env:…}` and `${vault:…}` references at the moment a value is needed. */
export interface SecretResolver {
  resolve(ref: SecretRef, purpose: string): Promise<string>;
}

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

export type VaultOpener = () => Promise<{ get(name: string): Promise<string> }>;

/**
 * Resolves environment references from `env` and vault references through `openVault`, which is
 * called once, on the first vault reference, so that a plan without vault references never asks
 * for the master password.
 */
export function createSecretResolver(env: NodeJS.ProcessEnv, openVault?: VaultOpener): SecretResolver {
  let vault: Promise<{ get(name: string): Promise<string> }> | undefined;
  return {
    async resolve(ref, purpose) {
      if (ref.kind === 'env') {
        const value = env[ref.name];
        if (value === undefined || value === '') {
          throw new SecretError(`environment variable ${ref.name} (${purpose}) is not set; export it before running aishell`);
        }
        return value;
      }
      if (!openVault) {
        throw new SecretError(`${purpose} refers to vault entry ${ref.name}, but no vault is configured`);
      }
      vault ??= openVault();
      return (await vault).get(ref.name);
    },
  };
}
