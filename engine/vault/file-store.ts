import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { VaultError } from './errors.js';
import { MAX_FILE_BYTES } from './format.js';

/** How long a writer waits for the lock before giving up, in milliseconds (an estimate: retries back off up to 250 ms). */
const LOCK_WAIT_MS = 30_000;

/** A lock whose holder has not refreshed it for this long, in milliseconds, is taken over. */
const LOCK_STALE_MS = 10_000;

/** Error codes of a file system that refuses writes, as opposed to a busy lock. */
export const READ_ONLY_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Reads the vault file; a missing file raises NOT_FOUND naming the path and the command that creates it. */
export async function readVaultText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    // Check the size first, so a huge file at the vault path is not read into memory.
    if ((await stat(path)).size > MAX_FILE_BYTES) {
      throw new VaultError('FORMAT', `${path} is larger than ${MAX_FILE_BYTES} bytes; it is not a vault file`);
    }
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof VaultError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new VaultError('NOT_FOUND', `no vault at ${path}; create one with \`aishell vault init\` or pass --vault-path`);
    }
    throw new VaultError('NOT_FOUND', `cannot read vault ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (bytes.length > MAX_FILE_BYTES) {
    throw new VaultError('FORMAT', `${path} is larger than ${MAX_FILE_BYTES} bytes; it is not a vault file`);
  }
  return bytes.toString('utf8');
}

/**
 * Runs `work` while holding the vault's writer lock (a `<path>.lock` directory, refreshed while
 * held). Every read-modify-write of the vault runs inside this, so concurrent writers in other
 * processes serialize instead of overwriting each other's update.
 */
export async function withWriteLock<T>(path: string, work: (assertHeld: () => void) => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const lockfile = await import('proper-lockfile');

  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: { retries: Math.ceil(LOCK_WAIT_MS / 250), minTimeout: 10, maxTimeout: 250, factor: 1.5, randomize: true },
      onCompromised: (error) => {
        compromised = error;
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && READ_ONLY_CODES.has(code)) {
      throw new VaultError('LOCKED', `cannot create the lock ${path}.lock: ${code}; the vault directory is not writable`, { cause: error });
    }
    throw new VaultError(
      'LOCKED',
      `another process holds the lock on ${path} (${path}.lock); retry, or remove the lock directory if no aishell process is running`,
      { cause: error },
    );
  }

  await removeStaleTemporaries(path);

  const assertHeld = () => {
    if (compromised) {
      throw new VaultError('LOCKED', `lost the lock on ${path}: ${compromised.message}; nothing was written`);
    }
  };

  try {
    return await work(assertHeld);
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Replaces the file atomically: write a temporary file in the same directory with mode 0600,
 * fsync it, rename it over the target and fsync the directory. With `keepBackup`, the previous
 * generation is first hard-linked to `<path>.bak`, so a crash at any point leaves a valid file.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: { keepBackup: boolean; assertHeld?: () => void },
): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });

  const suffix = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const temporary = join(directory, `.${basename(path)}.tmp-${suffix}`);
  const handle = await open(temporary, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw new VaultError('LOCKED', `cannot write ${temporary}: ${(error as Error).message}; ${path} is unchanged`, { cause: error });
  }
  await handle.close();

  try {
    options.assertHeld?.();
    if (options.keepBackup) await linkBackup(path, suffix);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    if (error instanceof VaultError) throw error;
    throw new VaultError('LOCKED', `cannot replace ${path}: ${(error as Error).message}; it is unchanged`, { cause: error });
  }

  await syncDirectory(directory);
}

/**
 * Deletes temporary files that a writer killed mid-save left behind. Writers create them only
 * while holding the lock, so any that exist when the lock is taken are abandoned.
 */
async function removeStaleTemporaries(path: string): Promise<void> {
  const directory = dirname(path);
  const prefixes = [`.${basename(path)}.tmp-`, `${basename(backupPath(path))}.tmp-`];
  for (const name of await readdir(directory)) {
    if (prefixes.some((prefix) => name.startsWith(prefix))) {
      await unlink(join(directory, name)).catch(() => undefined);
    }
  }
}

/** Path of the previous generation kept by every save. */
export function backupPath(path: string): string {
  return `${path}.bak`;
}

async function linkBackup(path: string, suffix: string): Promise<void> {
  const staging = `${backupPath(path)}.tmp-${suffix}`;
  try {
    await link(path, staging);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP') throw error;
    // Some file systems have no hard links; a copy is slower but equally valid.
    await copyFile(path, staging, fsConstants.COPYFILE_EXCL);
  }
  await rename(staging, backupPath(path));
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
