/**
 * A minimal SQL client over either a PostgreSQL server (package pg) or embedded PGlite, so that
 * inspect and apply run the same statements on both.
 */
import type { QueryConfig } from 'pg';

export interface SqlClient {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /**
   * Runs several statements separated by semicolons in one round trip (a simple query), inside
   * the transaction that is open. The first statement that fails aborts the rest.
   */
  exec(sql: string): Promise<void>;
  /**
   * Runs fixed catalog queries in one round trip (a simple query) and returns the rows of each.
   * They must take no parameters and hold no text from the configuration, because a simple
   * query runs whatever statements its text contains.
   */
  queryBatch(queries: readonly string[]): Promise<Record<string, unknown>[][]>;
  close(): Promise<void>;
  /**
   * Number of round trips to the server since the client opened (a batch counts once): tests use
   * it to count catalog queries.
   */
  readonly queryCount: number;
}

/**
 * Builds the options of a pg client. The target's password is put into the url, because pg lets
 * the parsed connection string override a separate `password` option, which would then be lost.
 */
export function clientOptions(connectionString: string, password?: string): { connectionString: string; application_name: string } {
  if (password === undefined) return { connectionString, application_name: 'aishell' };
  const url = new URL(connectionString);
  url.password = encodeURIComponent(password);
  return { connectionString: url.toString(), application_name: 'aishell' };
}

/**
 * Opens a connection. `timeoutMs` limits the connection handshake. Aborting `signal` destroys the
 * socket at any stage, so that a server that accepts connections but never replies cannot hold
 * the caller.
 */
export async function connectServer(connectionString: string, password?: string, timeoutMs?: number, signal?: AbortSignal): Promise<SqlClient> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ ...clientOptions(connectionString, password), ...(timeoutMs === undefined ? {} : { connectionTimeoutMillis: timeoutMs }) });
  // pg ends a connection that timed out the same way: by destroying its socket.
  const destroy = () => (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
  signal?.throwIfAborted();
  signal?.addEventListener('abort', destroy, { once: true });
  // The server may end an idle connection (idle_session_timeout, pg_terminate_backend, a
  // restart). pg then emits 'error', which ends the process when nothing listens, so the error
  // is kept and the next query fails with the server's message.
  let lost: Error | undefined;
  client.on('error', (error: Error) => {
    lost ??= error;
  });
  const requireConnection = () => {
    if (lost) throw lost;
    return client;
  };
  await client.connect();

  // Timestamps are read and written in UTC so that valid_until compares the same everywhere.
  await client.query("SET TimeZone = 'UTC'");

  let count = 0;
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      count += 1;
      // The extended protocol runs exactly one statement, so text that carries a second one
      // (a policy expression written to end the first, say) fails instead of running it.
      // @types/pg does not declare queryMode, which pg 8 reads from the query config.
      const config = { text: sql, values: params ?? [], queryMode: 'extended' } as QueryConfig;
      const result = await requireConnection().query(config);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      count += 1;
      // Without parameters, pg sends a simple query, which may hold several statements.
      await requireConnection().query(sql);
    },
    async queryBatch(queries: readonly string[]) {
      count += 1;
      // NOTE: run only against PostgreSQL 15 and PGlite. An older server may apply
      // statement_timeout to the whole batch rather than to each of its statements.
      // pg returns one result per statement, or a bare result when the text contains one.
      const results: unknown = await requireConnection().query(queries.join(';\n'));
      const list = (Array.isArray(results) ? results : [results]) as { rows: Record<string, unknown>[] }[];
      return list.map((result) => result.rows);
    },
    async close() {
      signal?.removeEventListener('abort', destroy);
      await client.end();
    },
    get queryCount() {
      return count;
    },
  };
}

/** Opens PGlite in a directory, or in memory when `dataDir` is null. */
export async function connectPglite(dataDir: string | null): Promise<SqlClient> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = dataDir === null ? new PGlite() : new PGlite(dataDir);
  await db.waitReady;
  await db.query("SET TimeZone = 'UTC'");

  let count = 0;
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      count += 1;
      const result = await db.query(sql, params);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      count += 1;
      await db.exec(sql);
    },
    async queryBatch(queries: readonly string[]) {
      count += 1;
      const results = await db.exec(queries.join(';\n'));
      return results.map((result) => result.rows as Record<string, unknown>[]);
    },
    async close() {
      await db.close();
    },
    get queryCount() {
      return count;
    },
  };
}
