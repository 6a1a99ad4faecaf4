import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVault, openVault } from '../../engine/vault/index.js';
import { quoteIdent, quoteLiteral } from '../../providers/postgres/quote.js';
import { scramVerifier, verifyScram } from '../../providers/postgres/scram.js';
import { createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

describe('declared vault credentials', () => {
  let scratch: Scratch;
  let file: string;
  let vaultPath: string;
  let role: string;
  let env: NodeJS.ProcessEnv;

  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env });
  const storedVerifier = async () =>
    String((await scratch.sql('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]))[0].rolpassword);
  const vault = () => openVault({ path: vaultPath, env });
  const writeConfig = (rotateEvery: string) =>
    writeFile(
      file,
      `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
vault:
  path: ./vault
password_policy:
  min_length: 20
  require: [uppercase, lowercase, digits]
credentials:
  app-pw:
    generate: { length: 24 }
    rotate_every: ${rotateEvery}
roles:
  ${q(role)}:
    login: true
    password: \${vault:app-pw}
`,
    );

  beforeEach(async () => {
    scratch = await createScratch('postgres');
    file = path.join(scratch.dir, 'security.yaml');
    vaultPath = path.join(scratch.dir, 'vault');
    role = scratch.role('app_user');
    // A low scrypt cost keeps the suite fast; the vault's own tests cover the real cost.
    env = { AISHELL_VAULT_PASSWORD: 'vault-master-password-for-tests', AISHELL_VAULT_KDF_COST: '10', HOME: scratch.dir };
    await createVault({ path: vaultPath, env, password: env.AISHELL_VAULT_PASSWORD! });
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('generates the value, sets it, and plans no changes after', async () => {
    await writeConfig('90d');
    const planned = await cli('plan', '-f', file);
    expect(planned.stdout).toContain('generate vault:app-pw');

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const value = await (await vault()).get('app-pw');
    expect(value).toHaveLength(24);
    expect(verifyScram(value, await storedVerifier())).toBe(true);
    expect(applied.stdout).not.toContain(value);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  /** Stores a value last set in 2020, so that a rotate_every of 90d is long past. */
  async function storeOldValue(): Promise<string> {
    const value = 'Old-value-from-2020-abcdefg';
    const backdated = await openVault({ path: vaultPath, env, now: () => new Date('2020-01-01T00:00:00Z') });
    await backdated.put('app-pw', value);
    await scratch.sql(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(scramVerifier(value))}`);
    return value;
  }

  it('rotates a value older than rotate_every', async () => {
    await writeConfig('90d');
    const first = await storeOldValue();

    const planned = await cli('plan', '-f', file);
    expect(planned.stdout).toContain('rotate vault:app-pw');
    expect(planned.stdout).toContain(`set password of role ${role}`);
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);

    const second = await (await vault()).get('app-pw');
    expect(second).not.toBe(first);
    expect(verifyScram(second, await storedVerifier())).toBe(true);
    expect(await (await vault()).history('app-pw')).toContain(first);
  });

  it('completes a rotation interrupted after the database commit', async () => {
    await writeConfig('90d');
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);
    const old = await (await vault()).get('app-pw');

    // The state a crash leaves between the database commit and the vault commit.
    const next = 'Interrupted-rotation-value-42';
    await (await vault()).setPending('app-pw', next, { replace: true });
    await scratch.sql(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(scramVerifier(next))}`);

    const planned = await cli('plan', '-f', file);
    expect(planned.stdout).toContain('complete vault:app-pw');
    expect(planned.stdout).not.toContain(next);
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);

    const repaired = await vault();
    expect(await repaired.get('app-pw')).toBe(next);
    expect(await repaired.pending()).toEqual([]);
    expect(old).not.toBe(next);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('drops a rotation interrupted before the database commit', async () => {
    await writeConfig('90d');
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);
    const current = await (await vault()).get('app-pw');
    await (await vault()).setPending('app-pw', 'Never-reached-the-database-7', { replace: true });

    const planned = await cli('plan', '-f', file);
    expect(planned.stdout).toContain('discard vault:app-pw');
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);

    const repaired = await vault();
    expect(await repaired.get('app-pw')).toBe(current);
    expect(await repaired.pending()).toEqual([]);
    expect(verifyScram(current, await storedVerifier())).toBe(true);
  });

  it('leaves vault and database agreeing when apply fails', async () => {
    await writeConfig('90d');
    const before = await storeOldValue();

    // The new password is set first; the grant after it fails, so the transaction rolls back.
    await scratch.sql('CREATE TABLE public.t (id int)');
    await writeFile(file, `${await readFile(file, 'utf8')}grants:\n  - { to: ${q(role)}, privileges: [SELECT], on: { table: public.t } }\n`);
    await scratch.sql(`CREATE FUNCTION public.block() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'grants are blocked'; END $$`);
    await scratch.sql(`CREATE EVENT TRIGGER block_grants ON ddl_command_start WHEN TAG IN ('GRANT') EXECUTE FUNCTION public.block()`);

    const failed = await cli('apply', '-f', file, '--auto-approve');
    expect(failed.stdout).toContain('rotate vault:app-pw');
    expect(failed.stderr).toContain('grants are blocked');
    expect(failed.code).toBe(1);

    const after = await vault();
    expect(await after.get('app-pw')).toBe(before);
    expect(await after.pending()).toEqual([]);
    expect(verifyScram(before, await storedVerifier())).toBe(true);
    await scratch.sql('DROP EVENT TRIGGER block_grants');
  });

  it('rejects a vault value reused within password_policy.history', async () => {
    await writeFile(
      file,
      `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
vault:
  path: ./vault
password_policy:
  history: 2
roles:
  ${q(role)}:
    login: true
    password: \${vault:db-pw}
`,
    );
    const store = await vault();
    await store.put('db-pw', 'First-value-1234');
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);
    await store.put('db-pw', 'Second-value-5678');
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);
    await store.put('db-pw', 'First-value-1234');

    const planned = await cli('plan', '-f', file);
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain('equals one of the last 2 values of vault entry db-pw');
    expect(planned.stdout + planned.stderr).not.toContain('First-value-1234');
  });

  it('refuses a vault whose id differs from the pinned one', async () => {
    await writeConfig('90d');
    await writeFile(file, (await readFile(file, 'utf8')).replace('  path: ./vault\n', '  path: ./vault\n  id: 00000000-0000-0000-0000-000000000000\n'));
    const planned = await cli('plan', '-f', file);
    expect(planned.code).toBe(1);
    expect(planned.stdout + planned.stderr).toContain("but vault.id in");
    expect(await (await vault()).has('app-pw')).toBe(false);
  });
});
