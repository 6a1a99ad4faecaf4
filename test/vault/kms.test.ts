import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { serializeVaultFile, type AwsKmsSlot, type VaultDocument } from '../../engine/vault/format.js';
import { addKeySlot, openVault } from '../../engine/vault/index.js';
import { makeTempVault, PASSWORD, runCli } from './helpers.js';
import { startFakeAwsKms, startFakeGcpKms, type FakeKms } from './kms-fakes.js';

// NOTE: no cloud is reachable from the test machines, so these tests run the real AWS and
// Google clients against the local fakes in kms-fakes.ts. What the real services check beyond
// Encrypt and Decrypt (IAM policies, key rotation, quotas) is not covered.

const AWS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIDVAULTTEST', AWS_SECRET_ACCESS_KEY: 'vault-test-secret', AWS_EC2_METADATA_DISABLED: 'true' };
const GCP_KEY = 'projects/test-project/locations/global/keyRings/aishell/cryptoKeys/vault';

describe('vault AWS KMS key slot (local fake of the KMS JSON API)', () => {
  let kms: FakeKms;
  beforeAll(async () => {
    kms = await startFakeAwsKms({ keyIds: [AWS_KEY], accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID });
  });
  afterAll(async () => {
    await kms?.close();
  });

  it('opens the vault with KMS and no password', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('ci-secret', 'kms-protected-value');
      const env = { ...temp.env, ...AWS_ENV };
      const slot = await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1', endpoint: kms.url }, { env });
      expect(slot).toMatchObject({ id: 1, type: 'aws-kms', keyId: AWS_KEY });

      const encrypt = kms.calls.find((call) => call.operation === 'Encrypt');
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
      const env = { ...temp.env, ...AWS_ENV };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1', endpoint: kms.url }, { env });
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
      const env = { ...temp.env, ...AWS_ENV };
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1', endpoint: down.url }, { env });
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
      await addKeySlot(temp.vault, { type: 'aws-kms', keyId: AWS_KEY, region: 'us-east-1', endpoint: kms.url }, { env: { ...temp.env, ...AWS_ENV } });
      const env = { ...temp.env, ...AWS_ENV, AWS_ACCESS_KEY_ID: 'AKIDSOMEONEELSE' };
      await expect(openVault({ path: temp.path, env, slot: 'aws-kms' })).rejects.toMatchObject({ code: 'BAD_CREDENTIAL' });
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
      const retrieved = await runCli(['retrieve', 'cli-entry'], { env });
      expect(retrieved.code, retrieved.stderr).toBe(0);
      expect(retrieved.stdout).toBe('cli-kms-value\n');
    } finally {
      await temp.cleanup();
    }
  });
});

describe('vault GCP KMS key slot (local fake of the Cloud KMS REST API)', () => {
  let kms: FakeKms;
  let credentialsFile: string;
  let cleanupCredentials: () => Promise<void>;

  beforeAll(async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    kms = await startFakeGcpKms({ keyNames: [GCP_KEY], publicKeyPem });

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
      const env = { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile };
      const slot = await addKeySlot(temp.vault, { type: 'gcp-kms', keyName: GCP_KEY, endpoint: kms.url }, { env });
      expect(slot).toMatchObject({ id: 1, type: 'gcp-kms', keyName: GCP_KEY, endpoint: kms.url });
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
      const env = { ...temp.env, GOOGLE_APPLICATION_CREDENTIALS: credentialsFile };
      await addKeySlot(temp.vault, { type: 'gcp-kms', keyName: GCP_KEY, endpoint: kms.url }, { env });
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
