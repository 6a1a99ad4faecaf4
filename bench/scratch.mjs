/**
 * A scratch database and a unique role prefix on the local PostgreSQL server, removed again at
 * the end of the run. The server is shared, so every name carries a random suffix.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env.AISHELL_BENCH_PG_URL ?? process.env.AISHELL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Roles are dropped this many at a time, so that no single statement holds too many locks. */
const DROP_BATCH = 1_000;

export async function createScratch(label) {
  const suffix = randomBytes(4).toString('hex');
  const database = `aishell_bench_${label}_${suffix}`;
  const prefix = `b${suffix}_${label}_`;
  await withClient(ADMIN_URL, (client) => client.query(`CREATE DATABASE ${ident(database)}`));
  return openScratch(database, prefix);
}

/** Returns the handle of the scratch database `database`, whose roles are named `prefix…`. */
export function openScratch(database, prefix) {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;

  return {
    database,
    prefix,
    url: url.toString(),

    /**
     * Drops every role of the prefix except `keep`, with the privileges granted to them, so
     * that the next apply starts from the objects alone.
     */
    async dropRoles(keep) {
      await withClient(url.toString(), async (client) => {
        const { rows } = await client.query('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) AND rolname <> $2', [prefix, keep]);
        const names = rows.map((row) => ident(row.rolname));
        for (let start = 0; start < names.length; start += DROP_BATCH) {
          const batch = names.slice(start, start + DROP_BATCH).join(', ');
          await client.query(`DROP OWNED BY ${batch}`);
          await client.query(`DROP ROLE ${batch}`);
        }
      });
    },

    /** Drops the database and every role of the prefix. Calling it twice is harmless. */
    async drop() {
      await withClient(ADMIN_URL, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
        const { rows } = await client.query('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
        const names = rows.map((row) => ident(row.rolname));
        for (let start = 0; start < names.length; start += DROP_BATCH) {
          await client.query(`DROP ROLE IF EXISTS ${names.slice(start, start + DROP_BATCH).join(', ')}`);
        }
      });
    },
  };
}

async function withClient(connectionString, work) {
  const client = new pg.Client({ connectionString, application_name: 'aishell-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Quotes a generated name. The bench makes only names of [a-z0-9_], and rejects anything else. */
function ident(name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected generated name ${name}`);
  return `"${name}"`;
}
