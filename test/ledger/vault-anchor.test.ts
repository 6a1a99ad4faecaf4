import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  SecretStoreCheckpointStore,
  SecretStoreKeyStore,
  vaultSecretStore,
  type SecretStore,
} from '../../engine/ledger/index.js';
import { createVault } from '../../engine/vault/index.js';
import { applyRecords, ledgerFixture, type LedgerFixture } from './helpers.js';

let fixture: LedgerFixture;
let secrets: SecretStore;

beforeEach(async () => {
  fixture = await ledgerFixture();
  // A real vault; the low scrypt cost only keeps the test quick.
  const vault = await createVault({
    path: join(fixture.dir, 'vault'),
    env: { AISHELL_VAULT_KDF_COST: '10' },
    password: 'correct horse battery staple 42',
  });
  secrets = vaultSecretStore(vault);
});

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
