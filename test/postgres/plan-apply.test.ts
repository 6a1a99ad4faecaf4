import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { verifyScram } from '../../providers/postgres/scram.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { SCHEMA_SQL, writeFullConfig, type Fixture } from './fixture.js';

const PASSWORD = 'Correct-Horse-7-battery';

describe.each(BACKENDS)('plan and apply on %s', (backend) => {
  let scratch: Scratch;
  let fixture: Fixture;
  let env: NodeJS.ProcessEnv;

  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env });
  const plan = (...args: string[]) => cli('plan', '-f', fixture.file, ...args);
  const apply = (...args: string[]) => cli('apply', '-f', fixture.file, '--auto-approve', ...args);

  beforeEach(async () => {
    scratch = await createScratch(backend);
    for (const statement of SCHEMA_SQL) await scratch.sql(statement);
    fixture = await writeFullConfig(scratch);
    env = { APP_PW: PASSWORD };
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('applies every kind, then plans no changes', async () => {
    const first = await plan('--detailed-exitcode');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(2);

    const applied = await apply();
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const second = await plan('--detailed-exitcode');
    expect(second.stdout).toContain('No changes');
    expect(second.code).toBe(0);

    const [appUser] = await scratch.sql(
      `SELECT rolcanlogin, rolcreatedb, rolinherit, rolconnlimit, rolvaliduntil::date::text AS valid_until, rolpassword,
              shobj_description(oid, 'pg_authid') AS comment FROM pg_authid WHERE rolname = $1`,
      [fixture.roles.appUser],
    );
    expect(appUser.rolcanlogin).toBe(true);
    expect(appUser.rolcreatedb).toBe(true);
    expect(appUser.rolinherit).toBe(false);
    expect(appUser.rolconnlimit).toBe(10);
    expect(appUser.valid_until).toBe('2030-06-30');
    expect(appUser.comment).toBe('service account of the web application');
    expect(verifyScram(PASSWORD, String(appUser.rolpassword))).toBe(true);

    const [owner] = await scratch.sql('SELECT rolcreaterole, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = $1', [fixture.roles.appOwner]);
    expect(owner).toEqual({ rolcreaterole: true, rolbypassrls: true, rolreplication: true });

    const [membership] = await scratch.sql(
      'SELECT admin_option FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole',
      [quoteIdent(fixture.roles.developer), quoteIdent(fixture.roles.appUser)],
    );
    expect(membership.admin_option).toBe(true);

    const check = async (query: string, params: unknown[]) => (await scratch.sql(query, params))[0].allowed;
    expect(await check('SELECT has_table_privilege($1, $2, $3) AS allowed', [fixture.roles.readonly, 'app.order_summary', 'SELECT'])).toBe(true);
    expect(await check('SELECT has_table_privilege($1, $2, $3) AS allowed', [fixture.roles.readonly, 'app.order_totals', 'SELECT'])).toBe(true);
    expect(await check('SELECT has_table_privilege($1, $2, $3) AS allowed', [fixture.roles.appUser, 'app.orders', 'TRUNCATE'])).toBe(true);
    expect(await check('SELECT has_column_privilege($1, $2, $3, $4) AS allowed', [fixture.roles.sales, 'app.orders', 'note', 'UPDATE'])).toBe(true);
    expect(await check('SELECT has_column_privilege($1, $2, $3, $4) AS allowed', [fixture.roles.sales, 'app.orders', 'total', 'UPDATE'])).toBe(false);
    expect(await check('SELECT has_sequence_privilege($1, $2, $3) AS allowed', [fixture.roles.appUser, 'app.invoice_seq', 'USAGE'])).toBe(true);
    expect(await check('SELECT has_function_privilege($1, $2, $3) AS allowed', [fixture.roles.appUser, 'app.calculate_total(integer)', 'EXECUTE'])).toBe(true);
    expect(await check('SELECT has_schema_privilege($1, $2, $3) AS allowed', [fixture.roles.readonly, 'app', 'USAGE'])).toBe(true);
    expect(await check('SELECT has_database_privilege($1, $2, $3) AS allowed', [fixture.roles.readonly, scratch.database, 'CONNECT'])).toBe(true);
    expect(await check('SELECT has_table_privilege($1, $2, $3) AS allowed', [fixture.roles.keyword, 'app.order_totals', 'SELECT WITH GRANT OPTION'])).toBe(true);
  });

  it('finds out-of-band drift and reverts it', async () => {
    expect((await apply()).code).toBe(0);
    await scratch.sql(`GRANT DELETE ON app.orders TO ${quoteIdent(fixture.roles.readonly)}`);
    await scratch.sql(`ALTER ROLE ${quoteIdent(fixture.roles.appUser)} CONNECTION LIMIT 5`);

    const drift = await plan('--detailed-exitcode');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain(`revoke DELETE on table app.orders from ${fixture.roles.readonly}`);
    expect(drift.stdout).toContain(`alter role ${fixture.roles.appUser}`);

    expect((await apply()).code).toBe(0);
    expect((await plan('--detailed-exitcode')).code).toBe(0);
    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [fixture.roles.readonly, 'app.orders', 'DELETE']);
    expect(row.allowed).toBe(false);
  });

  it('rolls back everything when a statement fails halfway', async () => {
    // An event trigger rejects every GRANT; CREATE ROLE statements run before the first GRANT.
    await scratch.sql(`CREATE FUNCTION public.reject_grants() RETURNS event_trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'grants are frozen'; END $$`);
    await scratch.sql(`CREATE EVENT TRIGGER reject_grants ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE FUNCTION public.reject_grants()`);

    const failed = await apply();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('grants are frozen');
    expect(failed.stderr).toContain('rolled back');
    expect(failed.stderr).toMatch(/statement: GRANT/);

    const roles = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)', [Object.values(fixture.roles)]);
    expect(roles[0].n).toBe(0);
    await scratch.sql('DROP EVENT TRIGGER reject_grants');
  });

  it('refuses a stale plan file and changes nothing', async () => {
    const planFile = path.join(scratch.dir, 'plan.json');
    expect((await plan('--out', planFile)).code).toBe(0);
    await scratch.sql('CREATE TABLE app.added_later (id int)');

    const result = await cli('apply', planFile, '-f', fixture.file, '--auto-approve');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has changed since the plan was made');
    const roles = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)', [Object.values(fixture.roles)]);
    expect(roles[0].n).toBe(0);
  });

  it('applies a fresh plan file exactly', async () => {
    const planFile = path.join(scratch.dir, 'plan.json');
    expect((await plan('--out', planFile)).code).toBe(0);
    const result = await cli('apply', planFile, '-f', fixture.file, '--auto-approve');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((await plan('--detailed-exitcode')).code).toBe(0);
  });

  it('covers tables that for_role creates later', async () => {
    expect((await apply()).code).toBe(0);
    await scratch.sql(`SET ROLE ${quoteIdent(fixture.roles.appOwner)}; CREATE TABLE app.created_later (id int); RESET ROLE`);

    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = $2::regclass', [
      fixture.roles.readonly,
      'app.created_later',
      'SELECT',
    ]);
    expect(row.owner).toBe(fixture.roles.appOwner);
    expect(row.allowed).toBe(true);
    const next = await plan('--detailed-exitcode');
    expect(next.stdout).toContain('No changes');
    expect(next.code).toBe(0);
  });

  it('never shows the password', async () => {
    const planFile = path.join(scratch.dir, 'plan.json');
    const outputs = [
      await plan('--show-sql', '--out', planFile),
      await plan('--format', 'json', '--show-sql'),
      await plan('--format', 'markdown', '--show-sql'),
      await apply('--show-sql'),
    ];
    env = { APP_PW: 'Another-Secret-9-value' };
    outputs.push(await plan('--show-sql'), await apply('--show-sql'));

    for (const output of outputs) {
      expect(output.stdout + output.stderr).not.toContain(PASSWORD);
      expect(output.stdout + output.stderr).not.toContain('Another-Secret-9-value');
    }
    expect(outputs[4].stdout).toContain(`set password of role ${fixture.roles.appUser}`);
    expect(outputs[4].stdout).toContain('env:APP_PW');
    expect(await readFile(planFile, 'utf8')).not.toContain(PASSWORD);
  });
});
