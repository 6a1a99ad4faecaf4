import { execFile } from 'node:child_process';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
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

  it('takes over a lock left by a dead process', async () => {
    const temp = await makeTempVault();
    try {
      const lock = `${temp.path}.lock`;
      await mkdir(lock);
      const longAgo = new Date(Date.now() - 60_000);
      await utimes(lock, longAgo, longAgo);

      await temp.vault.put('after-stale-lock', 'value');
      expect(await temp.vault.get('after-stale-lock')).toBe('value');
    } finally {
      await temp.cleanup();
    }
  });
});
