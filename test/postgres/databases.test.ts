import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { createScratch, PG_URL, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

async function admin<T>(run: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const url = new URL(PG_URL);
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe('a target that manages several databases', () => {
  let scratch: Scratch;
  let second: string;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
    second = `aishell_test_${randomBytes(4).toString('hex')}_reporting`;
    await admin((client) => client.query(`CREATE DATABASE ${quoteIdent(second)}`));
    await admin((client) => client.query('CREATE TABLE public.daily (day date, total numeric)'), second);
    await scratch.sql('CREATE TABLE public.orders (id int)');
  });

  afterEach(async () => {
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(second)} WITH (FORCE)`));
    await scratch.cleanup();
  });

  it('grants in each database and drops a role from all of them', async () => {
    const analyst = scratch.role('analyst');
    const file = path.join(scratch.dir, 'security.yaml');
    const config = (analystState: string) => `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
    databases: [${q(scratch.database)}, ${q(second)}]
roles:
  ${q(analyst)}: ${analystState}
${analystState === '{}' ? `grants:
  - { to: ${q(analyst)}, privileges: [CONNECT], on: { database: ${q(second)} } }
  - { to: ${q(analyst)}, privileges: [SELECT], on: { table: public.orders }, database: ${q(scratch.database)} }
  - { to: ${q(analyst)}, privileges: [SELECT], on: { table: public.daily }, database: ${q(second)} }
default_privileges:
  - { for_role: postgres, in_schema: public, on: tables, to: ${q(analyst)}, privileges: [SELECT], database: ${q(second)} }
` : ''}`;
    await writeFile(file, config('{}'));
    const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: {} });

    const applied = await cli('apply', '-f', file, '--auto-approve');
    // The only message is the warning that postgres, the for_role, is not declared.
    expect(applied.stderr).not.toContain('error');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`main/${second}: grant SELECT on table public.daily to ${analyst}`);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);

    const allowed = await admin(
      async (client) => (await client.query('SELECT has_table_privilege($1, $2, $3) AS allowed', [analyst, 'public.daily', 'SELECT'])).rows[0].allowed,
      second,
    );
    expect(allowed).toBe(true);

    // Dropping the role needs DROP OWNED in every database where it holds privileges.
    await writeFile(file, config('{ state: absent }'));
    const dropped = await cli('apply', '-f', file, '--auto-approve');
    expect(dropped.stderr).not.toContain('error');
    expect(dropped.code).toBe(0);
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [analyst]);
    expect(row.n).toBe(0);
  });

  it('rejects a grant on a database the target does not manage', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const analyst = scratch.role('analyst');
    await writeFile(
      file,
      `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(analyst)}: {}\ngrants:\n  - { to: ${q(analyst)}, privileges: [SELECT], on: { table: public.daily }, database: ${q(second)} }\n`,
    );
    const result = await runCli(['plan', '-f', file], { cwd: scratch.dir, env: {} });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(second);
  });
});
