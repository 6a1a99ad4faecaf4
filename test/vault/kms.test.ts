import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openBody, sealBody } from '../../engine/vault/body-crypto.js';
import { serializeVaultFile, type AwsKmsSlot, type KeySlot, type VaultDocument } from '../../engine/vault/format.js';
import { addKeySlot, changePassword, createVault, openVault, slotFingerprint, type Vault } from '../../engine/vault/index.js';
import { makeTempVault, PASSWORD, runCli, type TempVault } from './helpers.js';
import { startFakeAwsKms, startFakeGcpKms, type FakeKms } from './kms-fakes.js';

// NOTE: no cloud is reachable from the test machines, so these tests run the real AWS and
// Google clients against the local fakes in kms-fakes.ts. What the real services check beyond
// Encrypt and Decrypt (IAM policies, key rotation, quotas) is not covered.

const AWS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIDVAULTTEST', AWS_SECRET_ACCESS_KEY: 'vault-test-secret', AWS_EC2_METADATA_DISABLED: 'true' };
const GCP_KEY = 'projects/test-project/locations/global/keyRings/aishell/cryptoKeys/vault';

/**
 * Writes at `path` a vault that an attacker made: the attacker's own data key and values, and
 * only the attacker's KMS slot, with `endpoint` naming the attacker's server as earlier versions
 * recorded it. The attacker seals the body, so the file is valid apart from the endpoint.
 */
async function forgeKmsVault(
  victim: TempVault,
  options: { endpoint: string; add: (vault: Vault) => Promise<unknown>; vaultId?: string },
): Promise<void> {
  const attackerPath = join(victim.dir, 'attacker-vault');
  const attacker = await createVault({ path: attackerPath, env: victim.env, password: 'the attacker password' });
  await attacker.put('db-admin', 'attacker-chosen-value');
  await options.add(attacker);

  const { document, body } = await attacker.load();
  const vaultId = options.vaultId ?? document.vaultId;
  const slot = { ...document.keySlots[1], endpoint: options.endpoint } as KeySlot;
  const { body: _body, checksum: _checksum, ...header } = document;
  const forged = sealBody({ ...header, vaultId, keySlots: [slot] }, attacker.requireKey(), body);
  await writeFile(victim.path, serializeVaultFile(forged));
}

describe('vault AWS KMS key slot (local fake of the KMS JSON API)', () => {
  let kms: FakeKms;
  beforeAll(async () => {
    kms = await startFakeAwsKms({ keyIds: [AWS_KEY], accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID });
  });
  afterAll(async () => {
    await kms?.close();
  });

  // First in the file: the SDK decides about its warning once per process, at the first client.
  it('keeps the SDK Node version warning quiet', async () => {
    const warnings: string[] = [];
    const listener = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listener);
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes('NodeVersionSupportWarning'))).toEqual([]);
      expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBeUndefined();
    } finally {
      process.off('warning', listener);
      await temp.cleanup();
    }
  });

  it('opens the vault with KMS and no password', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('ci-secret', 'kms-protected-value');
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      const slot = await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      expect(slot).toMatchObject({ id: 1, type: 'aws-kms', keyId: AWS_KEY });

      const encrypt = kms.calls.findLast((call) => call.operation === 'Encrypt');
      expect(encrypt?.context).toMatchObject({ 'aishell-vault': temp.vault.vaultId, 'aishell-vault-slot': '1' });

      const vault = await openVault({ path: temp.path, env });
      expect(vault.unlockedBy?.type).toBe('aws-kms');
      expect(await vault.get('ci-secret')).toBe('kms-protected-value');
    } finally {
      await temp.cleanup();
    }
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_KMS', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      const document = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      expect((document.keySlots[1] as AwsKmsSlot).endpoint).toBeUndefined();
      const vault = await openVault({ path: temp.path, env, slot: 'aws-kms' });
      expect(vault.unlockedBy?.type).toBe('aws-kms');
    } finally {
      await temp.cleanup();
    }
  });

  it('rejects an edited slot through the encryption context', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      const document = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      document.keySlots[1].id = 5;
      await writeFile(temp.path, serializeVaultFile(document));

      const error = await openVault({ path: temp.path, env, slot: 'aws-kms' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'BAD_CREDENTIAL' });
      expect((error as Error).message).toContain('InvalidCiphertextException');
    } finally {
      await temp.cleanup();
    }
  });

  it('reports an outage and still opens with the password', async () => {
    const temp = await makeTempVault();
    const down = await startFakeAwsKms({ keyIds: [AWS_KEY], accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID });
    try {
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: down.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      await down.close();

      const error = await openVault({ path: temp.path, env }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'KEY_PROVIDER' });
      expect((error as Error).message).toContain(`AWS KMS key ${AWS_KEY} (key slot 1) failed`);

      const vault = await openVault({ path: temp.path, env, password: PASSWORD });
      expect(vault.unlockedBy?.type).toBe('password');
    } finally {
      await temp.cleanup();
    }
  });

  it('rejects wrong AWS credentials', async () => {
    const temp = await makeTempVault();
    try {
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env: { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url } });
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url, AWS_ACCESS_KEY_ID: 'AKIDSOMEONEELSE' };
      await expect(openVault({ path: temp.path, env, slot: 'aws-kms' })).rejects.toMatchObject({ code: 'BAD_CREDENTIAL' });
    } finally {
      await temp.cleanup();
    }
  });

  it('never contacts an endpoint named in the file', async () => {
    const temp = await makeTempVault();
    const attackerKms = await startFakeAwsKms({ keyIds: [AWS_KEY], accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, ignoreContext: true });
    try {
      const attackerEnv = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: attackerKms.url };
      await forgeKmsVault(temp, {
        endpoint: attackerKms.url,
        add: (vault) => addKeySlot(vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env: attackerEnv }),
      });
      const callsBefore = attackerKms.calls.length;

      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      const error = await openVault({ path: temp.path, env }).catch((caught: unknown) => caught);
      expect(attackerKms.calls.length).toBe(callsBefore);
      expect(error).toMatchObject({ code: 'BAD_CREDENTIAL' });
      expect((error as Error).message).toContain('InvalidCiphertextException');
    } finally {
      await attackerKms.close();
      await temp.cleanup();
    }
  });

  it('rejects a file whose vault id differs from the pin', async () => {
    const temp = await makeTempVault();
    const attackerKms = await startFakeAwsKms({ keyIds: [AWS_KEY], accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, ignoreContext: true });
    try {
      const pinnedId = temp.vault.vaultId;
      const attackerEnv = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: attackerKms.url };
      await forgeKmsVault(temp, {
        endpoint: attackerKms.url,
        add: (vault) => addKeySlot(vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env: attackerEnv }),
      });
      const kmsCallsBefore = kms.calls.length;

      // Even an endpoint that the attacker controls is not called: the pin is checked first.
      const env = { ...attackerEnv, AISHELL_VAULT_ID: pinnedId };
      const attackerCallsBefore = attackerKms.calls.length;
      const error = await openVault({ path: temp.path, env }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INTEGRITY' });
      expect((error as Error).message).toContain(`AISHELL_VAULT_ID expects vault ${pinnedId}`);
      expect(attackerKms.calls.length).toBe(attackerCallsBefore);
      expect(kms.calls.length).toBe(kmsCallsBefore);
    } finally {
      await attackerKms.close();
      await temp.cleanup();
    }
  });

  it('rejects a copied vault id with other key slots', async () => {
    const temp = await makeTempVault();
    const attackerKms = await startFakeAwsKms({ keyIds: [AWS_KEY], accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, ignoreContext: true });
    try {
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      const pins = { AISHELL_VAULT_ID: temp.vault.vaultId, AISHELL_VAULT_SLOT_FINGERPRINT: (await temp.vault.info()).slotFingerprint };
      expect((await openVault({ path: temp.path, env: { ...env, ...pins } })).unlockedBy?.type).toBe('aws-kms');

      await forgeKmsVault(temp, {
        endpoint: attackerKms.url,
        vaultId: temp.vault.vaultId,
        add: (vault) => addKeySlot(vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env: { ...env, AWS_ENDPOINT_URL_KMS: attackerKms.url } }),
      });
      const forged = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      expect(forged.vaultId).toBe(temp.vault.vaultId);
      expect(slotFingerprint(forged)).not.toBe(pins.AISHELL_VAULT_SLOT_FINGERPRINT);

      const error = await openVault({ path: temp.path, env: { ...env, ...pins } }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INTEGRITY' });
      expect((error as Error).message).toContain('AISHELL_VAULT_SLOT_FINGERPRINT');
    } finally {
      await attackerKms.close();
      await temp.cleanup();
    }
  });

  it('refuses plain http to a host that is not loopback', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      const remote = { ...env, AWS_ENDPOINT_URL_KMS: 'http://kms.example.com' };
      const error = await openVault({ path: temp.path, env: remote, slot: 'aws-kms' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((error as Error).message).toContain('AWS_ENDPOINT_URL_KMS http://kms.example.com uses plain http');
    } finally {
      await temp.cleanup();
    }
  });

  it('binds the wrapped key to its vault', async () => {
    const first = await makeTempVault();
    const second = await makeTempVault();
    try {
      const env = { ...first.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(first.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      await addKeySlot(second.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });

      // Move the first vault's wrapped key into the second vault's slot. The second vault's owner
      // seals the body again, so only the KMS binding can reject the slot.
      const moved = JSON.parse(await readFile(first.path, 'utf8')) as VaultDocument;
      const { document, body } = await second.vault.load();
      const slots = document.keySlots.map((slot) => (slot.id === 1 ? { ...slot, ciphertext: moved.keySlots[1].ciphertext } : slot));
      const { body: _body, checksum: _checksum, ...header } = document;
      await writeFile(second.path, serializeVaultFile(sealBody({ ...header, keySlots: slots }, second.vault.requireKey(), body)));

      const error = await openVault({ path: second.path, env, slot: 'aws-kms' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'BAD_CREDENTIAL' });
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
  });

  it('re-wraps the KMS slot when the password changes', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('entry', 'kept across the re-key');
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      const before = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;

      await changePassword(temp.vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env });
      const after = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      expect(after.keySlots.map((slot) => slot.type)).toEqual(['password', 'aws-kms']);
      expect(after.keySlots[1].ciphertext).not.toBe(before.keySlots[1].ciphertext);

      const viaKms = await openVault({ path: temp.path, env, slot: 'aws-kms' });
      expect(await viaKms.get('entry')).toBe('kept across the re-key');
      // The key that KMS now returns is a new one: it does not open the file from before.
      const newKey = viaKms.requireKey();
      expect(() => openBody(before, newKey, temp.path)).toThrow(/was modified/);
    } finally {
      await temp.cleanup();
    }
  });

  it('requires KMS access to re-key, or --drop-other-slots', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, ...AWS_ENV, AWS_ENDPOINT_URL_KMS: kms.url };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1' }, { env });
      const before = await readFile(temp.path);

      const noAccess = { ...env, AWS_ACCESS_KEY_ID: 'AKIDSOMEONEELSE' };
      const error = await changePassword(temp.vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env: noAccess }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'MISSING_CREDENTIAL' });
      expect((error as Error).message).toContain('key slot 1 (aws-kms)');
      expect((error as Error).message).toContain('--drop-other-slots');
      expect((await readFile(temp.path)).equals(before)).toBe(true);

      const result = await changePassword(temp.vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env: noAccess, dropOtherSlots: true });
      expect(result.dropped).toMatchObject([{ id: 1, type: 'aws-kms' }]);
      expect((await temp.vault.info()).keySlots.map((slot) => slot.type)).toEqual(['password']);
    } finally {
      await temp.cleanup();
    }
  });

  it('adds and uses the slot through the CLI', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('cli-entry', 'cli-kms-value');
      const env = { ...temp.env, ...AWS_ENV, AISHELL_VAULT_PATH: temp.path };
      const added = await runCli(['configure', '--add-slot', 'aws-kms', '--kms-key-id', AWS_KEY, '--region', 'us-east-1', '--endpoint', kms.url], {
        env: { ...env, AISHELL_VAULT_PASSWORD: PASSWORD },
      });
      expect(added.code, added.stderr).toBe(0);
      expect(added.stderr).toContain('does not record --endpoint; set AWS_ENDPOINT_URL_KMS');
      const retrieved = await runCli(['retrieve', 'cli-entry'], { env: { ...env, AWS_ENDPOINT_URL_KMS: kms.url } });
      expect(retrieved.code, retrieved.stderr).toBe(0);
      expect(retrieved.stdout).toBe('cli-kms-value\n');

      // The endpoint may also come from security.yaml.
      await writeFile(join(temp.dir, 'security.yaml'), `version: 1\nvault:\n  aws_kms_endpoint: ${kms.url}\n`);
      const fromConfig = await runCli(['retrieve', 'cli-entry'], { env, cwd: temp.dir });
      expect(fromConfig.code, fromConfig.stderr).toBe(0);
      expect(fromConfig.stdout).toBe('cli-kms-value\n');
    } finally {
      await temp.cleanup();
    }
  });
});

describe('vault GCP KMS key slot (local fake of the Cloud KMS REST API)', () => {
  let kms: FakeKms;
  let credentialsFile: string;
  let gcpPublicKeyPem: string;
  let cleanupCredentials: () => Promise<void>;

  beforeAll(async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    gcpPublicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    kms = await startFakeGcpKms({ keyNames: [GCP_KEY], publicKeyPem: gcpPublicKeyPem });

    // A service account key lets the Google client sign its own JWT, so no token endpoint is called.
    const temp = await makeTempVault();
    cleanupCredentials = temp.cleanup;
    credentialsFile = join(temp.dir, 'service-account.json');
    await writeFile(
      credentialsFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'test-project',
        private_key_id: 'test-key-1',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: 'vault@test-project.iam.gserviceaccount.com',
        client_id: '1',
      }),
      { mode: 0o600 },
    );
  });
  afterAll(async () => {
    await kms?.close();
    await cleanupCredentials?.();
  });

  it('opens the vault with Cloud KMS and no password', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('ci-secret', 'gcp-protected-value');
      const env = { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile, AISHELL_GCP_KMS_ENDPOINT: kms.url };
      const slot = await addKeySlot(temp.vault, { type: 'gcp-kms', keyName: GCP_KEY }, { env });
      expect(slot).toEqual({ id: 1, type: 'gcp-kms', keyName: GCP_KEY, ciphertext: expect.any(String) });
      expect(kms.calls.map((call) => call.operation)).toEqual(['encrypt', 'decrypt']);

      const vault = await openVault({ path: temp.path, env });
      expect(vault.unlockedBy?.type).toBe('gcp-kms');
      expect(await vault.get('ci-secret')).toBe('gcp-protected-value');
    } finally {
      await temp.cleanup();
    }
  });

  it('rejects an edited slot through the AAD', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile, AISHELL_GCP_KMS_ENDPOINT: kms.url };
      await addKeySlot(temp.vault, { type: 'gcp-kms', keyName: GCP_KEY }, { env });
      const document = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      document.keySlots[1].id = 9;
      await writeFile(temp.path, serializeVaultFile(document));

      const error = await openVault({ path: temp.path, env, slot: 'gcp-kms' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'BAD_CREDENTIAL' });
      expect((error as Error).message).toContain('Decryption failed');
    } finally {
      await temp.cleanup();
    }
  });

  it('never sends the token to an endpoint named in the file', async () => {
    const temp = await makeTempVault();
    const attackerKms = await startFakeGcpKms({ keyNames: [GCP_KEY], publicKeyPem: gcpPublicKeyPem, ignoreAad: true });
    try {
      await forgeKmsVault(temp, {
        endpoint: attackerKms.url,
        add: (vault) =>
          addKeySlot(vault, { type: 'gcp-kms', keyName: GCP_KEY }, { env: { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile, AISHELL_GCP_KMS_ENDPOINT: attackerKms.url } }),
      });
      const callsBefore = attackerKms.calls.length;

      // The victim configures the endpoint in security.yaml, not in the environment.
      const env = { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile };
      const trust = { gcpKmsEndpoint: kms.url, sources: { gcpKmsEndpoint: 'vault.gcp_kms_endpoint in security.yaml' } };
      const error = await openVault({ path: temp.path, env, trust }).catch((caught: unknown) => caught);
      expect(attackerKms.calls.length).toBe(callsBefore);
      expect(error).toMatchObject({ code: 'BAD_CREDENTIAL' });
    } finally {
      await attackerKms.close();
      await temp.cleanup();
    }
  });

  it('refuses plain http to a host that is not loopback', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile, AISHELL_GCP_KMS_ENDPOINT: kms.url };
      await addKeySlot(temp.vault, { type: 'gcp-kms', keyName: GCP_KEY }, { env });
      const callsBefore = kms.calls.length;
      const error = await openVault({ path: temp.path, env: { ...env, AISHELL_GCP_KMS_ENDPOINT: 'http://10.1.2.3:8080' }, slot: 'gcp-kms' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((error as Error).message).toContain('AISHELL_GCP_KMS_ENDPOINT http://10.1.2.3:8080 uses plain http');
      expect(kms.calls.length).toBe(callsBefore);
    } finally {
      await temp.cleanup();
    }
  });

  it('takes the endpoint from AISHELL_GCP_KMS_ENDPOINT', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile, AISHELL_GCP_KMS_ENDPOINT: kms.url };
      await addKeySlot(temp.vault, { type: 'gcp-kms', keyName: GCP_KEY }, { env });
      const vault = await openVault({ path: temp.path, env, slot: 'gcp-kms' });
      expect(vault.unlockedBy?.type).toBe('gcp-kms');
    } finally {
      await temp.cleanup();
    }
  });
});
