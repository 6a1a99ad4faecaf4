import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { VaultDocument } from '../../engine/vault/format.js';
import { openVault } from '../../engine/vault/index.js';
import { buildVaultForChildren, makeTempVault, PASSWORD } from './helpers.js';

const run = promisify(execFile);
let build: { entry: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  build = await buildVaultForChildren();
});
afterAll(async () => {
  await build?.cleanup();
});

/** A child process that opens the vault and stores COUNT entries named PREFIX-i. */
const WRITER = `
const [entry, path, prefix, count] = process.argv.slice(2);
const { openVault } = await import(entry);
const vault = await openVault({ path, env: process.env, password: process.env.TEST_PASSWORD });
for (let i = 0; i < Number(count); i += 1) {
  await vault.put(prefix + '-' + i, 'value-' + prefix + '-' + i);
  if (process.env.REPORT_PROGRESS) process.stdout.write(i + '\\n');
}
vault.lock();
`;

describe('vault concurrency', () => {
  it('keeps every update of concurrent writer processes', async () => {
    const temp = await makeTempVault();
    try {
      const script = join(temp.dir, 'writer.mjs');
      await writeFile(script, WRITER);
      const writers = ['alpha', 'beta', 'gamma', 'delta'];
      const perWriter = 25;

      await Promise.all(
        writers.map((prefix) =>
          run(process.execPath, [script, build.entry, temp.path, prefix, String(perWriter)], {
            env: { ...temp.env, TEST_PASSWORD: PASSWORD, PATH: process.env.PATH },
          }),
        ),
      );

      const vault = await openVault({ path: temp.path, env: temp.env, password: PASSWORD });
      const names = (await vault.entries()).map((entry) => entry.name);
      expect(names).toHaveLength(writers.length * perWriter);
      for (const prefix of writers) {
        expect(await vault.get(`${prefix}-${perWriter - 1}`)).toBe(`value-${prefix}-${perWriter - 1}`);
      }
      const document = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      // Generation 1 is the empty vault; each store adds one, and the two reads above add two.
      expect(document.generation).toBe(1 + writers.length * perWriter + writers.length);
    } finally {
      await temp.cleanup();
    }
  });

  it('leaves a valid file when a writer is killed', async () => {
    const temp = await makeTempVault();
    try {
      const script = join(temp.dir, 'writer.mjs');
      await writeFile(script, WRITER);
      const env = { ...temp.env, TEST_PASSWORD: PASSWORD, PATH: process.env.PATH };

      // Kill writers after different numbers of completed saves. Where inside the next save each
      // one dies is left to chance.
      for (const completed of [1, 7, 23]) {
        const child = spawn(process.execPath, [script, build.entry, temp.path, `killed${completed}`, '1000'], {
          env: { ...env, REPORT_PROGRESS: '1' },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        await new Promise<void>((resolve, reject) => {
          let output = '';
          child.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString('utf8');
            if (output.split('\n').length > completed) resolve();
          });
          child.on('close', (code) => reject(new Error(`writer exited with ${code} after ${output.split('\n').length - 1} saves`)));
        });
        child.kill('SIGKILL');
        await new Promise((resolve) => child.on('close', resolve));
        await ageLock(`${temp.path}.lock`);

        const vault = await openVault({ path: temp.path, env: temp.env, password: PASSWORD });
        const backup = await openVault({ path: `${temp.path}.bak`, env: temp.env, password: PASSWORD });
        expect((await vault.info()).generation).toBeGreaterThanOrEqual((await backup.info()).generation);
        expect(await vault.has(`killed${completed}-${completed - 1}`)).toBe(true);
      }

      // The next writer takes over the dead writer's lock and removes its temporary files.
      await temp.vault.put('after-kills', 'value');
      const leftovers = (await readdir(temp.dir)).filter((name) => name.includes('.tmp-'));
      expect(leftovers).toEqual([]);
    } finally {
      await temp.cleanup();
    }
  });

  it('takes over a lock left by a dead process', async () => {
    const temp = await makeTempVault();
    try {
      const lock = `${temp.path}.lock`;
      await mkdir(lock);
      await ageLock(lock);

      await temp.vault.put('after-stale-lock', 'value');
      expect(await temp.vault.get('after-stale-lock')).toBe('value');
    } finally {
      await temp.cleanup();
    }
  });
});

/** Backdates a lock left by a killed writer, as if its 10-second stale threshold had passed. */
async function ageLock(lock: string): Promise<void> {
  const longAgo = new Date(Date.now() - 60_000);
  await utimes(lock, longAgo, longAgo).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
