import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { CommandIo } from '../../engine/cli/io.js';
import { canonicalJson } from '../../engine/ledger/canonical.js';
import { runAuditCommand } from '../../engine/ledger/cli.js';
import type { LedgerRecord } from '../../engine/ledger/index.js';
import { CompactRange, leafHash } from '../../engine/ledger/merkle.js';
import { applyRecords, ledgerFixture, type LedgerFixture } from './helpers.js';

let fixture: LedgerFixture;

function makeIo(): CommandIo & { out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env: { HOME: fixture.dir, USER: 'tester', AISHELL_LEDGER: fixture.path, AISHELL_LEDGER_ANCHOR: fixture.anchorPath },
    cwd: fixture.dir,
    out: () => stdout,
    err: () => stderr,
  };
}

async function audit(...args: string[]) {
  const io = makeIo();
  const code = await runAuditCommand(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

beforeEach(async () => {
  fixture = await ledgerFixture();
  const ledger = await fixture.open();
  await ledger.append(applyRecords('prod/app', 2));
  await ledger.append([
    { kind: 'vault.read', target: 'vault:prod-db', details: { entry: 'prod-db', version: 2 }, outcome: 'ok' },
    { kind: 'plan.drift', target: 'stage/app', address: 'stage/app: revoke INSERT on table public.x from app', details: { operation: 'revoke' }, outcome: 'found' },
    { kind: 'apply.change', target: 'stage/app', address: '=HYPERLINK("http://x")', details: { operation: 'grant' }, outcome: 'failed' },
  ]);
  await ledger.close();
});

afterEach(async () => {
  await fixture.cleanup();
});

describe('aishell audit', () => {
  it('log filters by target, kind and operation', async () => {
    const all = await audit('log', '--kind', 'apply.change');
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(3);

    const prod = await audit('log', '--target', 'prod/*', '--kind', 'apply.change', '--format', 'json');
    const records = JSON.parse(prod.stdout) as { seq: number; target: string }[];
    expect(records.map((record) => record.seq)).toEqual([2, 3]);

    const revokes = await audit('log', '--operation', 'revoke', '--format', 'json');
    expect((JSON.parse(revokes.stdout) as { kind: string }[]).map((record) => record.kind)).toEqual(['plan.drift']);

    const limited = await audit('log', '--limit', '2', '--format', 'json');
    expect((JSON.parse(limited.stdout) as { kind: string }[]).map((record) => record.kind)).toEqual(['apply.change', 'ledger.checkpoint']);

    const future = await audit('log', '--since', '2999-01-01T00:00:00Z');
    expect(future.stdout).toBe('');
    expect(future.stderr).toBe('no matching records\n');

    const actor = await audit('log', '--actor', 'nobody-else', '--format', 'json');
    expect(JSON.parse(actor.stdout)).toEqual([]);
  });

  it('search and show find records', async () => {
    const search = await audit('search', 'PUBLIC.T1');
    expect(search.code).toBe(0);
    expect(search.stdout).toContain('prod/app: grant SELECT on table public.t1 to readonly');
    expect(search.stdout.trim().split('\n')).toHaveLength(1);

    const show = await audit('show', '3');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('seq       3');
    expect(show.stdout).toContain('"operation": "grant"');

    const missing = await audit('show', '999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('record seq 999 not found');
  });

  it('verify reports an intact ledger and then the edited record', async () => {
    const intact = await audit('verify');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain(': intact');
    expect(intact.stdout).toContain(`anchor      anchor file ${fixture.anchorPath}: ok`);

    const lines = await fixture.lines();
    lines[3] = lines[3].replace('public.t1', 'public.t2');
    await fixture.writeLines(lines);

    const broken = await audit('verify', '--format', 'json');
    expect(broken.code).toBe(1);
    const report = JSON.parse(broken.stdout) as { ok: boolean; firstBadSeq: number };
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(3);

    const text = await audit('verify');
    expect(text.stdout).toContain('NOT intact, first bad record: seq 3');
  });

  it('checkpoint prints a note that verify accepts', async () => {
    const head = await audit('checkpoint');
    expect(head.code).toBe(0);
    expect(head.stdout).toMatch(/^aishell\.ledger\/[0-9a-f-]+\n\d+\n[A-Za-z0-9+/=]+\n\n\u2014 aishell-ledger-[0-9a-f]{8} \S+\n$/);
    const file = join(fixture.dir, 'head.txt');
    await writeFile(file, head.stdout);

    const verified = await audit('verify', '--checkpoint', file, '--anchor', join(fixture.dir, 'other.anchor'));
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`anchor      ${file}: ok`);

    const key = await audit('public-key');
    const pinned = await audit('verify', '--checkpoint', file, '--trusted-key', key.stdout.trim());
    expect(pinned.code).toBe(0);

    // Truncating the ledger below the kept head is caught even with the anchor file gone.
    const lines = await fixture.lines();
    await fixture.writeLines(lines.slice(0, 5));
    const truncated = await audit('verify', '--checkpoint', file, '--anchor', join(fixture.dir, 'other.anchor'));
    expect(truncated.code).toBe(1);
    expect(truncated.stdout).toContain('first bad record: seq 5');
  });

  it('export writes CSV with formula cells defused', async () => {
    const result = await audit('export', '--format', 'csv', '--kind', 'apply.change');
    expect(result.code).toBe(0);
    const rows = result.stdout.trim().split('\r\n');
    expect(rows[0]).toBe('seq,time,kind,user,host,ci_system,pipeline,ci_run,commit,branch,triggered_by,target,address,operation,outcome,details');
    expect(rows).toHaveLength(4);
    expect(rows[3]).toContain(`"'=HYPERLINK(""http://x"")"`);
  });

  it('export writes JSON with the latest checkpoint', async () => {
    const out = join(fixture.dir, 'export.json');
    const result = await audit('export', '--out', out);
    expect(result.code).toBe(0);
    const document = JSON.parse(await readFile(out, 'utf8')) as { records: LedgerRecord[]; checkpoint: { note: string; seq: number } };
    expect(document.records).toHaveLength((await fixture.lines()).length);
    expect(document.checkpoint.note).toContain('aishell.ledger/');

    // Re-encoding the exported records gives back the hashed bytes, so the export still verifies.
    const range = new CompactRange();
    document.records.slice(0, document.checkpoint.seq).forEach((record, index) => {
      const line = canonicalJson(record);
      if (index > 0) {
        expect(record.prev).toBe(leafHash(canonicalJson(document.records[index - 1])).toString('hex'));
      }
      range.append(leafHash(line));
    });
    expect(range.root().toString('base64')).toBe(document.checkpoint.note.split('\n')[2]);
  });

  it('summary counts events, failures, drift and vault reads', async () => {
    const result = await audit('summary', '--format', 'json');
    const summary = JSON.parse(result.stdout) as {
      events: number;
      applies: { changes: number; failed: number; failedSeqs: number[] };
      drift: { found: number };
      vault: { reads: number };
      byOperation: Record<string, number>;
    };
    expect(summary.events).toBe(6);
    expect(summary.applies).toMatchObject({ changes: 3, failed: 1 });
    expect(summary.drift.found).toBe(1);
    expect(summary.vault.reads).toBe(1);
    expect(summary.byOperation).toEqual({ grant: 3, summary: 1, read: 1, revoke: 1 });

    const text = await audit('summary');
    expect(text.stdout).toContain('applies     3 changes, 1 failed, 0 rolled back');
  });

  it('rejects unknown commands and bad options', async () => {
    const unknown = await audit('frobnicate');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown audit command "frobnicate"');

    const format = await audit('log', '--format', 'csv');
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('invalid --format "csv" for audit log');

    const since = await audit('log', '--since', 'yesterday');
    expect(since.code).toBe(1);
    expect(since.stderr).toContain('invalid time "yesterday"');

    const help = await audit('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('aishell audit verify');
  });

  it('prove and consistency print verified proofs', async () => {
    const inclusion = await audit('prove', '3', '--format', 'json');
    expect(inclusion.code).toBe(0);
    expect(JSON.parse(inclusion.stdout)).toMatchObject({ seq: 3, verified: true });

    const consistency = await audit('consistency', '4', '--format', 'json');
    expect(consistency.code).toBe(0);
    expect(JSON.parse(consistency.stdout)).toMatchObject({ oldSize: 4, verified: true });
  });
});
