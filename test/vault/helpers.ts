import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createVault, type Vault } from '../../engine/vault/index.js';

/** scrypt log2 N used by the suite: the floor of AISHELL_VAULT_KDF_COST, about 1 ms per derivation. */
export const TEST_KDF_COST = '10';

export const PASSWORD = 'correct horse battery staple';

export interface TempVault {
  dir: string;
  path: string;
  env: NodeJS.ProcessEnv;
  vault: Vault;
  cleanup: () => Promise<void>;
}

/** Creates a private temp directory; the caller removes it with the returned cleanup. */
export async function makeTempDir(prefix = 'aishell-vault-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Environment for vault calls: a low KDF cost and a session directory inside the temp dir. */
export function testEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { AISHELL_VAULT_KDF_COST: TEST_KDF_COST, XDG_RUNTIME_DIR: join(dir, 'run'), HOME: dir, ...extra };
}

/** Creates a fresh vault file with the test password in a new temp directory. */
export async function makeTempVault(options: { now?: () => Date; keyFile?: string } = {}): Promise<TempVault> {
  const { dir, cleanup } = await makeTempDir();
  const path = join(dir, 'vault');
  const env = testEnv(dir);
  const vault = await createVault({ path, env, password: PASSWORD, now: options.now, keyFile: options.keyFile });
  return { dir, path, env, vault, cleanup };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `aishell vault ARGS` in-process with captured output and a non-terminal stdin. */
export async function runCli(args: string[], options: { env: NodeJS.ProcessEnv; stdin?: string; cwd?: string }): Promise<CliResult> {
  const { Readable } = await import('node:stream');
  const { runVaultCommand } = await import('../../engine/vault/cli.js');
  let stdout = '';
  let stderr = '';
  const code = await runVaultCommand(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: options.env,
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}

/**
 * Compiles the vault modules to JavaScript for child processes, which cannot load TypeScript on
 * Node 20. The output lives under node_modules/.cache so that package imports resolve.
 */
export async function buildVaultForChildren(): Promise<{ entry: string; cleanup: () => Promise<void> }> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { mkdir: makeDirectory, mkdtemp: makeTemp } = await import('node:fs/promises');
  const root = join(import.meta.dirname, '..', '..');
  const cache = join(root, 'node_modules', '.cache');
  await makeDirectory(cache, { recursive: true });
  const outDir = await makeTemp(join(cache, 'aishell-vault-test-'));

  await promisify(execFile)(
    process.execPath,
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      join(root, 'engine', 'vault', 'index.ts'),
      join(root, 'engine', 'vault', 'cli.ts'),
      '--ignoreConfig',
      '--outDir', outDir,
      '--rootDir', root,
      '--module', 'nodenext',
      '--moduleResolution', 'nodenext',
      '--target', 'es2022',
      '--skipLibCheck',
      '--types', 'node',
    ],
    { cwd: root },
  );
  return { entry: join(outDir, 'engine', 'vault', 'index.js'), cleanup: () => rm(outDir, { recursive: true, force: true }) };
}
