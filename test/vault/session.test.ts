import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createSession, endSessions, MAX_SESSION_SECONDS, openSession } from '../../engine/vault/session.js';
import { makeTempDir, testEnv } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let env: NodeJS.ProcessEnv;
const dataKey = randomBytes(32);
const t0 = new Date('2030-05-01T12:00:00Z');
const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  env = testEnv(dir);
});
afterEach(async () => {
  await cleanup();
});

async function sessionFiles(): Promise<string[]> {
  return (await readdir(join(dir, 'run', 'aishell'))).filter((name) => name.endsWith('.session'));
}

describe('vault sessions', () => {
  it('returns the data key and slides the idle expiry', async () => {
    const vaultPath = join(dir, 'vault');
    const { token } = await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: 60, now: t0 });

    const first = await openSession({ env, token, vaultPath, now: later(50) });
    expect(first.dataKey.equals(dataKey)).toBe(true);
    expect(first.expires.toISOString()).toBe(later(110).toISOString());

    const second = await openSession({ env, token, vaultPath, now: later(100) });
    expect(second.dataKey.equals(dataKey)).toBe(true);
  });

  it('ends after the idle timeout and deletes the file', async () => {
    const vaultPath = join(dir, 'vault');
    const { token } = await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: 60, now: t0 });
    await expect(openSession({ env, token, vaultPath, now: later(60) })).rejects.toMatchObject({ code: 'SESSION' });
    expect(await sessionFiles()).toEqual([]);
  });

  it('ends at the hard limit however often it is used', async () => {
    const vaultPath = join(dir, 'vault');
    const { token } = await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: MAX_SESSION_SECONDS, now: t0 });
    const used = await openSession({ env, token, vaultPath, now: later(MAX_SESSION_SECONDS - 10) });
    expect(used.expires.toISOString()).toBe(later(MAX_SESSION_SECONDS).toISOString());
    await expect(openSession({ env, token, vaultPath, now: later(MAX_SESSION_SECONDS) })).rejects.toMatchObject({ code: 'SESSION' });
  });

  it('rejects an edited expiry', async () => {
    const vaultPath = join(dir, 'vault');
    const { token } = await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: 60, now: t0 });
    const [name] = await sessionFiles();
    const file = join(dir, 'run', 'aishell', name);
    const content = JSON.parse(await readFile(file, 'utf8')) as { expires: string };
    content.expires = later(100_000).toISOString();
    await writeFile(file, JSON.stringify(content));

    const error = await openSession({ env, token, vaultPath, now: later(120) }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SESSION' });
    expect((error as Error).message).toContain('does not match');
  });

  it('rejects a wrong key, a malformed token and another vault', async () => {
    const vaultPath = join(dir, 'vault');
    const { token } = await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: 60, now: t0 });
    const [prefix, id] = token.split('.');
    const wrongKey = `${prefix}.${id}.${randomBytes(32).toString('base64url')}`;

    await expect(openSession({ env, token: wrongKey, vaultPath, now: t0 })).rejects.toMatchObject({ code: 'SESSION' });
    await expect(openSession({ env, token: 'garbage', vaultPath, now: t0 })).rejects.toMatchObject({ code: 'SESSION' });
    await expect(openSession({ env, token, vaultPath: join(dir, 'other'), now: t0 })).rejects.toMatchObject({ code: 'SESSION' });
  });

  it('keeps the data key out of the session file', async () => {
    const vaultPath = join(dir, 'vault');
    const { token } = await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: 60, now: t0 });
    const [name] = await sessionFiles();
    const content = await readFile(join(dir, 'run', 'aishell', name));
    expect(content.includes(dataKey)).toBe(false);
    expect(content.includes(Buffer.from(dataKey.toString('base64')))).toBe(false);
    expect(content.includes(Buffer.from(token.split('.')[2]))).toBe(false);
  });

  it('ends every session of one vault', async () => {
    const vaultPath = join(dir, 'vault');
    await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: 60, now: t0 });
    await createSession({ env, vaultPath, vaultId: 'id-1', dataKey, idleSeconds: 60, now: t0 });
    await createSession({ env, vaultPath: join(dir, 'other'), vaultId: 'id-2', dataKey, idleSeconds: 60, now: t0 });
    expect(await endSessions({ env, vaultPath })).toBe(2);
    expect(await sessionFiles()).toHaveLength(1);
  });
});
