import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';

import { ENV } from './credentials.js';
import { VaultError } from './errors.js';

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
  if (options.vaultPath) return resolve(options.cwd, expandHome(options.vaultPath, options.env));
  const fromEnv = options.env[ENV.path];
  if (fromEnv) return resolve(options.cwd, expandHome(fromEnv, options.env));

  const fromConfig = await vaultPathFromConfig(options);
  if (fromConfig !== undefined) return fromConfig;

  return join(home(options.env), '.aishell', 'vault');
}

async function vaultPathFromConfig(options: VaultLocationOptions): Promise<string | undefined> {
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
      const path = await readVaultPath(file);
      if (path !== undefined) return resolve(base, expandHome(path, options.env));
    }
    return undefined;
  }
  return undefined;
}

async function readVaultPath(file: string): Promise<string | undefined> {
  const { parse } = await import('yaml');
  let document: unknown;
  try {
    document = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new VaultError('INVALID_ARGUMENT', `cannot read vault.path from ${file}: ${(error as Error).message}`);
  }
  const vault = (document as { vault?: { path?: unknown } } | null)?.vault;
  if (vault?.path === undefined) return undefined;
  if (typeof vault.path !== 'string' || vault.path === '') {
    throw new VaultError('INVALID_ARGUMENT', `${file}: vault.path must be a non-empty string`);
  }
  return vault.path;
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
