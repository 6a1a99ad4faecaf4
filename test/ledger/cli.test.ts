import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { CommandIo } from '../../engine/cli/io.js';
import { canonicalJson } from '../../engine/ledger/canonical.js';
import { runAuditCommand } from '../../engine/ledger/cli.js';
import type { LedgerRecord } from '../../engine/ledger/index.js';
import { csvCell } from '../../engine/ledger/export.js';
import { CompactRange, leafHash } from '../../engine/ledger/merkle.js';
import { alterRoleChange, applyRecords, buildLedgerForWorkers, grantChange, ledgerFixture, recordedApply, type LedgerFixture } from './helpers.js';

let fixture: LedgerFixture;

function makeIo(env: NodeJS.ProcessEnv = {}): CommandIo & { out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env: { HOME: fixture.dir, USER: 'tester', AISHELL_LEDGER: fixture.path, AISHELL_LEDGER_ANCHOR: fixture.anchorPath, ...env },
    cwd: fixture.dir,
    out: () => stdout,
    err: () => stderr,
  };
}

async function audit(...args: string[]) {
  return auditWith({}, ...args);
}

async function auditWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const io = makeIo(env);
  const code = await runAuditCommand(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

beforeEach(async () => {
  fixture = await ledgerFixture();
  const ledger = await fixture.open();
  await ledger.append(applyRecords('prod/app', 2));
  await ledger.append([
    { kind: 'vault.read', target: 'vault:prod-db', details: { entry: 'prod-db', version: 2 }, outcome: 'ok' },
    { kind: 'plan.drift', target: 'stage/app', details: { changes: 1, addresses: ['stage/app: revoke INSERT on table public.x from app'] }, outcome: 'found' },
    { kind: 'apply.change', target: 'stage/app', address: '=HYPERLINK("http://x")', details: { change: 'grant', error: 'permission denied' }, outcome: 'failed' },
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

    const grants = await audit('log', '--operation', 'grant', '--format', 'json');
    expect((JSON.parse(grants.stdout) as { seq: number }[]).map((record) => record.seq)).toEqual([2, 3, 7]);

    const drift = await audit('log', '--operation', 'drift', '--format', 'json');
    expect((JSON.parse(drift.stdout) as { kind: string }[]).map((record) => record.kind)).toEqual(['plan.drift']);

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
    expect(show.stdout).toContain('"change": "grant"');

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
    expect(summary.byOperation).toEqual({ grant: 3, summary: 1, read: 1, drift: 1 });

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

describe('aishell audit on records as apply writes them', () => {
  beforeEach(async () => {
    const table = { kind: 'table' as const, schema: 'public', name: 'orders' };
    const ledger = await fixture.open();
    await ledger.append(
      recordedApply('prod/app', [
        grantChange('prod/app', 'SELECT', table, 'reporting'),
        grantChange('prod/app', 'INSERT', table, 'reporting'),
        alterRoleChange('prod/app', 'ops', { createdb: true }),
      ]),
    );
    await ledger.append([
      { kind: 'vault.read', target: 'vault', details: { operation: 'unlock' }, outcome: 'ok' },
      { kind: 'vault.read', target: 'vault:prod-db', details: { operation: 'read', reason: 'apply' }, outcome: 'ok' },
    ]);
    await ledger.close();
  });

  it('log --operation matches change kinds', async () => {
    const grants = await audit('log', '--operation', 'grant', '--target', 'prod/app/app', '--format', 'json');
    const records = JSON.parse(grants.stdout) as LedgerRecord[];
    expect(records.map((record) => record.address)).toEqual([
      'prod/app/app: grant SELECT on table public.orders to reporting',
      'prod/app/app: grant INSERT on table public.orders to reporting',
    ]);

    const alter = await audit('log', '--operation', 'alter_role', '--format', 'json');
    expect((JSON.parse(alter.stdout) as LedgerRecord[]).map((record) => record.address)).toEqual(['prod/app: alter role ops']);

    const unlocks = await audit('log', '--operation', 'unlock', '--format', 'json');
    expect((JSON.parse(unlocks.stdout) as LedgerRecord[]).map((record) => record.target)).toEqual(['vault']);
  });

  it('summary counts change kinds by operation', async () => {
    const result = await audit('summary', '--format', 'json');
    const summary = JSON.parse(result.stdout) as { byOperation: Record<string, number>; vault: Record<string, unknown> };
    // The fixture's own records add 2 grants, one summary and one vault read.
    expect(summary.byOperation).toEqual({ grant: 5, alter_role: 1, summary: 2, read: 2, unlock: 1, drift: 1 });
    expect(summary.byOperation.change).toBeUndefined();
    expect(summary.vault).toMatchObject({ reads: 2, unlocks: 1, readsByEntry: { 'vault:prod-db': 2 } });
  });
});

describe('aishell audit text output', () => {
  it('escapes control and bidi characters from records', async () => {
    const ledger = await fixture.open({
      env: {
        HOME: fixture.dir,
        USER: 'ci',
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/db',
        GITHUB_ACTOR: 'mallory\n     #99 2026-01-01T00:00:00.000Z apply.change      ok          admin@prod',
        GITHUB_SHA: '9f1c2e7',
        GITHUB_REF_NAME: '\u001b[2J\u001b[31mmain',
      },
    });
    await ledger.append([{ kind: 'apply.change', target: 'prod/app', address: 'prod/app: grant \u202eELECT on x', details: { change: 'grant' }, outcome: 'ok' }]);
    await ledger.close();
    const seq = String((await fixture.lines()).length - 2);

    const outputs = [(await audit('log')).stdout, (await audit('show', seq)).stdout, (await audit('summary')).stdout, (await audit('search', 'mallory')).stdout];
    for (const output of outputs) {
      expect(output).not.toMatch(/[\u001b\u202e]/);
      expect(output).not.toMatch(/^\s+#99 /m);
    }
    expect(outputs[0]).toContain('mallory\\n     #99');
    expect(outputs[1]).toContain('commit    ');
    expect(outputs[1]).toContain('\\x1b[2J\\x1b[31mmain');
    expect(outputs[1]).toContain('grant \\u{202e}ELECT');

    // JSON output keeps the exact values.
    const json = JSON.parse((await audit('show', seq, '--format', 'json')).stdout) as LedgerRecord;
    expect(json.actor.ci?.branch).toBe('\u001b[2J\u001b[31mmain');
  });
});

describe('aishell audit export', () => {
  it('stops quietly when the reader closes the pipe', async () => {
    const ledger = await fixture.open();
    await ledger.append(applyRecords('prod/app', 3000));
    await ledger.close();

    // The real command in a real shell pipeline, as in `aishell audit export | head`.
    const build = await buildLedgerForWorkers();
    try {
      const bin = join(dirname(build.modulePath), '..', 'cli', 'bin.js');
      const script = `node "$BIN" audit export --format csv 2>"$ERR" | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`;
      const err = join(fixture.dir, 'stderr.txt');
      const status = execFileSync('bash', ['-c', script], {
        env: { PATH: process.env.PATH, HOME: fixture.dir, BIN: bin, ERR: err, AISHELL_LEDGER: fixture.path, AISHELL_LEDGER_ANCHOR: fixture.anchorPath },
        encoding: 'utf8',
      });

      expect(await readFile(err, 'utf8')).toBe('');
      expect(status.trim()).toBe('0');
    } finally {
      await build.cleanup();
    }
  }, 120_000);

  it('does not overwrite a file without --force', async () => {
    const out = join(fixture.dir, 'export.csv');
    await writeFile(out, 'keep me');

    const refused = await audit('export', '--format', 'csv', '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${out} already exists; choose another --out file or pass --force to overwrite it`);
    expect(await readFile(out, 'utf8')).toBe('keep me');

    const forced = await audit('export', '--format', 'csv', '--out', out, '--force');
    expect(forced.code).toBe(0);
    expect(await readFile(out, 'utf8')).toMatch(/^seq,time,kind,/);
  });

  it('defuses formulas after leading whitespace', () => {
    const cases: [string, string][] = [
      ['=1+1', `"'=1+1"`],
      [' =1+1', `"' =1+1"`],
      ['\n+cmd', `"'\n+cmd"`],
      ['  @SUM(A1)', `"'  @SUM(A1)"`],
      ['\u00a0-2', `"'\u00a0-2"`],
      ['\uff1dcmd', `"'\uff1dcmd"`],
      ['\tx', `"'\tx"`],
      ['plain text', 'plain text'],
      ['a=b', 'a=b'],
    ];
    for (const [value, expected] of cases) {
      expect(csvCell(value), JSON.stringify(value)).toBe(expected);
    }
  });
});

describe('aishell audit verify options', () => {
  it('reports a ledger that does not exist', async () => {
    const missing = join(fixture.dir, 'no-such-ledger');
    const other = join(fixture.dir, 'other.anchor');

    const result = await audit('verify', '--ledger', missing, '--anchor', other);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`ledger ${missing}: NOT intact`);
    expect(result.stdout).toContain(`error: no ledger at ${missing}`);

    const allowed = await audit('verify', '--ledger', missing, '--anchor', other, '--allow-empty');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(': intact');
  });

  it('accepts the PEM public key file as trusted key', async () => {
    const pub = `${fixture.keyPath}.pub`;
    expect(await readFile(pub, 'utf8')).toContain('-----BEGIN PUBLIC KEY-----');

    const pinned = await audit('verify', '--trusted-key', pub);
    expect(pinned.code).toBe(0);

    // Another key's PEM is not trusted, and verify reports that.
    const { generateKeyPairSync } = await import('node:crypto');
    const otherPub = join(fixture.dir, 'other.pub');
    await writeFile(otherPub, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString());
    const untrusted = await audit('verify', '--trusted-key', otherPub);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(/is signed by aishell-ledger-[0-9a-f]{8}, which is not a trusted key \(--trusted-key\)/);

    const invalid = await audit('verify', '--trusted-key', fixture.keyPath);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(`invalid --trusted-key file ${fixture.keyPath}: expected a PEM public key`);
  });

  it('prune needs --force below 90 days', async () => {
    const before = await fixture.lines();

    const zero = await audit('prune', '--retention-days', '0');
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('--retention-days 0 would remove records younger than 90 days, that is every record; pass --force');
    const month = await audit('prune', '--retention-days', '30');
    expect(month.code).toBe(1);
    expect(await fixture.lines()).toEqual(before);

    const forced = await audit('prune', '--retention-days', '0', '--force', '--format', 'json');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ removed: before.length });
  });
});
