import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { open, seal } from './aead.js';
import { canonicalJson, decodeBase64, encodeBase64 } from './encoding.js';
import { VaultError } from './errors.js';
import { writeFileAtomic } from './file-store.js';
import { isObject } from './format.js';

/**
 * Unlock sessions let a person type the master password once. `unlock` writes a session file to
 * a private runtime directory. The file contains the data key encrypted under a random session
 * key, and that key goes only into the token that the shell keeps in AISHELL_VAULT_SESSION.
 * Neither half opens the vault alone. The file carries an idle expiry that each use extends, up
 * to a hard limit, and `lock` deletes the file.
 */

/** A session never outlives this many seconds, however often it is used. */
export const MAX_SESSION_SECONDS = 12 * 60 * 60;

const TOKEN_PREFIX = 'aishell-vault-session-v1';

interface SessionFile {
  version: 1;
  id: string;
  vaultId: string;
  vaultPath: string;
  created: string;
  expires: string;
  idleSeconds: number;
  nonce: string;
  ciphertext: string;
}

export interface SessionInfo {
  token: string;
  expires: Date;
  /** The idle timeout in force: the requested one, capped at MAX_SESSION_SECONDS. */
  idleSeconds: number;
}

/** Returns the private directory for session files, creating it with mode 0700 and refusing one that others can reach. */
export async function sessionDirectory(env: NodeJS.ProcessEnv): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  const directory = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'aishell') : join(tmpdir(), `aishell-${uid}`);
  await mkdir(directory, { recursive: true, mode: 0o700 });

  const stats = await lstat(directory);
  if (!stats.isDirectory() || stats.uid !== uid || (stats.mode & 0o077) !== 0) {
    throw new VaultError(
      'SESSION',
      `session directory ${directory} must be a directory owned by uid ${uid} with mode 0700; fix or remove it`,
    );
  }
  return directory;
}

/** Creates a session for one vault and returns the token that opens it. An idle timeout above MAX_SESSION_SECONDS is capped. */
export async function createSession(options: {
  env: NodeJS.ProcessEnv;
  vaultPath: string;
  vaultId: string;
  dataKey: Buffer;
  idleSeconds: number;
  now: Date;
}): Promise<SessionInfo> {
  const directory = await sessionDirectory(options.env);
  const id = randomBytes(16).toString('hex');
  const sessionKey = randomBytes(32);
  const created = options.now.toISOString();
  const idleSeconds = Math.min(options.idleSeconds, MAX_SESSION_SECONDS);
  const expires = new Date(options.now.getTime() + idleSeconds * 1000);

  const header = {
    version: 1 as const,
    id,
    vaultId: options.vaultId,
    vaultPath: resolve(options.vaultPath),
    created,
    expires: expires.toISOString(),
    idleSeconds,
  };
  await writeSessionFile(directory, header, sessionKey, options.dataKey);

  const token = `${TOKEN_PREFIX}.${id}.${sessionKey.toString('base64url')}`;
  sessionKey.fill(0);
  return { token, expires, idleSeconds };
}

/**
 * Returns the data key of a live session and extends its idle expiry. An expired session's file
 * is deleted. Raises SESSION when the token does not fit this vault.
 */
export async function openSession(options: {
  env: NodeJS.ProcessEnv;
  token: string;
  vaultPath: string;
  now: Date;
}): Promise<{ dataKey: Buffer; vaultId: string; expires: Date }> {
  const { id, sessionKey } = parseToken(options.token);
  const directory = await sessionDirectory(options.env);
  const path = join(directory, `${id}.session`);

  let file: SessionFile;
  try {
    file = parseSessionFile(await readFile(path, 'utf8'));
  } catch (error) {
    if (error instanceof VaultError) throw error;
    throw new VaultError('SESSION', 'the vault session has ended (locked or expired); run `aishell vault unlock` again');
  }

  if (file.vaultPath !== resolve(options.vaultPath)) {
    throw new VaultError('SESSION', `the vault session in AISHELL_VAULT_SESSION belongs to ${file.vaultPath}, not ${resolve(options.vaultPath)}`);
  }
  if (options.now.getTime() >= Date.parse(file.expires)) {
    await unlink(path).catch(() => undefined);
    throw new VaultError('SESSION', `the vault session expired at ${file.expires}; run \`aishell vault unlock\` again`);
  }

  const { nonce, ciphertext, ...header } = file;
  const dataKey = open(sessionKey, { nonce: decodeBase64(nonce, 'session nonce', 12), ciphertext: decodeBase64(ciphertext, 'session ciphertext') }, aadOf(header));
  if (dataKey === undefined) {
    throw new VaultError('SESSION', 'the vault session token does not match its session file; run `aishell vault unlock` again');
  }

  // Slide the idle expiry forward, but never past the hard limit counted from creation.
  const hardLimit = Date.parse(file.created) + MAX_SESSION_SECONDS * 1000;
  const expires = new Date(Math.min(options.now.getTime() + file.idleSeconds * 1000, hardLimit));
  await writeSessionFile(directory, { ...header, expires: expires.toISOString() }, sessionKey, dataKey);
  sessionKey.fill(0);
  return { dataKey, vaultId: file.vaultId, expires };
}

/**
 * Ends sessions: the one of `token` if given, else every session of the vault at `vaultPath`.
 * Returns how many session files were deleted.
 */
export async function endSessions(options: { env: NodeJS.ProcessEnv; vaultPath: string; token?: string }): Promise<number> {
  const directory = await sessionDirectory(options.env);
  const wantedPath = resolve(options.vaultPath);
  let ended = 0;

  for (const name of await readdir(directory)) {
    if (!name.endsWith('.session')) continue;
    const path = join(directory, name);
    let file: SessionFile;
    try {
      file = parseSessionFile(await readFile(path, 'utf8'));
    } catch {
      continue;
    }
    const matchesToken = options.token !== undefined && parseToken(options.token).id === file.id;
    if (matchesToken || file.vaultPath === wantedPath) {
      await unlink(path).catch(() => undefined);
      ended += 1;
    }
  }
  return ended;
}

async function writeSessionFile(
  directory: string,
  header: Omit<SessionFile, 'nonce' | 'ciphertext'>,
  sessionKey: Buffer,
  dataKey: Buffer,
): Promise<void> {
  const sealed = seal(sessionKey, dataKey, aadOf(header));
  const file: SessionFile = { ...header, nonce: encodeBase64(sealed.nonce), ciphertext: encodeBase64(sealed.ciphertext) };
  await writeFileAtomic(join(directory, `${header.id}.session`), `${canonicalJson(file)}\n`, { keepBackup: false });
}

/** Returns the AAD of a session file: the whole header, expiry included, so editing the file cannot extend a session. */
function aadOf(header: Omit<SessionFile, 'nonce' | 'ciphertext'>): Buffer {
  return Buffer.from(canonicalJson(header), 'utf8');
}

function parseToken(token: string): { id: string; sessionKey: Buffer } {
  const parts = token.split('.');
  const sessionKey = parts.length === 3 ? Buffer.from(parts[2], 'base64url') : Buffer.alloc(0);
  if (parts[0] !== TOKEN_PREFIX || !/^[0-9a-f]{32}$/.test(parts[1] ?? '') || sessionKey.length !== 32) {
    throw new VaultError('SESSION', 'AISHELL_VAULT_SESSION does not contain a vault session token; run `aishell vault unlock` again');
  }
  return { id: parts[1], sessionKey };
}

function parseSessionFile(text: string): SessionFile {
  const value: unknown = JSON.parse(text);
  if (!isObject(value) || value.version !== 1 || typeof value.id !== 'string' || typeof value.vaultPath !== 'string') {
    throw new VaultError('SESSION', 'the vault session file is invalid; run `aishell vault unlock` again');
  }
  return value as unknown as SessionFile;
}
