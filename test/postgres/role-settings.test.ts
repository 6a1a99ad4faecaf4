import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

describe.each(BACKENDS)('role settings on %s', (backend) => {
  let scratch: Scratch;
  let file: string;
  let app: string;

  const plan = (...args: string[]) => runCli(['plan', '-f', file, ...args], { cwd: scratch.dir, env: {} });
  const apply = () => runCli(['apply', '-f', file, '--auto-approve'], { cwd: scratch.dir, env: {} });

  async function writeConfig(settings: string, settingsIn: string): Promise<string> {
    const yaml = `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
roles:
  ${q(app)}:
    login: true
    settings: ${settings}
    settings_in:
      ${q(scratch.database)}: ${settingsIn}
`;
    await writeFile(file, yaml);
    return yaml;
  }

  /** Reads the stored settings of the role as `database|name=value`, the database empty for every database. */
  async function storedSettings(): Promise<string[]> {
    const rows = await scratch.sql(
      `SELECT coalesce(d.datname, '') || '|' || entry AS setting
       FROM pg_db_role_setting s
       LEFT JOIN pg_database d ON d.oid = s.setdatabase
       CROSS JOIN LATERAL unnest(s.setconfig) AS entry
       WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
       ORDER BY 1`,
      [app],
    );
    return rows.map((row) => String(row.setting));
  }

  beforeEach(async () => {
    scratch = await createScratch(backend);
    app = scratch.role('app');
    file = path.join(scratch.dir, 'security.yaml');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('sets settings per role and per database, then plans nothing', async () => {
    await writeConfig(`{ statement_timeout: 30s, search_path: '"$user", public', lock_timeout: 5000, jit: false }`, '{ work_mem: 64MB }');

    const first = await plan('--detailed-exitcode');
    expect(first.code).toBe(2);
    expect(first.stdout).toContain(`main: set statement_timeout of role ${app}`);
    expect(first.stdout).toContain(`main: set work_mem of role ${app} in database ${scratch.database}`);

    const applied = await apply();
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(await storedSettings()).toEqual(
      [
        `|jit=off`,
        `|lock_timeout=5000`,
        `|search_path="$user", public`,
        `|statement_timeout=30s`,
        `${scratch.database}|work_mem=64MB`,
      ].sort(),
    );

    const second = await plan('--detailed-exitcode');
    expect(second.stdout).toContain('No changes');
    expect(second.code).toBe(0);
  });

  it('resets undeclared settings and reverts drift', async () => {
    await writeConfig('{ statement_timeout: 30s }', '{ work_mem: 64MB }');
    expect((await apply()).code).toBe(0);
    await scratch.sql(`ALTER ROLE ${quoteIdent(app)} SET statement_timeout = '1min'`);
    await scratch.sql(`ALTER ROLE ${quoteIdent(app)} SET idle_in_transaction_session_timeout = '10s'`);

    const drift = await plan('--detailed-exitcode');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain(`set statement_timeout of role ${app}`);
    expect(drift.stdout).toContain('statement_timeout: 1min -> 30s');
    expect(drift.stdout).toContain(`reset idle_in_transaction_session_timeout of role ${app}`);

    expect((await apply()).code).toBe(0);
    expect(await storedSettings()).toEqual([`${scratch.database}|work_mem=64MB`, '|statement_timeout=30s'].sort());
    expect((await plan('--detailed-exitcode')).code).toBe(0);
  });

  it('reports an invalid value with the server message', async () => {
    const yaml = await writeConfig('{ statement_timeout: "thirty seconds" }', '{ work_mem: 64MB }');
    const line = yaml.split('\n').findIndex((each) => each.includes('statement_timeout')) + 1;

    const result = await plan();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`security.yaml:${line}:`);
    expect(result.stdout).toContain(`setting statement_timeout of role ${app}`);
    expect(result.stdout).toContain('invalid value for parameter "statement_timeout"');
  });
});
