import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { applyRecords, ledgerFixture, type LedgerFixture } from './helpers.js';

// Runs the recipe from docs/ledger.md exactly as printed there, so the page cannot drift from
// the format. Needs python3, openssl and jq on PATH, like an auditor's machine.
const hasTools = ['python3', 'openssl', 'jq'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

let fixture: LedgerFixture;

async function docBlocks(language: string): Promise<string[]> {
  const doc = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'ledger.md'), 'utf8');
  return [...doc.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]);
}

beforeEach(async () => {
  fixture = await ledgerFixture();
  for (const target of ['prod/app', 'stage/app']) {
    const ledger = await fixture.open();
    await ledger.append(applyRecords(target, 3));
    await ledger.close();
  }
  const ledger = await fixture.open();
  const head = await ledger.checkpoint();
  await ledger.close();
  await writeFile(join(fixture.dir, 'head.txt'), head?.checkpoint.note ?? '');
  await writeFile(join(fixture.dir, 'verify_ledger.py'), (await docBlocks('python'))[0]);
});

afterEach(async () => {
  await fixture.cleanup();
});

describe.skipIf(!hasTools)('auditor recipe in docs/ledger.md', () => {
  it('accepts an intact ledger and its signature', async () => {
    const check = spawnSync('python3', ['verify_ledger.py', fixture.path, 'head.txt'], { cwd: fixture.dir, encoding: 'utf8' });
    expect(check.stdout).toMatch(/: OK\n$/);
    expect(check.status).toBe(0);

    const [signature] = (await docBlocks('sh')).filter((block) => block.includes('openssl pkeyutl'));
    const script = signature.replaceAll(' ledger ', ` ${fixture.path} `);
    const output = execFileSync('bash', ['-c', script], { cwd: fixture.dir, encoding: 'utf8' });
    expect(output).toContain('Signature Verified Successfully');
  });

  it('rejects an edited and a truncated ledger', async () => {
    const lines = await fixture.lines();
    const edited = [...lines];
    edited[3] = edited[3].replace('public.t1', 'public.t5');
    await fixture.writeLines(edited);
    const changed = spawnSync('python3', ['verify_ledger.py', fixture.path, 'head.txt'], { cwd: fixture.dir, encoding: 'utf8' });
    expect(changed.status).toBe(1);
    expect(changed.stdout).toContain('seq 4: prev does not match');

    await fixture.writeLines(lines.slice(0, 8));
    const cut = spawnSync('python3', ['verify_ledger.py', fixture.path, 'head.txt'], { cwd: fixture.dir, encoding: 'utf8' });
    expect(cut.status).toBe(1);
    expect(cut.stdout).toContain('truncated');
  });

  it('rejects a head whose body was changed', async () => {
    const head = await readFile(join(fixture.dir, 'head.txt'), 'utf8');
    const [origin, size, ...rest] = head.split('\n');
    await writeFile(join(fixture.dir, 'head.txt'), [origin, String(Number(size) - 1), ...rest].join('\n'));

    const [signature] = (await docBlocks('sh')).filter((block) => block.includes('openssl pkeyutl'));
    const result = spawnSync('bash', ['-c', signature.replaceAll(' ledger ', ` ${fixture.path} `)], { cwd: fixture.dir, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain('Signature Verification Failure');
  });
});
