import pg from 'pg';

import { quoteIdent } from '../../providers/postgres/quote.js';
import type { BackendWriter, LedgerBackend } from './backend.js';
import { LedgerError } from './errors.js';
import { createLedgerTables, upgradeTriggers } from './postgres-schema.js';

const PAGE_SIZE = 5000;

/**
 * A shared ledger in PostgreSQL. Each record is one row holding the exact canonical bytes that
 * were hashed (jsonb would reorder keys). Writers serialise on a transaction-scoped advisory
 * lock around read-tail-then-insert, so seq numbers form one total order across machines.
 * The schema and table are created by the first append, never by a read. Triggers reject
 * UPDATE, TRUNCATE and any DELETE outside the owner's pruning (see postgres-schema.ts).
 */
export class PostgresBackend implements LedgerBackend {
  readonly location: string;
  private readonly table: string;
  private readonly lockKey: string;
  private triggersChecked = false;

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
      // Connects once, so a wrong URL or password fails here with the ledger's location.
      await backend.exists();
    } catch (error) {
      await pool.end();
      throw new LedgerError('LEDGER_IO', `cannot open the ledger at ${backend.location}: ${(error as Error).message}`, { cause: error });
    }
    return backend;
  }

  async exists(): Promise<boolean> {
    return tableExists(this.pool, this.schema);
  }

  async exclusive<T>(task: (writer: BackendWriter) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey]);
      const exists = await tableExists(client, this.schema);
      if (exists && !this.triggersChecked) {
        await upgradeTriggers(client, this.schema);
        this.triggersChecked = true;
      }

      const result = await task(new PostgresWriter(client, this.table, exists, () => createLedgerTables(client, this.schema)));
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
    if (!(await this.exists())) {
      return;
    }
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
    private exists: boolean,
    private readonly create: () => Promise<void>,
  ) {}

  async lastLine(): Promise<Buffer | undefined> {
    if (!this.exists) {
      return undefined;
    }
    const result = await this.client.query<{ line: Buffer }>(`SELECT line FROM ${this.table} ORDER BY seq DESC LIMIT 1`);
    return result.rows[0]?.line;
  }

  async linesSinceLast(kind: string): Promise<Buffer[]> {
    if (!this.exists) {
      return [];
    }
    const result = await this.client.query<{ line: Buffer }>(
      `SELECT line FROM ${this.table}
       WHERE seq >= coalesce((SELECT max(seq) FROM ${this.table} WHERE kind = $1), -1)
       ORDER BY seq`,
      [kind],
    );
    return result.rows.map((row) => row.line);
  }

  async append(lines: Buffer[]): Promise<void> {
    if (!this.exists && lines.length > 0) {
      await this.create();
      this.exists = true;
    }
    for (const line of lines) {
      const record = JSON.parse(line.toString('utf8')) as { seq: number; kind: string; time: string; details: { before?: unknown } };
      const pruneBefore = record.kind === 'retention.prune' && typeof record.details.before === 'number' ? record.details.before : null;
      await this.client.query(
        `INSERT INTO ${this.table} (seq, kind, recorded_at, line, prune_before) VALUES ($1, $2, $3, $4, $5)`,
        [record.seq, record.kind, record.time, line, pruneBefore],
      );
    }
  }

  async tornTail(): Promise<Buffer | undefined> {
    return undefined;
  }

  async removeTornTail(): Promise<Buffer | undefined> {
    return undefined;
  }

  async terminateTornTail(): Promise<void> {
    // A row is always complete.
  }

  async deleteBefore(seq: number): Promise<number> {
    try {
      const result = await this.client.query(`DELETE FROM ${this.table} WHERE seq < $1`, [seq]);
      return result.rowCount ?? 0;
    } catch (error) {
      if ((error as { code?: string }).code === '42501') {
        throw new LedgerError(
          'LEDGER_IO',
          `cannot prune ${this.table}: only the table owner, or a member of the owner role, may delete ledger records; ` +
            'run aishell audit prune as that role. Nothing was removed or appended',
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/**
 * Reads pg_class with the statement's snapshot. to_regclass() reads the backend's catalog
 * cache, which may not yet show a table that another writer created while this transaction
 * waited for the advisory lock.
 */
async function tableExists(client: pg.Pool | pg.ClientBase, schema: string): Promise<boolean> {
  const result = await client.query(
    `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = 'records' AND c.relkind IN ('r', 'p')`,
    [schema],
  );
  return (result.rowCount ?? 0) > 0;
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
