import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';

import { quoteIdent } from '../../providers/postgres/quote.js';
import { buildLedgerForWorkers, ledgerFixture, runAppendWorkers, applyRecords, type LedgerFixture } from './helpers.js';

const url = process.env.AISHELL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let admin: pg.Client;
let fixture: LedgerFixture;
let schema: string;
const schemas: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
});

afterAll(async () => {
  for (const name of schemas) {
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`);
  }
  await admin.end();
});

beforeEach(async () => {
  fixture = await ledgerFixture();
  schema = `aishell_ledger_test_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
});

afterEach(async () => {
  await fixture.cleanup();
});

function openShared() {
  return fixture.open({ url, schema });
}

function table(): string {
  return `${quoteIdent(schema)}.${quoteIdent('records')}`;
}

describe('PostgreSQL ledger', () => {
  it('appends, reads back and verifies', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 2));
    await ledger.append([{ kind: 'vault.read', target: 'vault:db', details: { entry: 'db', version: 3 }, outcome: 'ok' }]);
    await ledger.close();

    const reader = await openShared();
    const records = await reader.read({ kind: 'apply' });
    const report = await reader.verify();
    await reader.close();

    expect(records.map((record) => record.seq)).toEqual([2, 3, 4]);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.anchors[0]?.status).toBe('ok');
    expect(report.location).toContain(`schema ${schema}`);

    const rows = await admin.query(`SELECT count(*)::int AS count FROM ${table()}`);
    expect(rows.rows[0].count).toBe(report.size);
  });

  it('rejects UPDATE, DELETE and TRUNCATE', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 1));
    await ledger.close();

    await expect(admin.query(`UPDATE ${table()} SET kind = 'x' WHERE seq = 2`)).rejects.toThrow(/append-only: UPDATE of seq 2 is not allowed/);
    await expect(admin.query(`DELETE FROM ${table()} WHERE seq = 2`)).rejects.toThrow(/append-only: DELETE of seq 2 is not allowed/);
    await expect(admin.query(`TRUNCATE ${table()}`)).rejects.toThrow(/append-only: TRUNCATE is not allowed/);
  });

  it('detects an UPDATE made with the trigger disabled', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 3));
    await ledger.close();
    const again = await openShared();
    await again.append(applyRecords('prod/app', 1));
    await again.close();

    await admin.query(`ALTER TABLE ${table()} DISABLE TRIGGER ${quoteIdent('records_append_only')}`);
    await admin.query(
      `UPDATE ${table()} SET line = convert_to(replace(convert_from(line, 'UTF8'), 'public.t1', 'public.tX'), 'UTF8') WHERE seq = 3`,
    );
    await admin.query(`ALTER TABLE ${table()} ENABLE TRIGGER ${quoteIdent('records_append_only')}`);

    const reader = await openShared();
    const report = await reader.verify();
    await reader.close();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(3);
  });

  it('detects rows deleted with the trigger disabled', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 3));
    await ledger.close();
    const size = (await (await openShared()).verify()).size;

    await admin.query(`ALTER TABLE ${table()} DISABLE TRIGGER ${quoteIdent('records_append_only')}`);
    await admin.query(`DELETE FROM ${table()} WHERE seq >= 4`);
    await admin.query(`ALTER TABLE ${table()} ENABLE TRIGGER ${quoteIdent('records_append_only')}`);

    const reader = await openShared();
    const report = await reader.verify();
    await reader.close();
    expect(size).toBe(7);
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(4);
    expect(report.problems[0].code).toBe('truncated');
  });

  it('four processes keep a total order', async () => {
    const build = await buildLedgerForWorkers();
    try {
      await runAppendWorkers(build.modulePath, { url, schema, keyPath: fixture.keyPath, anchorPath: fixture.anchorPath, home: fixture.dir }, 4, 30);
    } finally {
      await build.cleanup();
    }

    const reader = await openShared();
    const report = await reader.verify();
    const records = await reader.read({ kind: 'apply.change' });
    await reader.close();

    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(records.length).toBe(120);
    for (let worker = 0; worker < 4; worker += 1) {
      const indexes = records.filter((record) => record.details.worker === worker).map((record) => record.details.index);
      expect(indexes, `worker ${worker}`).toEqual(Array.from({ length: 30 }, (_, index) => index));
    }
    const seqs = await admin.query(`SELECT seq::int AS seq FROM ${table()} ORDER BY seq`);
    expect(seqs.rows.map((row: { seq: number }) => row.seq)).toEqual(Array.from({ length: report.size }, (_, index) => index));
  });

  it('prunes through a retention marker and still verifies', async () => {
    let clock = new Date('2026-01-01T00:00:00Z');
    const now = () => clock;
    const old = await fixture.open({ url, schema, now });
    await old.append(applyRecords('prod/app', 3));
    await old.close();

    clock = new Date('2026-06-01T00:00:00Z');
    const recent = await fixture.open({ url, schema, now });
    await recent.append(applyRecords('prod/app', 2));
    const result = await recent.prune(new Date('2026-03-01T00:00:00Z'));
    await recent.close();

    expect(result).toMatchObject({ before: 7, removed: 7 });
    const rows = await admin.query(`SELECT min(seq)::int AS first FROM ${table()}`);
    expect(rows.rows[0].first).toBe(7);

    const reader = await openShared();
    const report = await reader.verify();
    await reader.close();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.firstSeq).toBe(7);

    // The marker allows only rows below it; later rows stay protected.
    await expect(admin.query(`DELETE FROM ${table()} WHERE seq = 8`)).rejects.toThrow(/append-only/);
  });
});
