import pg from 'pg';

import { quoteIdent } from '../../providers/postgres/quote.js';
import type { BackendWriter, LedgerBackend } from './backend.js';
import { LedgerError } from './errors.js';

const PAGE_SIZE = 5000;

/**
 * A shared ledger in PostgreSQL. Each record is one row holding the exact canonical bytes that
 * were hashed (jsonb would reorder keys). Writers serialise on a transaction-scoped advisory
 * lock around read-tail-then-insert, so seq numbers form one total order across machines.
 * Triggers reject UPDATE, TRUNCATE and any DELETE that no retention marker allows. The owner
 * or a superuser can still disable triggers; the hash chain and the anchors outside the
 * database are what detect that.
 */
export class PostgresBackend implements LedgerBackend {
  readonly location: string;
  private readonly table: string;
  private readonly lockKey: string;

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
    private readonly schema: string,
  ) {
    this.location = `${redactUrl(url)} (schema ${schema})`;
    this.table = `${quoteIdent(schema)}.${quoteIdent('records')}`;
    this.lockKey = `aishell-ledger:${schema}`;
  }

  static async connect(url: string, schema: string): Promise<PostgresBackend> {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // An idle client's network error must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const backend = new PostgresBackend(pool, url, schema);
    try {
      await backend.setUp();
    } catch (error) {
      await pool.end();
      throw new LedgerError('LEDGER_IO', `cannot open the ledger at ${backend.location}: ${(error as Error).message}`, { cause: error });
    }
    return backend;
  }

  /** Creates the schema, table and triggers once; concurrent first runs wait on the lock. */
  private async setUp(): Promise<void> {
    const client = await this.pool.connect();
    try {
      const existing = await client.query('SELECT to_regclass($1) AS name', [this.table]);
      if (existing.rows[0].name !== null) {
        return;
      }

      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey]);
      const schema = quoteIdent(this.schema);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.table} (
          seq bigint PRIMARY KEY,
          kind text NOT NULL,
          recorded_at timestamptz NOT NULL,
          line bytea NOT NULL,
          prune_before bigint
        )`);
      await client.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent('records_kind_seq')} ON ${this.table} (kind, seq)`);

      // The functions find their table through TG_TABLE_SCHEMA, so their bodies hold no names.
      await client.query(`
        CREATE OR REPLACE FUNCTION ${schema}.${quoteIdent('reject_change')}() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        DECLARE
          allowed bigint;
        BEGIN
          IF TG_OP = 'DELETE' THEN
            EXECUTE format('SELECT coalesce(max(prune_before), 0) FROM %I.%I WHERE kind = %L',
                           TG_TABLE_SCHEMA, TG_TABLE_NAME, 'retention.prune')
              INTO allowed;
            IF OLD.seq < allowed THEN
              RETURN OLD;
            END IF;
          END IF;
          RAISE EXCEPTION 'the aishell ledger is append-only: % of seq % is not allowed', TG_OP, OLD.seq
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'records are removed only by aishell audit prune, which first appends a retention.prune marker';
        END
        $body$`);
      await client.query(`
        CREATE OR REPLACE FUNCTION ${schema}.${quoteIdent('reject_truncate')}() RETURNS trigger
        LANGUAGE plpgsql AS $body$
        BEGIN
          RAISE EXCEPTION 'the aishell ledger is append-only: TRUNCATE is not allowed'
            USING ERRCODE = 'insufficient_privilege';
        END
        $body$`);
      await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent('records_append_only')} ON ${this.table}`);
      await client.query(
        `CREATE TRIGGER ${quoteIdent('records_append_only')} BEFORE UPDATE OR DELETE ON ${this.table}
         FOR EACH ROW EXECUTE FUNCTION ${schema}.${quoteIdent('reject_change')}()`,
      );
      await client.query(`DROP TRIGGER IF EXISTS ${quoteIdent('records_no_truncate')} ON ${this.table}`);
      await client.query(
        `CREATE TRIGGER ${quoteIdent('records_no_truncate')} BEFORE TRUNCATE ON ${this.table}
         FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.${quoteIdent('reject_truncate')}()`,
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async exclusive<T>(task: (writer: BackendWriter) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey]);
      const result = await task(new PostgresWriter(client, this.table));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async *scan(): AsyncIterable<Buffer> {
    let after = -1;
    for (;;) {
      const page = await this.pool.query<{ seq: string; line: Buffer }>(
        `SELECT seq, line FROM ${this.table} WHERE seq > $1 ORDER BY seq LIMIT ${PAGE_SIZE}`,
        [after],
      );
      for (const row of page.rows) {
        yield row.line;
      }
      if (page.rows.length < PAGE_SIZE) {
        return;
      }
      after = Number(page.rows[page.rows.length - 1].seq);
    }
  }

  async tornTail(): Promise<Buffer | undefined> {
    // Transactions never leave half a row.
    return undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PostgresWriter implements BackendWriter {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly table: string,
  ) {}

  async lastLine(): Promise<Buffer | undefined> {
    const result = await this.client.query<{ line: Buffer }>(`SELECT line FROM ${this.table} ORDER BY seq DESC LIMIT 1`);
    return result.rows[0]?.line;
  }

  async linesSinceLast(kind: string): Promise<Buffer[]> {
    const result = await this.client.query<{ line: Buffer }>(
      `SELECT line FROM ${this.table}
       WHERE seq >= coalesce((SELECT max(seq) FROM ${this.table} WHERE kind = $1), -1)
       ORDER BY seq`,
      [kind],
    );
    return result.rows.map((row) => row.line);
  }

  async append(lines: Buffer[]): Promise<void> {
    for (const line of lines) {
      const record = JSON.parse(line.toString('utf8')) as { seq: number; kind: string; time: string; details: { before?: unknown } };
      const pruneBefore = record.kind === 'retention.prune' && typeof record.details.before === 'number' ? record.details.before : null;
      await this.client.query(
        `INSERT INTO ${this.table} (seq, kind, recorded_at, line, prune_before) VALUES ($1, $2, $3, $4, $5)`,
        [record.seq, record.kind, record.time, line, pruneBefore],
      );
    }
  }

  async removeTornTail(): Promise<Buffer | undefined> {
    return undefined;
  }

  async deleteBefore(seq: number): Promise<number> {
    const result = await this.client.query(`DELETE FROM ${this.table} WHERE seq < $1`, [seq]);
    return result.rowCount ?? 0;
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = '***';
    }
    return parsed.toString();
  } catch {
    return 'the configured PostgreSQL URL';
  }
}
