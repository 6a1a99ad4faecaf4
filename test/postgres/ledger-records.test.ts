import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);
const PASSWORD = 'Ledger-test-password-93';

describe('audit ledger of plan and apply', () => {
  let scratch: Scratch;
  let file: string;
  let ledger: string;
  let role: string;
  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: { APP_PW: PASSWORD } });

  beforeEach(async () => {
    scratch = await createScratch('postgres');
    file = path.join(scratch.dir, 'security.yaml');
    ledger = path.join(scratch.dir, 'audit', 'ledger');
    role = scratch.role('app');
    await scratch.sql('CREATE TABLE public.orders (id int)');
    await writeFile(
      file,
      `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
ledger:
  path: ./audit/ledger
roles:
  ${q(role)}:
    login: true
    password: \${env:APP_PW}
grants:
  - { to: ${q(role)}, privileges: [SELECT, INSERT], on: { table: public.orders } }
`,
    );
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  const records = async () =>
    (await readFile(ledger, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; address?: string; outcome?: string; details?: Record<string, unknown> });

  it('records each applied change with masked statements', async () => {
    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const changes = (await records()).filter((record) => record.kind === 'apply.change');
    expect(changes.map((record) => record.address).sort()).toEqual(
      [`main: create role ${role}`, `main/${scratch.database}: grant INSERT on table public.orders to ${role}`, `main/${scratch.database}: grant SELECT on table public.orders to ${role}`].sort(),
    );
    expect(changes.every((record) => record.outcome === 'ok')).toBe(true);
    const create = changes.find((record) => record.address === `main: create role ${role}`)!;
    expect(String((create.details?.statements as string[])[0])).toContain('PASSWORD <secret from env:APP_PW>');
    expect(await readFile(ledger, 'utf8')).not.toContain(PASSWORD);
    expect(await readFile(ledger, 'utf8')).not.toContain('SCRAM-SHA-256$');

    const verified = await runCli(['audit', 'verify', '--ledger', ledger], { cwd: scratch.dir, env: {} });
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);

    // Without --ledger, the ledger section of security.yaml says where the ledger is.
    const fromConfig = await runCli(['audit', 'log', '-f', file, '--format', 'json'], { cwd: scratch.dir, env: {} });
    expect(fromConfig.code).toBe(0);
    expect(fromConfig.stdout).toContain(`main: create role ${role}`);
  });

  it('records drift that a plan finds', async () => {
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);
    await scratch.sql(`GRANT DELETE ON public.orders TO ${quoteIdent(role)}`);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(2);

    const drift = (await records()).filter((record) => record.kind === 'plan.drift');
    expect(drift).toHaveLength(1);
    expect(drift[0].details?.addresses).toEqual([`main/${scratch.database}: revoke DELETE on table public.orders from ${role}`]);
  });

  it('records a failed apply as failed and rolled back', async () => {
    await scratch.sql(`CREATE FUNCTION public.block() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'grants are frozen'; END $$`);
    await scratch.sql(`CREATE EVENT TRIGGER block_grants ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE FUNCTION public.block()`);
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(1);

    const all = await records();
    const outcomes = all.filter((record) => record.kind === 'apply.change').map((record) => record.outcome);
    expect(outcomes.filter((outcome) => outcome === 'failed')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'rolled-back')).toHaveLength(2);
    expect(all.find((record) => record.kind === 'apply.summary')?.outcome).toBe('failed');
    await scratch.sql('DROP EVENT TRIGGER block_grants');
  });

  it('records vault commands in the ledger the file names', async () => {
    await writeFile(file, `${await readFile(file, 'utf8')}vault:\n  path: ./vault\n`);
    const env = { AISHELL_VAULT_PASSWORD: 'vault-master-password-for-tests', AISHELL_VAULT_KDF_COST: '10' };
    const vault = (...args: string[]) => runCli(['vault', ...args], { cwd: scratch.dir, env });

    expect((await vault('init', '-f', file)).code).toBe(0);
    expect((await vault('list', '-f', file)).code).toBe(0);

    const kinds = (await records()).map((record) => record.kind);
    expect(kinds).toContain('vault.write');
    expect(kinds).toContain('vault.read');
  });
});
