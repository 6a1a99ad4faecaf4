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
const roles: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
});

afterAll(async () => {
  for (const name of schemas) {
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`);
  }
  for (const name of roles) {
    await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`);
  }
  await admin.end();
});

/** Replaces the trigger function with one like an older version's, which lets any DELETE through. */
async function installOldTrigger(): Promise<void> {
  await admin.query(`
    CREATE OR REPLACE FUNCTION ${quoteIdent(schema)}.${quoteIdent('reject_change')}() RETURNS trigger
    LANGUAGE plpgsql AS $body$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'old trigger';
    END
    $body$`);
}

/** Creates a role that may read, insert and delete ledger rows but does not own the table. */
async function writerRole(): Promise<string> {
  const role = `aishell_ledger_writer_${randomBytes(4).toString('hex')}`;
  roles.push(role);
  await admin.query(`CREATE ROLE ${quoteIdent(role)}`);
  await admin.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(role)}`);
  await admin.query(`GRANT SELECT, INSERT, DELETE ON ${table()} TO ${quoteIdent(role)}`);
  return role;
}

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

  it('rejects a forged retention marker', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 3));
    await ledger.close();
    const role = await writerRole();
    const last = (await admin.query(`SELECT max(seq)::int AS seq FROM ${table()}`)).rows[0].seq as number;

    // A role that may INSERT and DELETE writes a marker and deletes in the same transaction.
    await admin.query('BEGIN');
    try {
      await admin.query(`SET LOCAL ROLE ${quoteIdent(role)}`);
      await admin.query(
        `INSERT INTO ${table()} (seq, kind, recorded_at, line, prune_before) VALUES ($1, 'retention.prune', now(), convert_to('{}', 'UTF8'), $2)`,
        [last + 1, last],
      );
      await expect(admin.query(`DELETE FROM ${table()} WHERE seq < 4`)).rejects.toThrow(/append-only: DELETE of seq 0 is not allowed/);
    } finally {
      await admin.query('ROLLBACK');
    }

    // Even the owner cannot delete with a marker from an earlier transaction.
    await admin.query(
      `INSERT INTO ${table()} (seq, kind, recorded_at, line, prune_before) VALUES ($1, 'retention.prune', now(), convert_to('{}', 'UTF8'), $2)`,
      [last + 1, last],
    );
    await expect(admin.query(`DELETE FROM ${table()} WHERE seq < 4`)).rejects.toThrow(/append-only: DELETE of seq 0 is not allowed/);

    const rows = await admin.query(`SELECT count(*)::int AS count FROM ${table()}`);
    expect(rows.rows[0].count).toBe(last + 2);
  });

  it('names the first deleted record', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 3));
    await ledger.close();
    const again = await openShared();
    await again.append(applyRecords('prod/app', 2));
    await again.close();

    // Records 1..4 go, among them the signer record that registered the key.
    await admin.query(`ALTER TABLE ${table()} DISABLE TRIGGER ${quoteIdent('records_append_only')}`);
    await admin.query(`DELETE FROM ${table()} WHERE seq BETWEEN 1 AND 4`);
    await admin.query(`ALTER TABLE ${table()} ENABLE TRIGGER ${quoteIdent('records_append_only')}`);

    const reader = await openShared();
    const report = await reader.verify();
    await reader.close();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(1);
    expect(report.problems[0]).toMatchObject({ code: 'missing', seq: 1, message: 'records seq 1..4 are missing: seq 5 follows seq 0' });
  });

  it('does not create the schema on read', async () => {
    const reader = await openShared();
    const report = await reader.verify({ allowEmpty: true });
    const records = await reader.read();
    await reader.close();

    expect(report.ok).toBe(true);
    expect(records).toEqual([]);
    const found = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(found.rowCount).toBe(0);

    const writer = await openShared();
    await writer.append(applyRecords('prod/app', 1));
    await writer.close();
    const created = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(created.rowCount).toBe(1);
  });

  it('upgrades an older trigger function on append', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 1));
    await ledger.close();
    await installOldTrigger();

    // A writer that does not own the function cannot replace it, and still appends.
    const role = await writerRole();
    await admin.query(`ALTER ROLE ${quoteIdent(role)} LOGIN`);
    const roleUrl = new URL(url);
    roleUrl.username = role;
    const other = await fixture.open({ url: roleUrl.toString(), schema });
    await other.append(applyRecords('prod/app', 1));
    await other.close();
    await admin.query('BEGIN');
    await expect(admin.query(`DELETE FROM ${table()} WHERE seq = 2`)).resolves.toMatchObject({ rowCount: 1 });
    await admin.query('ROLLBACK');

    // The owner's next append replaces it.
    const writer = await openShared();
    await writer.append(applyRecords('prod/app', 1));
    await writer.close();
    await expect(admin.query(`DELETE FROM ${table()} WHERE seq = 2`)).rejects.toThrow(/append-only: DELETE of seq 2 is not allowed/);
  });

  it('lets a non-owner append but not prune', async () => {
    const ledger = await openShared();
    await ledger.append(applyRecords('prod/app', 1));
    await ledger.close();
    const role = await writerRole();
    await admin.query(`ALTER ROLE ${quoteIdent(role)} LOGIN`);
    const roleUrl = new URL(url);
    roleUrl.username = role;

    const writer = await fixture.open({ url: roleUrl.toString(), schema });
    await writer.append(applyRecords('prod/app', 1));
    await expect(writer.prune(new Date('2999-01-01T00:00:00Z'))).rejects.toThrow(
      /only the table owner, or a member of the owner role, may delete ledger records; run aishell audit prune as that role. Nothing was removed or appended/,
    );
    await writer.close();

    const reader = await openShared();
    const report = await reader.verify();
    await reader.close();
    expect(report.problems).toEqual([]);
    expect(report.firstSeq).toBe(0);
  });
});
