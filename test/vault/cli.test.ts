import { readdir, readFile, stat, writeFile, chmod, mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createVault, ENTRY_NAME_PATTERN, openVault } from '../../engine/vault/index.js';
import { makeTempDir, PASSWORD, runCli, testEnv, type CliResult } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let path: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  path = join(dir, 'vault');
  env = testEnv(dir, { AISHELL_VAULT_PASSWORD: PASSWORD, AISHELL_VAULT_PATH: path });
});
afterEach(async () => {
  await cleanup();
});

function expectOk(result: CliResult): CliResult {
  expect(result.code, `stderr: ${result.stderr}`).toBe(0);
  return result;
}

describe('vault CLI', () => {
  it('initializes, stores, retrieves and lists', async () => {
    expectOk(await runCli(['init'], { env }));
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const stored = expectOk(await runCli(['store', 'db-admin', '--stdin', '--metadata', '{"owner":"dba"}', '--expires-in', '90d'], { env, stdin: 'hunter2-value\n' }));
    expect(stored.stderr).toContain('stored db-admin (version 1');

    const retrieved = expectOk(await runCli(['retrieve', 'db-admin'], { env }));
    expect(retrieved.stdout).toBe('hunter2-value\n');

    const listed = expectOk(await runCli(['list'], { env }));
    expect(listed.stdout).toMatch(/^KEY\s+CREATED\s+EXPIRES\s+LAST ACCESSED\s+VERSION\n/);
    expect(listed.stdout).toContain('db-admin');

    const json = JSON.parse(expectOk(await runCli(['list', '--format', 'json'], { env })).stdout) as { name: string; metadata: unknown; expires: string; lastAccessed: string }[];
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ name: 'db-admin', metadata: { owner: 'dba' } });
    const days = (Date.parse(json[0].expires) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    expect(json[0].lastAccessed).not.toBeNull();
  });

  it('prints a value only from retrieve', async () => {
    const canary = 'canary-value-5d1e0b77';
    const outputs: CliResult[] = [];
    const run = async (args: string[], stdin?: string) => {
      const result = await runCli(args, { env, stdin });
      outputs.push(result);
      return expectOk(result);
    };

    await run(['init']);
    await run(['store', 'canary', '--stdin'], canary);
    await run(['store-batch', '-'], JSON.stringify({ other: `${canary}-batch`, third: { value: `${canary}-3`, metadata: { team: 'x' } } }));
    await run(['list']);
    await run(['list', '--format', 'json']);
    await run(['show', 'canary']);
    await run(['show', 'canary', '--format', 'json']);
    await run(['update', 'canary', '--metadata', '{"rotated":true}']);
    await run(['rotate', 'canary']);
    await run(['history', 'canary']);
    await run(['history', 'canary', '--format', 'json']);
    await run(['configure']);
    await run(['backup', join(dir, 'backup.vault')]);
    outputs.push(await runCli(['store', 'canary', canary], { env }));
    outputs.push(await runCli(['retrieve', 'missing'], { env }));

    const printed = outputs.map((result) => result.stdout + result.stderr).join('\n');
    expect(printed).not.toContain(canary);
    expect(outputs.at(-2)!.code).toBe(1);
    expect(outputs.at(-2)!.stderr).toContain('values are never passed as arguments');

    const backup = await readFile(join(dir, 'backup.vault'));
    expect(backup.includes(Buffer.from(canary))).toBe(false);
    expect((await readFile(path)).includes(Buffer.from(canary))).toBe(false);

    expect(expectOk(await runCli(['retrieve', 'canary', '--previous', '1'], { env })).stdout).toBe(`${canary}\n`);
    expect(expectOk(await runCli(['retrieve', 'third'], { env })).stdout).toBe(`${canary}-3\n`);
  });

  it('rotates to a generated password', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'app', '--stdin', '--keep-history', '3'], { env, stdin: 'initial' }));
    const rotated = expectOk(await runCli(['rotate', 'app', '--length', '40', '--audit-reason', 'quarterly rotation'], { env }));
    expect(rotated.stderr).toContain('rotated app to version 2 with a generated value');

    const value = expectOk(await runCli(['retrieve', 'app', '--no-newline'], { env })).stdout;
    expect(value).toHaveLength(40);
    expect(value).toMatch(/[A-Z]/);
    expect(value).toMatch(/[a-z]/);
    expect(value).toMatch(/[0-9]/);
    expect(value).not.toBe('initial');

    const history = JSON.parse(expectOk(await runCli(['history', 'app', '--format', 'json'], { env })).stdout) as { versions: { version: number; state: string }[] };
    expect(history.versions.map((item) => [item.version, item.state])).toEqual([[2, 'current'], [1, 'previous']]);
    const showOutput = expectOk(await runCli(['show', 'app'], { env })).stdout;
    expect(showOutput).toContain('quarterly rotation');
  });

  it('refuses an expired entry naming it and its expiry', async () => {
    const vault = await createVault({ path, env, password: PASSWORD });
    await vault.put('old-token', 'value', { expires: new Date('2020-03-01T00:00:00Z') });

    const result = await runCli(['retrieve', 'old-token'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('vault entry "old-token" expired at 2020-03-01T00:00:00.000Z');
    expect(result.stdout).toBe('');

    const listed = expectOk(await runCli(['list'], { env })).stdout;
    expect(listed).toContain('2020-03-01 00:00Z (expired)');
  });

  it('fails clearly without a password source', async () => {
    await createVault({ path, env, password: PASSWORD });
    const { AISHELL_VAULT_PASSWORD: _ignored, ...noPassword } = env;
    const result = await runCli(['list'], { env: noPassword });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no password for');
    expect(result.stderr).toContain('AISHELL_VAULT_PASSWORD');
    expect(result.stderr).toContain('--password-file');

    const store = await runCli(['store', 'x'], { env });
    expect(store.code).toBe(1);
    expect(store.stderr).toContain('no value for "x": pass --stdin or --from-file');
  });

  it('rejects a wrong password and reads a password file', async () => {
    await createVault({ path, env, password: PASSWORD });
    const before = await readFile(path);
    const wrong = await runCli(['list'], { env: { ...env, AISHELL_VAULT_PASSWORD: 'not the password' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('wrong password');
    expect((await readFile(path)).equals(before)).toBe(true);

    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const { AISHELL_VAULT_PASSWORD: _ignored, ...noPassword } = env;
    expectOk(await runCli(['list', '--password-file', passwordFile], { env: noPassword }));
  });

  it('updates metadata and expiry without a value', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'svc', '--stdin'], { env, stdin: 'v1' }));
    expectOk(await runCli(['update', 'svc', '--metadata', '{"owner":"ops"}', '--expires-at', '2031-01-01T00:00:00Z'], { env }));
    const showJson = JSON.parse(expectOk(await runCli(['show', 'svc', '--format', 'json'], { env })).stdout) as { version: number; metadata: unknown; expires: string };
    expect(showJson).toMatchObject({ version: 1, metadata: { owner: 'ops' }, expires: '2031-01-01T00:00:00.000Z' });

    expectOk(await runCli(['update', 'svc', '--from-file', await writeValueFile('v2\n')], { env }));
    expect(expectOk(await runCli(['retrieve', 'svc'], { env })).stdout).toBe('v2\n');

    const conflict = await runCli(['update', 'svc', '--expires-in', '1d', '--no-expiry'], { env });
    expect(conflict.code).toBe(1);
  });

  it('deletes entries and rejects a batch atomically', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'a', '--stdin'], { env, stdin: 'va' }));
    const batch = await runCli(['store-batch', '-'], { env, stdin: JSON.stringify({ b: 'vb', a: 'again' }) });
    expect(batch.code).toBe(1);
    expect(batch.stderr).toContain('"a" already exists; nothing was stored');
    const names = JSON.parse(expectOk(await runCli(['list', '--format', 'json'], { env })).stdout).map((entry: { name: string }) => entry.name);
    expect(names).toEqual(['a']);

    expectOk(await runCli(['delete', 'a'], { env }));
    expect((await runCli(['retrieve', 'a'], { env })).stderr).toContain('vault entry "a" not found');
  });

  it('changes the master password', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'k', '--stdin'], { env, stdin: 'v' }));
    const changed = expectOk(await runCli(['change-password'], { env: { ...env, AISHELL_VAULT_NEW_PASSWORD: 'the new master password' } }));
    expect(changed.stderr).toContain('.bak');

    expect((await runCli(['list'], { env })).stderr).toContain('wrong password');
    const newEnv = { ...env, AISHELL_VAULT_PASSWORD: 'the new master password' };
    expect(expectOk(await runCli(['retrieve', 'k'], { env: newEnv })).stdout).toBe('v\n');
  });

  it('backs up and restores after verifying', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'k', '--stdin'], { env, stdin: 'before-backup' }));
    const backup = join(dir, 'backup.vault');
    expectOk(await runCli(['backup', backup], { env }));
    expect((await stat(backup)).mode & 0o777).toBe(0o600);
    expect((await runCli(['backup', backup], { env })).code).toBe(1);

    expectOk(await runCli(['update', 'k', '--stdin'], { env, stdin: 'after-backup' }));

    // A damaged backup is rejected and the vault stays as it was.
    const damaged = join(dir, 'damaged.vault');
    const bytes = await readFile(backup);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(damaged, bytes);
    const current = await readFile(path);
    const rejected = await runCli(['restore', damaged], { env });
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('damaged');
    expect((await readFile(path)).equals(current)).toBe(true);

    const restored = expectOk(await runCli(['restore', backup], { env }));
    expect(restored.stderr).toContain('the replaced file is kept at');
    expect(expectOk(await runCli(['retrieve', 'k'], { env })).stdout).toBe('before-backup\n');
    const previous = /kept at (\S+)/.exec(restored.stderr)![1];
    const replacedVault = await openVault({ path: previous, env, password: PASSWORD });
    expect(await replacedVault.get('k')).toBe('after-backup');
  });

  it('refuses to restore a backup of another vault without --force', async () => {
    expectOk(await runCli(['init'], { env }));
    const otherPath = join(dir, 'other');
    await createVault({ path: otherPath, env, password: PASSWORD });
    const result = await runCli(['restore', otherPath], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--force');
    expectOk(await runCli(['restore', otherPath, '--force'], { env }));
  });

  it('refuses a restore that the pin rejects, even with --force', async () => {
    const created = expectOk(await runCli(['init'], { env }));
    const id = /with id ([0-9a-f-]{36})/.exec(created.stderr)![1];
    const otherPath = join(dir, 'other');
    await createVault({ path: otherPath, env, password: PASSWORD });
    const before = await readFile(path);

    const result = await runCli(['restore', otherPath, '--force'], { env: { ...env, AISHELL_VAULT_ID: id } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`AISHELL_VAULT_ID expects vault ${id}`);
    expect((await readFile(path)).equals(before)).toBe(true);
  });

  it('configures settings and shows key slots', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['configure', '--keep-history', '2', '--auto-lock', '10m'], { env }));
    const info = JSON.parse(expectOk(await runCli(['configure', '--show', '--format', 'json'], { env })).stdout) as { settings: unknown; keySlots: { type: string }[] };
    expect(info.settings).toEqual({ keepHistory: 2, autoLockSeconds: 600 });
    expect(info.keySlots.map((slot) => slot.type)).toEqual(['password']);

    const added = expectOk(await runCli(['configure', '--add-slot', 'password'], { env: { ...env, AISHELL_VAULT_NEW_PASSWORD: 'second password 123' } }));
    expect(added.stderr).toContain('added key slot 1 (password)');
    expectOk(await runCli(['list', '--slot', '1'], { env: { ...env, AISHELL_VAULT_PASSWORD: 'second password 123' } }));

    // Removing slot 0 re-keys the vault, so slot 1 must be re-wrapped with its own password.
    const refused = await runCli(['configure', '--remove-slot', '0'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('key slot 1 (password)');
    const secondPassword = join(dir, 'second-password');
    await writeFile(secondPassword, 'second password 123\n', { mode: 0o600 });
    const removed = expectOk(await runCli(['configure', '--remove-slot', '0', '--other-password-file', secondPassword], { env }));
    expect(removed.stderr).toContain('removed key slot 0 (password) and re-keyed the vault');
    expect((await runCli(['list'], { env })).stderr).toContain('wrong password');
    expectOk(await runCli(['list'], { env: { ...env, AISHELL_VAULT_PASSWORD: 'second password 123' } }));
  });

  it('reads vault.path from security.yaml', async () => {
    const { AISHELL_VAULT_PATH: _ignored, ...noPathEnv } = env;
    await writeFile(join(dir, 'security.yaml'), 'version: 1\nvault:\n  path: state/my-vault\n');
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    expectOk(await runCli(['init', '-f', join(dir, 'security.yaml')], { env: noPathEnv, cwd: elsewhere }));
    expect((await stat(join(dir, 'state', 'my-vault'))).isFile()).toBe(true);

    expectOk(await runCli(['list'], { env: noPathEnv, cwd: dir }));
    expect((await runCli(['list'], { env: noPathEnv, cwd: elsewhere })).stderr).toContain(join(dir, '.aishell', 'vault'));
  });

  it('requires the key file chosen at init', async () => {
    const keyFile = join(dir, 'vault.key');
    await writeFile(keyFile, 'random key file contents 1f9e7c', { mode: 0o600 });
    expectOk(await runCli(['init', '--key-file', keyFile], { env }));

    const without = await runCli(['list'], { env });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('requires a key file');
    expectOk(await runCli(['list', '--key-file', keyFile], { env }));

    const newKeyFile = join(dir, 'new.key');
    await writeFile(newKeyFile, 'another key file 7a21', { mode: 0o600 });
    const newEnv = { ...env, AISHELL_VAULT_NEW_PASSWORD: 'the new master password' };
    expectOk(await runCli(['change-password', '--key-file', keyFile, '--new-key-file', newKeyFile], { env: newEnv }));
    const passwordEnv = { ...env, AISHELL_VAULT_PASSWORD: 'the new master password' };
    expect((await runCli(['list', '--key-file', keyFile], { env: passwordEnv })).stderr).toContain('wrong password or key file');
    expectOk(await runCli(['list', '--key-file', newKeyFile], { env: passwordEnv }));
  });

  it('prefers --vault-path over the environment', async () => {
    const other = join(dir, 'other-vault');
    expectOk(await runCli(['init', '--vault-path', other], { env }));
    expectOk(await runCli(['store', 'only-in-other', '--stdin', '--vault-path', other], { env, stdin: 'v' }));
    expect((await runCli(['list'], { env })).stderr).toContain(`no vault at ${path}`);
  });

  it('never echoes a mistyped batch or metadata', async () => {
    expectOk(await runCli(['init'], { env }));
    const canary = 'canary-secret-91c4';

    const inline = await runCli(['store-batch', `{"x":"${canary}"}`], { env });
    expect(inline.code).toBe(1);
    expect(inline.stderr).toContain('looks like inline JSON');
    expect(inline.stderr).not.toContain(canary);

    const missing = await runCli(['store-batch', canary], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read the batch file (ENOENT)');
    expect(missing.stderr).not.toContain(canary);

    const metadata = await runCli(['store', 'x', '--stdin', '--metadata', canary], { env, stdin: 'value' });
    expect(metadata.code).toBe(1);
    expect(metadata.stderr).toContain('--metadata is not valid JSON');
    expect(metadata.stderr).not.toContain(canary);
  });

  it('rejects duplicate names and past expiry in a batch', async () => {
    expectOk(await runCli(['init'], { env }));
    const duplicate = await runCli(['store-batch', '-'], { env, stdin: '{"a":"first","b":"x","a":"second"}' });
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('names entry "a" twice; nothing was stored');
    expect(duplicate.stderr).not.toContain('second');

    const field = await runCli(['store-batch', '-'], { env, stdin: '{"a":{"value":"v","expiresIn":"1d","expiresIn":"2d"}}' });
    expect(field.code).toBe(1);
    expect(field.stderr).toContain('batch entry "a" has the field "expiresIn" twice');

    const past = await runCli(['store-batch', '-'], { env, stdin: '{"a":{"value":"v","expiresAt":"2020-01-01"}}' });
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('batch entry "a" field expiresAt 2020-01-01 is in the past');
    expect((await runCli(['store', 'b', '--stdin', '--expires-at', '2020-01-01'], { env, stdin: 'v' })).stderr).toContain('--expires-at 2020-01-01 is in the past');

    const names = JSON.parse(expectOk(await runCli(['list', '--format', 'json'], { env })).stdout) as unknown[];
    expect(names).toEqual([]);
  });

  it('writes no generation for an empty batch', async () => {
    expectOk(await runCli(['init'], { env }));
    const before = await readFile(path);
    const empty = expectOk(await runCli(['store-batch', '-'], { env, stdin: '{}' }));
    expect(empty.stderr).toContain('has no entries; the vault was not changed');
    expect((await readFile(path)).equals(before)).toBe(true);
  });

  it('keeps .bak at the last content change when reading', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'a', '--stdin'], { env, stdin: 'first' }));
    expectOk(await runCli(['store', 'b', '--stdin'], { env, stdin: 'second' }));
    const backupBefore = await readFile(`${path}.bak`);

    expectOk(await runCli(['retrieve', 'a'], { env }));
    expectOk(await runCli(['retrieve', 'b'], { env }));
    expect((await readFile(`${path}.bak`)).equals(backupBefore)).toBe(true);

    // The next content change moves the file as it was, access times included, to .bak.
    const beforeChange = await readFile(path);
    expectOk(await runCli(['update', 'a', '--stdin'], { env, stdin: 'changed' }));
    expect((await readFile(`${path}.bak`)).equals(beforeChange)).toBe(true);
  });

  it('records the operating-system user as the actor', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'a', '--stdin'], { env: { ...env, USER: 'not-the-os-user' }, stdin: 'v' }));
    const shown = JSON.parse(expectOk(await runCli(['show', 'a', '--format', 'json'], { env })).stdout) as { lastChange: { actor: string } };
    expect(shown.lastChange.actor).toBe(`${userInfo().username}@${hostname()}`);
  });

  it('accepts the credential names that security.yaml accepts', async () => {
    expectOk(await runCli(['init'], { env }));
    for (const name of ['team/app-user', '_internal', 'a.b_c-d/e']) {
      expectOk(await runCli(['store', name, '--stdin'], { env, stdin: `value of ${name}` }));
      expect(expectOk(await runCli(['retrieve', name], { env })).stdout).toBe(`value of ${name}\n`);
    }
    expect(ENTRY_NAME_PATTERN.test('x'.repeat(128))).toBe(true);
    for (const name of ['x'.repeat(129), '/leading', '-leading', 'has space', 'a:b']) {
      expect(ENTRY_NAME_PATTERN.test(name), name).toBe(false);
    }
  });

  it('rejects a vault whose id differs from the pin', async () => {
    const created = expectOk(await runCli(['init'], { env }));
    const id = /with id ([0-9a-f-]{36})/.exec(created.stderr)![1];
    expect(created.stderr).toContain(`AISHELL_VAULT_ID=${id}`);
    const shown = expectOk(await runCli(['configure', '--show'], { env })).stdout;
    expect(shown).toContain(`vault id:      ${id}`);
    expect(shown).toMatch(/slots sha256:  [0-9a-f]{64}/);
    expectOk(await runCli(['list'], { env: { ...env, AISHELL_VAULT_ID: id } }));

    const otherId = '00000000-0000-4000-8000-000000000000';
    const pinnedEnv = await runCli(['list'], { env: { ...env, AISHELL_VAULT_ID: otherId } });
    expect(pinnedEnv.code).toBe(1);
    expect(pinnedEnv.stderr).toContain(`AISHELL_VAULT_ID expects vault ${otherId}`);

    await writeFile(join(dir, 'security.yaml'), `version: 1\nvault:\n  id: ${otherId}\n`);
    const pinnedConfig = await runCli(['list'], { env, cwd: dir });
    expect(pinnedConfig.code).toBe(1);
    expect(pinnedConfig.stderr).toContain(`vault.id in ${join(dir, 'security.yaml')} expects vault ${otherId}`);
  });

  it('rejects unknown commands and options', async () => {
    expect((await runCli(['frobnicate'], { env })).stderr).toContain('unknown vault command "frobnicate"');
    const unknown = await runCli(['list', '--value=s3cr3t'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).not.toContain('s3cr3t');
    expect(expectOk(await runCli(['--help'], { env })).stdout).toContain('Usage: aishell vault');
  });
});

describe('vault CLI sessions', () => {
  it('unlocks once and locks again', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'k', '--stdin'], { env, stdin: 'session-value' }));

    const unlocked = expectOk(await runCli(['unlock', '--timeout', '5m'], { env }));
    const match = /^export AISHELL_VAULT_SESSION='([^']+)'\n$/.exec(unlocked.stdout);
    expect(match).not.toBeNull();
    const token = match![1];

    const sessionDir = join(dir, 'run', 'aishell');
    expect((await stat(sessionDir)).mode & 0o777).toBe(0o700);

    const { AISHELL_VAULT_PASSWORD: _ignored, ...noPassword } = env;
    const sessionEnv = { ...noPassword, AISHELL_VAULT_SESSION: token };
    expect(expectOk(await runCli(['retrieve', 'k'], { env: sessionEnv })).stdout).toBe('session-value\n');

    const locked = expectOk(await runCli(['lock'], { env: sessionEnv }));
    expect(locked.stderr).toContain('ended 1 unlock session');
    const after = await runCli(['retrieve', 'k'], { env: sessionEnv });
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('aishell vault unlock');
  });

  it('ends sessions when the password changes', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'k', '--stdin'], { env, stdin: 'session-value' }));
    const token = /AISHELL_VAULT_SESSION='([^']+)'/.exec(expectOk(await runCli(['unlock'], { env })).stdout)![1];
    const sessionDir = join(dir, 'run', 'aishell');
    const [sessionFile] = await readdir(sessionDir);
    // A copy stands for a session that change-password cannot delete, such as one in another runtime directory.
    const sessionCopy = await readFile(join(sessionDir, sessionFile));

    const changed = expectOk(await runCli(['change-password'], { env: { ...env, AISHELL_VAULT_NEW_PASSWORD: 'the new master password' } }));
    expect(changed.stderr).toContain('ended 1 unlock session');
    expect(await readdir(sessionDir)).toEqual([]);

    const { AISHELL_VAULT_PASSWORD: _ignored, ...noPassword } = env;
    const sessionEnv = { ...noPassword, AISHELL_VAULT_SESSION: token };
    const ended = await runCli(['retrieve', 'k'], { env: sessionEnv });
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain('has ended');

    await writeFile(join(sessionDir, sessionFile), sessionCopy, { mode: 0o600 });
    const stale = await runCli(['retrieve', 'k'], { env: sessionEnv });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('no longer opens');
    expect(stale.stdout).toBe('');
  });

  it('caps the session timeout at 12 hours', async () => {
    expectOk(await runCli(['init'], { env }));
    const unlocked = expectOk(await runCli(['unlock', '--timeout', '13h', '--format', 'json'], { env }));
    expect((JSON.parse(unlocked.stdout) as { idleSeconds: number }).idleSeconds).toBe(43_200);
    expect(unlocked.stderr).toContain('--timeout 13h is longer than the maximum of 12 h');
    expect(unlocked.stderr).not.toContain('46800');

    const configured = await runCli(['configure', '--auto-lock', '13h'], { env });
    expect(configured.code).toBe(1);
    expect(configured.stderr).toContain('from 1 to 43200');
  });

  it('warns when a restored backup predates a password change', async () => {
    expectOk(await runCli(['init'], { env }));
    expectOk(await runCli(['store', 'k', '--stdin'], { env, stdin: 'v' }));
    const backup = join(dir, 'before-change.vault');
    expectOk(await runCli(['backup', backup], { env }));
    expectOk(await runCli(['store', 'other', '--stdin'], { env, stdin: 'w' }));

    const sameSlots = expectOk(await runCli(['restore', backup], { env }));
    expect(sameSlots.stderr).not.toContain('warning');

    expectOk(await runCli(['change-password'], { env: { ...env, AISHELL_VAULT_NEW_PASSWORD: 'the new master password' } }));
    const restored = expectOk(await runCli(['restore', backup], { env }));
    expect(restored.stderr).toContain('warning:');
    expect(restored.stderr).toContain('including any old password');
  });

  it('refuses to print a token to a terminal', async () => {
    expectOk(await runCli(['init'], { env }));
    const { Readable } = await import('node:stream');
    const { runVaultCommand } = await import('../../engine/vault/cli.js');
    let stderr = '';
    const code = await runVaultCommand(['unlock'], {
      stdout: { write: () => true, isTTY: true },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: Readable.from([]),
      env,
      cwd: dir,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('eval "$(aishell vault unlock)"');
  });

  it('refuses a session directory that others can read', async () => {
    expectOk(await runCli(['init'], { env }));
    await mkdir(join(dir, 'run', 'aishell'), { recursive: true });
    await chmod(join(dir, 'run', 'aishell'), 0o755);
    const result = await runCli(['unlock', '--format', 'json'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('mode 0700');
  });
});

async function writeValueFile(text: string): Promise<string> {
  const file = join(dir, `value-${Math.random().toString(16).slice(2)}`);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}
