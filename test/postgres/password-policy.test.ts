import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent, quoteLiteral } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);
const WEAK = 'weakpass1';
const STRONG = 'Strong-Enough-Pass-42';

/** The date `days` after today in UTC, as PostgreSQL prints a date. */
function daysFromToday(days: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days)).toISOString().slice(0, 10);
}

describe.each(BACKENDS)('password policy on %s', (backend) => {
  let scratch: Scratch;
  let file: string;
  let app: string;
  let env: NodeJS.ProcessEnv;

  const plan = (...args: string[]) => runCli(['plan', '-f', file, ...args], { cwd: scratch.dir, env });
  const apply = () => runCli(['apply', '-f', file, '--auto-approve'], { cwd: scratch.dir, env });

  async function writeConfig(extraRoles = ''): Promise<void> {
    await writeFile(
      file,
      `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
roles:
  ${q(app)}:
    login: true
    password: \${env:APP_PW}
${extraRoles}
password_policy:
  min_length: 12
  require: [uppercase, lowercase, digits, special]
  expiration_days: 90
`,
    );
  }

  async function roleCount(name: string): Promise<number> {
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [name]);
    return Number(row.n);
  }

  beforeEach(async () => {
    scratch = await createScratch(backend);
    app = scratch.role('app');
    file = path.join(scratch.dir, 'security.yaml');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('fails on a weak password and applies nothing', async () => {
    env = { APP_PW: WEAK };
    await writeConfig();

    const planned = await plan();
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain(`the password of role ${app} (from env:APP_PW) does not meet the password policy`);
    expect(planned.stdout).toContain('shorter than 12 characters');
    expect(planned.stdout).toContain('no uppercase letter');
    expect(planned.stdout).toContain('no special character');

    const applied = await apply();
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('nothing was applied');
    for (const output of [planned, applied]) expect(output.stdout + output.stderr).not.toContain(WEAK);
    expect(await roleCount(app)).toBe(0);
  });

  it('sets the expiry with the password, then plans nothing', async () => {
    env = { APP_PW: STRONG };
    await writeConfig();

    const planned = await plan('--show-sql');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain(`VALID UNTIL '${daysFromToday(90)}T00:00:00Z'`);
    expect((await apply()).code).toBe(0);

    const [row] = await scratch.sql('SELECT rolvaliduntil::date::text AS until FROM pg_roles WHERE rolname = $1', [app]);
    expect(row.until).toBe(daysFromToday(90));
    expect((await plan('--detailed-exitcode')).code).toBe(0);

    env = { APP_PW: 'Rotated-Password-43' };
    const rotated = await plan('--show-sql', '--detailed-exitcode');
    expect(rotated.code).toBe(2);
    expect(rotated.stdout).toContain(`set password of role ${app}`);
    expect(rotated.stdout).toMatch(/ALTER ROLE .* WITH PASSWORD .*env:APP_PW.* VALID UNTIL '/);
  });

  it('reports expiry beyond the policy and non-SCRAM hashes', async () => {
    env = { APP_PW: STRONG };
    const legacy = scratch.role('legacy');
    const forever = scratch.role('forever');
    const md5 = `md5${createHash('md5').update(`Old-Password-1${legacy}`).digest('hex')}`;
    await scratch.sql(`CREATE ROLE ${quoteIdent(legacy)} LOGIN PASSWORD ${quoteLiteral(md5)}`);
    await scratch.sql(`CREATE ROLE ${quoteIdent(forever)} LOGIN PASSWORD 'Some-Password-1' VALID UNTIL 'infinity'`);
    await writeConfig(`  ${q(forever)}:\n    login: true\n`);

    const planned = await plan();
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain(`role ${forever} has a password valid until infinity, beyond the 90 days of password_policy.expiration_days`);
    expect(planned.stdout).toContain(`role ${legacy} has a stored password that is an MD5 hash`);
  });
});

describe('password policy at apply of a plan file', () => {
  let scratch: Scratch;

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('rejects a password that became weak after plan', async () => {
    scratch = await createScratch('postgres');
    const app = scratch.role('app');
    const file = path.join(scratch.dir, 'security.yaml');
    await writeFile(
      file,
      `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
roles:
  ${q(app)}:
    login: true
    password: \${env:APP_PW}
password_policy:
  min_length: 12
`,
    );
    const planFile = path.join(scratch.dir, 'plan.json');
    const planned = await runCli(['plan', '-f', file, '--out', planFile], { cwd: scratch.dir, env: { APP_PW: STRONG } });
    expect(planned.code).toBe(0);

    const applied = await runCli(['apply', planFile, '-f', file, '--auto-approve'], { cwd: scratch.dir, env: { APP_PW: WEAK } });
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('nothing was applied');
    expect(applied.stderr).toContain('shorter than 12 characters');
    expect(applied.stdout + applied.stderr).not.toContain(WEAK);
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [app]);
    expect(row.n).toBe(0);
  });
});
