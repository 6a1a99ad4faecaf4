import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';

import { ENV } from './credentials.js';
import { VaultError } from './errors.js';
import { resolveTrust, TRUST_CONFIG_KEYS, type TrustField, type VaultTrust } from './trust.js';

export interface VaultLocationOptions {
  /** --vault-path */
  vaultPath?: string;
  /** -f: security.yaml, or a directory of YAML files. */
  configPath?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * Resolves the vault file path, first match wins: --vault-path; AISHELL_VAULT_PATH; `vault.path`
 * of the configuration (-f, else ./security.yaml or ./security/); ~/.aishell/vault. A relative
 * `vault.path` is resolved against the directory that contains security.yaml, or against the
 * parent of a security/ directory, so the same file works from any working directory.
 */
export async function resolveVaultPath(options: VaultLocationOptions): Promise<string> {
  return (await resolveVaultLocation(options)).path;
}

/**
 * Resolves the vault path as `resolveVaultPath` does, and the trusted settings (pins, PKCS#11
 * module, KMS endpoints) from `explicit` options, the environment and the `vault:` section of the
 * same security.yaml. A relative `vault.pkcs11_module` is resolved like `vault.path`.
 */
export async function resolveVaultLocation(
  options: VaultLocationOptions & { explicit?: Partial<Record<TrustField, string>> },
): Promise<{ path: string; trust: VaultTrust }> {
  const config = await vaultSectionFromConfig(options);
  const trust = resolveTrust(options.env, options.explicit, config && { values: config.trust, source: config.file });
  if (trust.pkcs11Module !== undefined) trust.pkcs11Module = resolve(options.cwd, trust.pkcs11Module);

  if (options.vaultPath) return { path: resolve(options.cwd, expandHome(options.vaultPath, options.env)), trust };
  const fromEnv = options.env[ENV.path];
  if (fromEnv) return { path: resolve(options.cwd, expandHome(fromEnv, options.env)), trust };
  if (config?.path !== undefined) return { path: config.path, trust };
  return { path: join(home(options.env), '.aishell', 'vault'), trust };
}

interface VaultSection {
  file: string;
  path?: string;
  trust: Partial<Record<TrustField, string>>;
}

/** Finds the first configuration file with a `vault:` section and reads it. */
async function vaultSectionFromConfig(options: VaultLocationOptions): Promise<VaultSection | undefined> {
  const candidates = options.configPath
    ? [resolve(options.cwd, options.configPath)]
    : [join(options.cwd, 'security.yaml'), join(options.cwd, 'security')];

  for (const candidate of candidates) {
    const kind = await fileKind(candidate);
    if (kind === undefined) {
      if (options.configPath) throw new VaultError('NOT_FOUND', `configuration ${options.configPath} not found`);
      continue;
    }
    const files = kind === 'file' ? [candidate] : await yamlFiles(candidate);
    const base = dirname(candidate);
    for (const file of files) {
      const section = await readVaultSection(file, base, options.env);
      if (section !== undefined) return section;
    }
    return undefined;
  }
  return undefined;
}

async function readVaultSection(file: string, base: string, env: NodeJS.ProcessEnv): Promise<VaultSection | undefined> {
  const { parse } = await import('yaml');
  let document: unknown;
  try {
    document = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new VaultError('INVALID_ARGUMENT', `cannot read the vault section of ${file}: ${(error as Error).message}`);
  }
  const vault = (document as { vault?: Record<string, unknown> | null } | null)?.vault;
  if (vault === undefined || vault === null) return undefined;

  const text = (key: string): string | undefined => {
    const value = vault[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') {
      throw new VaultError('INVALID_ARGUMENT', `${file}: vault.${key} must be a non-empty string`);
    }
    return value;
  };

  const trust: Partial<Record<TrustField, string>> = {};
  for (const [field, key] of Object.entries(TRUST_CONFIG_KEYS) as [TrustField, string][]) {
    const value = text(key);
    if (value !== undefined) trust[field] = value;
  }
  if (trust.pkcs11Module !== undefined) trust.pkcs11Module = resolve(base, expandHome(trust.pkcs11Module, env));

  const path = text('path');
  return { file, trust, ...(path === undefined ? {} : { path: resolve(base, expandHome(path, env)) }) };
}

async function yamlFiles(directory: string): Promise<string[]> {
  const names = await readdir(directory);
  return names
    .filter((name) => ['.yaml', '.yml'].includes(extname(name)))
    .sort()
    .map((name) => join(directory, name));
}

async function fileKind(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const stats = await stat(path);
    return stats.isDirectory() ? 'directory' : 'file';
  } catch {
    return undefined;
  }
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~') return home(env);
  if (path.startsWith('~/')) return join(home(env), path.slice(2));
  return path;
}

function home(env: NodeJS.ProcessEnv): string {
  const value = env.HOME || homedir();
  if (!isAbsolute(value)) throw new VaultError('INVALID_ARGUMENT', `HOME=${value} is not an absolute path`);
  return value;
}
