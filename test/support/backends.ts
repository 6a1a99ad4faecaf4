import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { quoteIdent } from '../../providers/postgres/quote.js';

export const PG_URL = process.env.AISHELL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A scratch database for one test: a uniquely named database on the PostgreSQL server, or a
 * PGlite directory. Role names get a unique prefix too, because roles are cluster-wide.
 */
export interface Scratch {
  backend: 'postgres' | 'pglite';
  /** The url to write in security.yaml. */
  url: string;
  /** The managed database's name. */
  database: string;
  /** A directory for the test's files. */
  dir: string;
  /** Prefixes a role name so parallel tests never share a role. */
  role(name: string): string;
  /**
   * Runs SQL as the superuser in the managed database. Without parameters, the text may hold
   * several statements, which run in one session.
   */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export type Backend = Scratch['backend'];
export const BACKENDS: Backend[] = ['postgres', 'pglite'];

function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

export async function createScratch(backend: Backend): Promise<Scratch> {
  const suffix = uniqueSuffix();
  const dir = await mkdtemp(path.join(tmpdir(), `aishell-test-${suffix}-`));
  const prefix = `t${suffix}_`;
  const role = (name: string) => `${prefix}${name}`;

  if (backend === 'pglite') {
    const dataDir = path.join(dir, 'db');
    return {
      backend,
      url: `pglite://${dataDir}`,
      database: 'postgres',
      dir,
      role,
      async sql(text, params) {
        // PGlite allows one open instance per directory, so each call opens and closes it.
        const { PGlite } = await import('@electric-sql/pglite');
        const db = new PGlite(dataDir);
        try {
          if (params) return (await db.query(text, params)).rows as Record<string, unknown>[];
          const results = await db.exec(text);
          return (results.at(-1)?.rows ?? []) as Record<string, unknown>[];
        } finally {
          await db.close();
        }
      },
      async cleanup() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  const database = `aishell_test_${suffix}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
  await admin.end();

  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();

  return {
    backend,
    url: url.toString(),
    database,
    dir,
    role,
    async sql(text, params) {
      const result = await client.query(text, params);
      // Several statements without parameters return one result each; the last one counts.
      return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
    },
    async cleanup() {
      await client.end();
      const cleaner = new pg.Client({ connectionString: PG_URL });
      await cleaner.connect();
      try {
        await cleaner.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
        const { rows } = await cleaner.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
        for (const { rolname } of rows) {
          await cleaner.query(`DROP ROLE IF EXISTS ${quoteIdent(rolname)}`);
        }
      } finally {
        await cleaner.end();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
