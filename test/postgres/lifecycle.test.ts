import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent, quoteLiteral } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

describe.each(BACKENDS)('role lifecycle on %s', (backend) => {
  let scratch: Scratch;
  let file: string;

  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: {} });
  const write = (body: string) =>
    writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n${body}`);

  beforeEach(async () => {
    scratch = await createScratch(backend);
    file = path.join(scratch.dir, 'security.yaml');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('drops an absent role after reassigning what it owns', async () => {
    const heir = scratch.role('heir');
    const old = scratch.role('old_reporter');
    await scratch.sql(`CREATE ROLE ${quoteIdent(old)}; CREATE TABLE public.report (id int); ALTER TABLE public.report OWNER TO ${quoteIdent(old)}`);
    await write(`roles:\n  ${q(heir)}: {}\n  ${q(old)}:\n    state: absent\n    reassign_owned_to: ${q(heir)}\n`);

    const planned = await cli('plan', '-f', file, '--show-sql');
    expect(planned.stdout).toContain(`drop role ${old}`);
    expect(planned.stdout).toContain(`REASSIGN OWNED BY ${quoteIdent(old)} TO ${quoteIdent(heir)}`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const [row] = await scratch.sql(`SELECT pg_get_userbyid(relowner) AS owner, (SELECT count(*)::int FROM pg_roles WHERE rolname = $1) AS remaining FROM pg_class WHERE oid = 'public.report'::regclass`, [old]);
    expect(row).toEqual({ owner: heir, remaining: 0 });
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('asks for approval and refuses without a terminal', async () => {
    const role = scratch.role('reader');
    await write(`roles:\n  ${q(role)}: {}\n`);
    const result = await cli('apply', '-f', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--auto-approve');
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [role]);
    expect(row.n).toBe(0);
  });

  it('membership options follow the server version', async () => {
    const group = scratch.role('group');
    const member = scratch.role('member');
    await write(`roles:\n  ${q(group)}: {}\n  ${q(member)}:\n    member_of:\n      - { role: ${q(group)}, inherit: false }\n`);

    const result = await cli('apply', '-f', file, '--auto-approve');
    if (backend === 'postgres') {
      // The shared server is PostgreSQL 15, which has no membership options.
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('need PostgreSQL 16 or later');
      return;
    }
    expect(result.code).toBe(0);
    const [row] = await scratch.sql(
      'SELECT inherit_option FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole',
      [quoteIdent(group), quoteIdent(member)],
    );
    expect(row.inherit_option).toBe(false);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('leaves undeclared roles alone and lists them', async () => {
    const stray = scratch.role('stray');
    await scratch.sql(`CREATE ROLE ${quoteIdent(stray)}; CREATE TABLE public.t (id int); GRANT SELECT ON public.t TO ${quoteIdent(stray)}`);
    await write(`roles:\n  ${q(scratch.role('declared'))}: {}\n`);

    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);
    // The shared server has other tests' roles too, so the JSON plan's full list is checked.
    const planned = await cli('plan', '-f', file, '--format', 'json');
    expect(JSON.parse(planned.stdout).targets[0].unmanagedRoles).toContain(stray);
    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [stray, 'public.t', 'SELECT']);
    expect(row.allowed).toBe(true);
  });
});

describe('apply lock', () => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('refuses while another apply holds the lock', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const role = scratch.role('locked_out');
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}: {}\n`);

    // Holds the same session lock that apply takes, as a concurrent apply would.
    const other = new pg.Client({ connectionString: scratch.url });
    await other.connect();
    try {
      await other.query("SELECT pg_advisory_lock('7306916945451001957'::bigint)");
      const blocked = await runCli(['apply', '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain('another aishell apply is running');
      const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [role]);
      expect(row.n).toBe(0);
    } finally {
      await other.end();
    }
  });
});

describe('plan file checks', () => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('rejects an edited plan file before connecting', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const role = scratch.role('edited');
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}: {}\n`);
    const planFile = path.join(scratch.dir, 'plan.json');
    expect((await runCli(['plan', '-f', file, '--out', planFile], { cwd: scratch.dir, env: {} })).code).toBe(0);

    const { readFile } = await import('node:fs/promises');
    const plan = JSON.parse(await readFile(planFile, 'utf8'));
    plan.targets[0].changes[0].change.kind = 'drop_everything';
    await writeFile(planFile, JSON.stringify(plan));

    const result = await runCli(['apply', planFile, '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not a valid aishell plan');
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [role]);
    expect(row.n).toBe(0);
  });

  it('applies a plan file without -f', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const role = scratch.role('from_plan');
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}: {}\n`);
    const planFile = path.join(scratch.dir, 'plan.json');
    expect((await runCli(['plan', '-f', file, '--out', planFile], { cwd: scratch.dir, env: {} })).code).toBe(0);

    // From a directory without security.yaml, the plan names the configuration it came from.
    const elsewhere = path.join(scratch.dir, 'elsewhere');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(elsewhere);
    const applied = await runCli(['apply', planFile, '--auto-approve'], { cwd: elsewhere, env: { HOME: scratch.dir } });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [role]);
    expect(row.n).toBe(1);
  });

  it('rejects a plan file whose change was rewritten', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const role = scratch.role('honest');
    const other = scratch.role('swapped');
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}: {}\n`);
    const planFile = path.join(scratch.dir, 'plan.json');
    expect((await runCli(['plan', '-f', file, '--out', planFile], { cwd: scratch.dir, env: {} })).code).toBe(0);

    // A valid plan whose change creates another role than the address shows.
    const { readFile } = await import('node:fs/promises');
    const plan = JSON.parse(await readFile(planFile, 'utf8'));
    plan.targets[0].changes[0].change.role.name = other;
    plan.targets[0].changes[0].change.role.superuser = true;
    await writeFile(planFile, JSON.stringify(plan));

    const result = await runCli(['apply', planFile, '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('plan file was edited or the configuration changed');
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)', [[role, other]]);
    expect(row.n).toBe(0);
  });
});

describe('plan file freshness', () => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('ignores roles the plan does not read', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const role = scratch.role('reader');
    const unrelated = scratch.role('another_team');
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}: {}\n`);
    const planFile = path.join(scratch.dir, 'plan.json');
    expect((await runCli(['plan', '-f', file, '--out', planFile], { cwd: scratch.dir, env: {} })).code).toBe(0);

    // Another team creates a role of its own on the shared cluster in the meantime.
    await scratch.sql(`CREATE ROLE ${quoteIdent(unrelated)}`);
    const applied = await runCli(['apply', planFile, '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    // A change to a role the plan reads still makes it stale.
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}: { login: true }\n`);
    expect((await runCli(['plan', '-f', file, '--out', planFile], { cwd: scratch.dir, env: {} })).code).toBe(0);
    await scratch.sql(`ALTER ROLE ${quoteIdent(role)} CONNECTION LIMIT 3`);
    const stale = await runCli(['apply', planFile, '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('has changed since the plan was made');
  });
});

describe('passwords checked at plan time', () => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('reports a missing password source with its line', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const role = scratch.role('new_login');
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}:\n    login: true\n    password: \${env:NOT_SET_ANYWHERE}\n`);

    const planned = await runCli(['plan', '-f', file], { cwd: scratch.dir, env: {} });
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain('security.yaml:9:');
    expect(planned.stdout).toContain('NOT_SET_ANYWHERE');
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [role]);
    expect(row.n).toBe(0);
  });
});

describe('apply that does not converge', () => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
  });

  afterEach(async () => {
    await scratch.sql('DROP EVENT TRIGGER IF EXISTS regrant');
    await scratch.cleanup();
  });

  it('reports what a plan after apply still shows', async () => {
    const file = path.join(scratch.dir, 'security.yaml');
    const role = scratch.role('reader');
    await scratch.sql(`CREATE ROLE ${quoteIdent(role)}; CREATE TABLE public.t (id int); GRANT DELETE ON public.t TO ${quoteIdent(role)}`);
    // Something outside aishell undoes every REVOKE, as a misbehaving extension might.
    await scratch.sql(`CREATE FUNCTION public.regrant() RETURNS event_trigger LANGUAGE plpgsql AS
      $$ BEGIN EXECUTE format('GRANT DELETE ON public.t TO %I', ${quoteLiteral(role)}); END $$`);
    await scratch.sql(`CREATE EVENT TRIGGER regrant ON ddl_command_end WHEN TAG IN ('REVOKE') EXECUTE FUNCTION public.regrant()`);
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(role)}: {}\n`);

    const applied = await runCli(['apply', '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('a plan made right after still shows 1 change(s)');
    expect(applied.stderr).toContain(`revoke DELETE on table public.t from ${role}`);
  });
});
