import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  SecretStoreCheckpointStore,
  SecretStoreKeyStore,
  vaultSecretStore,
  type SecretStore,
} from '../../engine/ledger/index.js';
import { runAuditCommand } from '../../engine/ledger/cli.js';
import { LedgerError } from '../../engine/ledger/index.js';
import { createVault } from '../../engine/vault/index.js';
import { applyRecords, ledgerFixture, type LedgerFixture } from './helpers.js';

const PASSWORD = 'correct horse battery staple 42';

let fixture: LedgerFixture;
let secrets: SecretStore;
let vaultPath: string;

beforeEach(async () => {
  fixture = await ledgerFixture();
  vaultPath = join(fixture.dir, 'vault');
  // A real vault; the low scrypt cost only keeps the test quick.
  const vault = await createVault({
    path: vaultPath,
    env: { AISHELL_VAULT_KDF_COST: '10' },
    password: PASSWORD,
  });
  secrets = vaultSecretStore(vault);
});

/** Runs `aishell audit` on the fixture's ledger with extra environment variables. */
async function audit(env: NodeJS.ProcessEnv, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env: { HOME: fixture.dir, USER: 'tester', AISHELL_LEDGER: fixture.path, AISHELL_LEDGER_ANCHOR: fixture.anchorPath, ...env },
    cwd: fixture.dir,
  };
  const code = await runAuditCommand(args, io);
  return { code, stdout, stderr };
}

/**
 * Two commands that keep their heads in the vault, as apply does, then a cut back to the first
 * command's checkpoint with the anchor file's entry removed, so only the vault still contains the
 * later head.
 */
async function rollBackBehindTheVault(): Promise<number> {
  const first = await openWithCheckpointInVault();
  await first.append(applyRecords('prod/app', 2));
  await first.close();
  const kept = await fixture.lines();

  const second = await openWithCheckpointInVault();
  await second.append(applyRecords('prod/app', 3));
  await second.close();

  await fixture.writeLines(kept);
  await rm(fixture.anchorPath);
  return kept.length;
}

/** Opens the ledger as the CLI's audit recorder does, with key file, anchor file and the vault. */
function openWithCheckpointInVault() {
  return fixture.open({ checkpointStores: [new SecretStoreCheckpointStore(secrets)] });
}

afterEach(async () => {
  await fixture.cleanup();
});

function openWithVault() {
  return fixture.open({
    keyStore: new SecretStoreKeyStore(secrets),
    checkpointStores: [new SecretStoreCheckpointStore(secrets)],
  });
}

describe('ledger with the vault', () => {
  it('keeps the signing key and the head in the vault', async () => {
    const ledger = await openWithVault();
    await ledger.append(applyRecords('prod/app', 2));
    const result = await ledger.checkpoint();
    await ledger.close();

    expect(result?.stored).toEqual([`anchor file ${fixture.anchorPath}`, 'vault']);
    expect(await secrets.get('ledger-signing-key')).toContain('BEGIN PRIVATE KEY');

    const report = await (await openWithVault()).verify();
    expect(report.ok).toBe(true);
    expect(report.anchors.map((anchor) => [anchor.source, anchor.status])).toEqual([
      [`anchor file ${fixture.anchorPath}`, 'ok'],
      ['vault', 'ok'],
    ]);
  });

  it('catches a rollback of both ledger and anchor file', async () => {
    const first = await openWithVault();
    await first.append(applyRecords('prod/app', 2));
    await first.close();
    await copyFile(fixture.path, join(fixture.dir, 'ledger.old'));
    await copyFile(fixture.anchorPath, join(fixture.dir, 'anchor.old'));
    const olderSize = (await fixture.lines()).length;

    const second = await openWithVault();
    await second.append(applyRecords('prod/app', 3));
    await second.close();

    // Someone restores the old ledger together with the old anchor file; only the vault remembers.
    await copyFile(join(fixture.dir, 'ledger.old'), fixture.path);
    await copyFile(join(fixture.dir, 'anchor.old'), fixture.anchorPath);

    const report = await (await openWithVault()).verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(olderSize);
    expect(report.anchors.find((anchor) => anchor.source === 'vault')?.status).toBe('failed');
    expect(report.anchors.find((anchor) => anchor.source.startsWith('anchor file'))?.status).toBe('ok');
  });
});

describe('aishell audit verify with the vault', () => {
  it('checks the head kept in the vault', async () => {
    const size = await rollBackBehindTheVault();

    const result = await audit({ AISHELL_VAULT_PASSWORD: PASSWORD, AISHELL_VAULT_PATH: vaultPath }, 'verify');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`NOT intact, first bad record: seq ${size}`);
    expect(result.stdout).toContain(`anchor      vault ${vaultPath}: failed`);
    expect(result.stdout).toContain(`the ledger has ${size} records but vault ${vaultPath} contains a signed checkpoint of size`);

    // --vault-path names the vault as well as AISHELL_VAULT_PATH does.
    const named = await audit({ AISHELL_VAULT_PASSWORD: PASSWORD }, 'verify', '--vault-path', vaultPath);
    expect(named.code).toBe(1);
    expect(named.stdout).toContain(`anchor      vault ${vaultPath}: failed`);
  });

  it('says which stores it skipped', async () => {
    await rollBackBehindTheVault();

    const locked = await audit({ AISHELL_VAULT_PATH: vaultPath }, 'verify');
    expect(locked.stdout).toContain(`anchor      vault ${vaultPath}: skipped`);
    expect(locked.stdout).toContain(`warning: vault ${vaultPath} was not checked: cannot be opened without a prompt: no password for ${vaultPath}`);
    expect(locked.stdout).toContain('no checkpoint kept outside the ledger was checked');

    const wrong = await audit({ AISHELL_VAULT_PATH: vaultPath, AISHELL_VAULT_PASSWORD: 'not the password' }, 'verify');
    expect(wrong.stdout).toContain(`anchor      vault ${vaultPath}: skipped`);

    const absent = await audit({ AISHELL_VAULT_PATH: join(fixture.dir, 'no-vault') }, 'verify');
    expect(absent.stdout).toContain(`warning: vault ${join(fixture.dir, 'no-vault')} was not checked: no vault at ${join(fixture.dir, 'no-vault')}`);
  });
});

describe('ledger close after a refused checkpoint', () => {
  it('says the records were appended', async () => {
    const size = await rollBackBehindTheVault();

    // The next command, as plan or apply runs it, appends its records, then the vault refuses
    // the checkpoint.
    const next = await openWithCheckpointInVault();
    await next.append([{ kind: 'plan.drift', target: 'prod/app', details: { changes: 1 }, outcome: 'found' }]);
    const error = await next.close().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    expect(error).toBeInstanceOf(LedgerError);
    expect((error as LedgerError).recordsAppended).toBe(1);
    expect((error as LedgerError).message).toMatch(
      new RegExp(`^1 record\\(s\\) were appended to ${fixture.path}, but no checkpoint was signed for them: vault contains a signed checkpoint of size \\d+, but ${fixture.path} has only ${size + 1} records`),
    );
    const lines = await fixture.lines();
    expect(lines).toHaveLength(size + 1);
    expect(JSON.parse(lines[size]).kind).toBe('plan.drift');
  });
});
