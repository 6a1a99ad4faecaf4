import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

const SCHEMA_SQL = `
CREATE TABLE public.orders (id serial PRIMARY KEY, user_id int, sales_rep_id text, region text);
CREATE TABLE public.regions (name text, rep text);
CREATE FUNCTION public.current_user_id() RETURNS integer LANGUAGE sql STABLE AS 'SELECT 1';
`;

interface Policies {
  ownRoles?: string[];
  ownCommand?: string;
  extra?: string;
}

describe.each(BACKENDS)('row-level security on %s', (backend) => {
  let scratch: Scratch;
  let file: string;
  let salesRep: string;
  let manager: string;

  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: {} });
  const plan = (...args: string[]) => cli('plan', '-f', file, ...args);
  const apply = () => cli('apply', '-f', file, '--auto-approve');

  /** Writes policies with casts, a function call, a subquery and current_user, as people write them. */
  async function writeConfig(options: Policies = {}): Promise<string> {
    const ownRoles = (options.ownRoles ?? [salesRep]).map(q).join(', ');
    const yaml = `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
roles:
  ${q(salesRep)}: {}
  ${q(manager)}: {}
row_level_security:
  public.orders:
    enabled: true
    force: true
    policies:
      own_orders:
        command: ${options.ownCommand ?? 'SELECT'}
        roles: [${ownRoles}]
        using: "user_id = current_setting('app.user_id')::int"
      rep_orders:
        roles: [${q(manager)}, ${q(salesRep)}]
        using: "sales_rep_id = current_user"
        with_check: "sales_rep_id = CURRENT_USER"
      regional:
        command: SELECT
        permissive: false
        using: "region IN (SELECT name FROM regions WHERE rep = current_user)"
      by_function:
        command: UPDATE
        roles: [${q(salesRep)}]
        using: "user_id = current_user_id()"
      connecting_role:
        roles: [CURRENT_USER]
        using: "true"
${options.extra ?? ''}`;
    await writeFile(file, yaml);
    return yaml;
  }

  beforeEach(async () => {
    scratch = await createScratch(backend);
    await scratch.sql(SCHEMA_SQL);
    salesRep = scratch.role('sales_rep');
    manager = scratch.role('manager');
    file = path.join(scratch.dir, 'security.yaml');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('converges with an empty second plan', async () => {
    await writeConfig();
    const first = await plan('--detailed-exitcode');
    expect(first.code).toBe(2);
    expect(first.stdout).toContain('create policy own_orders on table public.orders');
    expect(first.stdout).toContain('alter row level security of table public.orders');

    const applied = await apply();
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const second = await plan('--detailed-exitcode');
    expect(second.stdout).toContain('No changes');
    expect(second.code).toBe(0);

    const [table] = await scratch.sql("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'public.orders'::regclass");
    expect(table).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
    const policies = await scratch.sql(
      `SELECT polname, polcmd, polpermissive,
              ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END FROM unnest(polroles) r ORDER BY 1) AS roles
       FROM pg_policy WHERE polrelid = 'public.orders'::regclass ORDER BY polname`,
    );
    expect(policies).toEqual([
      { polname: 'by_function', polcmd: 'w', polpermissive: true, roles: [salesRep] },
      { polname: 'connecting_role', polcmd: '*', polpermissive: true, roles: ['postgres'] },
      { polname: 'own_orders', polcmd: 'r', polpermissive: true, roles: [salesRep] },
      { polname: 'regional', polcmd: 'r', polpermissive: false, roles: ['PUBLIC'] },
      { polname: 'rep_orders', polcmd: '*', polpermissive: true, roles: [manager, salesRep].sort() },
    ]);
  });

  it('plans a role change as one ALTER POLICY', async () => {
    await writeConfig();
    expect((await apply()).code).toBe(0);

    await writeConfig({ ownRoles: [salesRep, manager] });
    const result = await plan('--format', 'json', '--detailed-exitcode');
    expect(result.code).toBe(2);
    const [target] = JSON.parse(result.stdout).targets;
    expect(target.changes).toHaveLength(1);
    expect(target.changes[0].address).toBe(`main/${scratch.database}: alter policy own_orders on table public.orders`);
    expect(target.changes[0].statements).toHaveLength(1);
    expect(target.changes[0].statements[0].sql).toMatch(/^ALTER POLICY "own_orders" ON "public"."orders" TO /);
    expect(target.changes[0].change.after).toEqual({ roles: [manager, salesRep].sort() });

    expect((await apply()).code).toBe(0);
    expect((await plan('--detailed-exitcode')).code).toBe(0);
  });

  it('recreates a policy whose command changes', async () => {
    await writeConfig();
    expect((await apply()).code).toBe(0);

    await writeConfig({ ownCommand: 'DELETE' });
    const result = await plan('--detailed-exitcode');
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('- main/' + scratch.database + ': drop policy own_orders on table public.orders');
    expect(result.stdout).toContain('+ main/' + scratch.database + ': create policy own_orders on table public.orders');

    expect((await apply()).code).toBe(0);
    expect((await plan('--detailed-exitcode')).code).toBe(0);
    const [row] = await scratch.sql("SELECT polcmd FROM pg_policy WHERE polname = 'own_orders'");
    expect(row.polcmd).toBe('d');
  });

  it('shows out-of-band edits as drift', async () => {
    await writeConfig();
    expect((await apply()).code).toBe(0);
    await scratch.sql(`ALTER POLICY rep_orders ON public.orders USING (true)`);
    await scratch.sql(`CREATE POLICY added_by_hand ON public.orders FOR SELECT TO ${quoteIdent(manager)} USING (true)`);
    await scratch.sql('ALTER TABLE public.orders NO FORCE ROW LEVEL SECURITY');

    const drift = await plan('--detailed-exitcode');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('alter policy rep_orders on table public.orders');
    expect(drift.stdout).toContain('drop policy added_by_hand on table public.orders');
    expect(drift.stdout).toContain('alter row level security of table public.orders');
    expect(drift.stdout).toContain('using: true -> (sales_rep_id = CURRENT_USER)');

    expect((await apply()).code).toBe(0);
    expect((await plan('--detailed-exitcode')).code).toBe(0);
    const [row] = await scratch.sql("SELECT count(*)::int AS n FROM pg_policy WHERE polname = 'added_by_hand'");
    expect(row.n).toBe(0);
  });

  it('reports a bad expression with the server message and line', async () => {
    const yaml = await writeConfig({
      extra: `  public.missing_table:
    policies:
      on_missing:
        using: "true"
  public.regions:
    policies:
      broken:
        using: "rep = no_such_function()"
`,
    });
    const lines = yaml.split('\n');
    const brokenLine = lines.findIndex((line) => line.trim() === 'broken:') + 1;
    const missingLine = lines.findIndex((line) => line.trim() === 'on_missing:') + 1;

    const result = await plan();
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toContain(`security.yaml:${brokenLine}:`);
    expect(output).toContain('policy broken on table public.regions');
    expect(output).toContain('function no_such_function() does not exist');
    expect(output).toContain(`security.yaml:${missingLine}:`);
    expect(output).toContain('policy on_missing on table public.missing_table');
    expect(output).toContain('relation "public.missing_table" does not exist');
  });

  it('rejects an expression that would end the statement', async () => {
    await writeConfig({
      extra: `  public.regions:
    policies:
      sneaky:
        using: "true); DROP TABLE public.orders; --"
`,
    });
    const result = await plan();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('policy sneaky on table public.regions');
    const [row] = await scratch.sql("SELECT to_regclass('public.orders') IS NOT NULL AS exists");
    expect(row.exists).toBe(true);
  });
});
