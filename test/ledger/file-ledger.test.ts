import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { leafHash } from '../../engine/ledger/merkle.js';
import { applyRecords, ledgerFixture, type LedgerFixture } from './helpers.js';

let fixture: LedgerFixture;

beforeEach(async () => {
  fixture = await ledgerFixture();
});

afterEach(async () => {
  await fixture.cleanup();
});

describe('file ledger append', () => {
  it('appends records and reads them back', async () => {
    const ledger = await fixture.open();
    const written = await ledger.append(applyRecords('prod/app', 2));
    await ledger.close();

    expect(written.map((record) => record.seq)).toEqual([2, 3, 4]);
    expect(written[0].actor.user).toBeTypeOf('string');
    expect(written[0].run).toBe(written[2].run);

    const reader = await fixture.open();
    const records = await reader.read({ kind: 'apply' });
    expect(records.map((record) => record.address)).toEqual([
      'prod/app: grant SELECT on table public.t0 to readonly',
      'prod/app: grant SELECT on table public.t1 to readonly',
      undefined,
    ]);
    expect(records[0].details).toEqual({ change: 'grant', destructive: false, statements: ['GRANT SELECT ON TABLE public.t0 TO readonly'] });

    const all = await reader.read();
    expect(all.map((record) => record.kind)).toEqual([
      'ledger.open',
      'ledger.signer',
      'apply.change',
      'apply.change',
      'apply.summary',
      'ledger.checkpoint',
    ]);
    await reader.close();
  });

  it('chains each record to the previous line', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 3));
    await ledger.close();

    const lines = await fixture.lines();
    const records = lines.map((line) => JSON.parse(line) as { seq: number; prev: string });
    expect(records[0].prev).toBe('0'.repeat(64));
    for (let index = 1; index < lines.length; index += 1) {
      expect(records[index].seq).toBe(index);
      expect(records[index].prev).toBe(leafHash(lines[index - 1]).toString('hex'));
    }
  });

  it('creates the key with mode 0600 and rejects a readable one', async () => {
    const ledger = await fixture.open();
    await ledger.append([{ kind: 'vault.read', target: 'vault:db', details: { entry: 'db', version: 1 }, outcome: 'ok' }]);
    await ledger.close();

    expect((await stat(fixture.keyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(fixture.path)).mode & 0o777).toBe(0o600);

    const { chmod } = await import('node:fs/promises');
    await chmod(fixture.keyPath, 0o644);
    const again = await fixture.open();
    await again.append([{ kind: 'vault.read', target: 'vault:db', details: { entry: 'db' } }]);
    await expect(again.checkpoint()).rejects.toThrow(/readable by other users \(mode 644\); run chmod 600/);
  });

  it('masks values under secret keys and SQL password literals', async () => {
    const ledger = await fixture.open();
    const [record] = await ledger.append([
      {
        kind: 'apply.change',
        target: 'prod/app',
        address: 'prod/app: alter role app password',
        details: {
          operation: 'alter_role',
          password: 'hunter2-secret',
          nested: { apiToken: 'tok-123', passwordChanged: true },
          statements: ["ALTER ROLE app WITH LOGIN PASSWORD 'hunter2-secret'", "CREATE USER 'u'@'%' IDENTIFIED BY 's3cr3t'"],
        },
        outcome: 'ok',
      },
    ]);
    await ledger.close();

    expect(record.details).toEqual({
      operation: 'alter_role',
      password: '***',
      nested: { apiToken: '***', passwordChanged: true },
      statements: ["ALTER ROLE app WITH LOGIN PASSWORD '***'", "CREATE USER 'u'@'%' IDENTIFIED BY '***'"],
    });
    expect(record.masked).toEqual(['details.password', 'details.nested.apiToken', 'details.statements[0]', 'details.statements[1]']);

    const text = await readFile(fixture.path, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('tok-123');
    expect(text).not.toContain('s3cr3t');
  });

  it('rejects floats, bad kinds and forged internal kinds', async () => {
    const ledger = await fixture.open();
    await expect(ledger.append([{ kind: 'apply.change', details: { ratio: 0.5 } }])).rejects.toThrow(/invalid number 0.5 at \$.details.ratio/);
    await expect(ledger.append([{ kind: 'Apply' }])).rejects.toThrow(/invalid record kind "Apply"/);
    await expect(ledger.append([{ kind: 'ledger.checkpoint', details: {} }])).rejects.toThrow(/written by the ledger itself/);
    await ledger.close();
  });

  it('writes the checkpoint to the anchor file', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 1));
    const result = await ledger.checkpoint();
    await ledger.close();

    expect(result?.checkpoint.size).toBe(4);
    expect(result?.stored).toEqual([`anchor file ${fixture.anchorPath}`]);
    const anchor = JSON.parse(await readFile(fixture.anchorPath, 'utf8')) as { heads: Record<string, { size: number; note: string }> };
    const [head] = Object.values(anchor.heads);
    expect(head.size).toBe(4);
    expect(head.note).toBe(result?.checkpoint.note);
    expect((await stat(fixture.anchorPath)).mode & 0o777).toBe(0o600);
  });

  it('keeps the previous checkpoint when nothing was appended', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 1));
    const first = await ledger.checkpoint();
    const second = await ledger.checkpoint();
    await ledger.close();

    expect(second?.reused).toBe(true);
    expect(second?.seq).toBe(first?.seq);
    expect((await fixture.lines()).length).toBe(5);
  });
});

describe('file ledger crash repair', () => {
  it('removes a torn last line on the next append', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 2));
    await ledger.close();
    const before = await fixture.lines();

    // A crash in the middle of a write leaves part of a line and no newline.
    const partial = '{"actor":{"host":"h","user":"u"},"details":{},"kind":"apply.change","prev":"ab';
    await appendFile(fixture.path, partial);

    const report = await (await fixture.open()).verify();
    expect(report.warnings.some((warning) => warning.includes(`last ${partial.length} bytes are an incomplete line`))).toBe(true);

    const writer = await fixture.open();
    const written = await writer.append([{ kind: 'plan.drift', target: 'prod/app', details: { drift: 1 }, outcome: 'found' }]);
    await writer.close();

    expect(written.map((record) => record.kind)).toEqual(['plan.drift']);
    const after = await fixture.lines();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.some((line) => line.includes('"apply.change","prev":"ab"'))).toBe(false);

    const kinds = after.map((line) => (JSON.parse(line) as { kind: string }).kind);
    expect(kinds.slice(before.length)).toEqual(['ledger.repair', 'plan.drift', 'ledger.checkpoint']);
    const repairRecord = JSON.parse(after[before.length]) as { details: { removedBytes: number } };
    expect(repairRecord.details.removedBytes).toBe(partial.length);

    const verified = await (await fixture.open()).verify();
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  it('restores the newline after a complete last record', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 2));
    await ledger.close();
    const before = await fixture.lines();

    // The crash came after the last record's bytes but before its newline.
    const text = await readFile(fixture.path, 'utf8');
    await writeFile(fixture.path, text.slice(0, -1));
    const lastSeq = before.length - 1;

    const report = await (await fixture.open()).verify();
    expect(report.warnings).toContain(
      `record seq ${lastSeq} is complete but lacks its final newline, so it was not checked; the next append or \`aishell audit repair\` adds the newline`,
    );

    const writer = await fixture.open();
    await writer.append([{ kind: 'plan.drift', target: 'prod/app', details: { changes: 1 }, outcome: 'found' }]);
    await writer.close();

    const after = await fixture.lines();
    expect(after.slice(0, before.length)).toEqual(before);
    const repair = JSON.parse(after[before.length]) as { kind: string; details: Record<string, unknown> };
    expect(repair.kind).toBe('ledger.repair');
    expect(repair.details).toEqual({ reason: `added the newline missing after record seq ${lastSeq}, which was complete`, restoredNewline: lastSeq });

    const verified = await (await fixture.open()).verify();
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  it('repair command restores a missing final newline', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 1));
    await ledger.close();
    const text = await readFile(fixture.path, 'utf8');
    await writeFile(fixture.path, text.slice(0, -1));

    const repairer = await fixture.open();
    const lastSeq = text.trimEnd().split('\n').length - 1;
    expect(await repairer.repair()).toEqual({ removedBytes: 0, restoredNewline: lastSeq });
    await repairer.close();

    expect((await readFile(fixture.path, 'utf8')).startsWith(text)).toBe(true);
    expect((await (await fixture.open()).verify()).ok).toBe(true);
  });

  it('cuts a complete record that does not continue the chain', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 1));
    await ledger.close();
    const lines = await fixture.lines();
    const text = await readFile(fixture.path, 'utf8');

    // A valid record without newline, but a copy of an earlier one: not the next record.
    await writeFile(fixture.path, `${text}${lines[2]}`);
    const repairer = await fixture.open();
    expect(await repairer.repair()).toEqual({ removedBytes: lines[2].length });
    await repairer.close();
    expect((await fixture.lines()).slice(0, lines.length)).toEqual(lines);
  });

  it('repair command removes only the torn line', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 1));
    await ledger.close();
    const before = await readFile(fixture.path, 'utf8');
    await writeFile(fixture.path, `${before}{"torn":`);

    const repairer = await fixture.open();
    expect(await repairer.repair()).toEqual({ removedBytes: 8 });
    expect(await repairer.repair()).toBeUndefined();
    await repairer.close();

    const after = await readFile(fixture.path, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    const report = await (await fixture.open()).verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
