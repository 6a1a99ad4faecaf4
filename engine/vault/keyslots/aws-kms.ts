import { createHash } from 'node:crypto';

import { decodeBase64, encodeBase64 } from '../encoding.js';
import { VaultError } from '../errors.js';
import { keySlotAad, type AwsKmsSlot, type VaultDocument } from '../format.js';

export interface AwsKmsTarget {
  keyId: string;
  region: string;
  /** Endpoint override such as a VPC endpoint; AWS_ENDPOINT_URL_KMS applies when unset. */
  endpoint?: string;
}

/** Extra KMSClient configuration, merged last; tests use it, users normally need none. */
export type AwsClientOverrides = Record<string, unknown>;

/** KMS errors that mean "this identity or ciphertext cannot open the slot", as opposed to an outage. */
const CREDENTIAL_ERRORS = new Set([
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'AccessDeniedException',
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);

/** Encrypts the data key with KMS; the encryption context binds the ciphertext to this vault and slot. */
export async function wrapWithAwsKms(
  vaultId: string,
  id: number,
  dataKey: Buffer,
  target: AwsKmsTarget,
  env: NodeJS.ProcessEnv,
  overrides?: AwsClientOverrides,
): Promise<AwsKmsSlot> {
  const header: Omit<AwsKmsSlot, 'ciphertext'> = {
    id,
    type: 'aws-kms',
    keyId: target.keyId,
    region: target.region,
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
  };
  const context = encryptionContext(vaultId, { ...header, ciphertext: '' });

  const { EncryptCommand } = await import('@aws-sdk/client-kms');
  const result = await callKms(header, env, overrides, (client) =>
    client.send(new EncryptCommand({ KeyId: target.keyId, Plaintext: dataKey, EncryptionContext: context })),
  );
  if (!result.CiphertextBlob) {
    throw new VaultError('KEY_PROVIDER', `AWS KMS key ${target.keyId} returned no ciphertext`);
  }
  return { ...header, ciphertext: encodeBase64(result.CiphertextBlob) };
}

export async function unwrapAwsKmsSlot(
  document: Pick<VaultDocument, 'vaultId'>,
  slot: AwsKmsSlot,
  env: NodeJS.ProcessEnv,
  overrides?: AwsClientOverrides,
): Promise<Buffer> {
  const { DecryptCommand } = await import('@aws-sdk/client-kms');
  const result = await callKms(slot, env, overrides, (client) =>
    client.send(
      new DecryptCommand({
        KeyId: slot.keyId,
        CiphertextBlob: decodeBase64(slot.ciphertext, `keySlots[${slot.id}].ciphertext`),
        EncryptionContext: encryptionContext(document.vaultId, slot),
      }),
    ),
  );
  if (!result.Plaintext || result.Plaintext.length !== 32) {
    throw new VaultError('INTEGRITY', `AWS KMS returned no 32-byte data key for key slot ${slot.id}`);
  }
  return Buffer.from(result.Plaintext);
}

/**
 * Encryption context of a slot. KMS authenticates it with the ciphertext, and its last member is
 * a digest of every other slot field, so editing the slot header makes Decrypt fail.
 */
function encryptionContext(vaultId: string, slot: AwsKmsSlot): Record<string, string> {
  return {
    'aishell-vault': vaultId,
    'aishell-vault-slot': String(slot.id),
    'aishell-vault-slot-digest': createHash('sha256').update(keySlotAad({ vaultId }, slot)).digest('base64'),
  };
}

async function callKms<T>(
  slot: Pick<AwsKmsSlot, 'keyId' | 'region' | 'endpoint' | 'id'>,
  env: NodeJS.ProcessEnv,
  overrides: AwsClientOverrides | undefined,
  call: (client: import('@aws-sdk/client-kms').KMSClient) => Promise<T>,
): Promise<T> {
  const { KMSClient } = await import('@aws-sdk/client-kms');
  const endpoint = slot.endpoint ?? env.AWS_ENDPOINT_URL_KMS ?? env.AWS_ENDPOINT_URL;

  // Credentials from the given environment take precedence, so the process environment does not
  // override a caller that passes its own env (the CLI does). Without them the SDK's default
  // chain applies (instance profile, SSO, web identity in CI).
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined;

  const client = new KMSClient({
    region: slot.region,
    maxAttempts: 2,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    ...overrides,
  });
  try {
    return await call(client);
  } catch (error) {
    const name = (error as { name?: string }).name ?? 'Error';
    const message = `AWS KMS key ${slot.keyId} (key slot ${slot.id}) failed: ${name}: ${(error as Error).message}`;
    throw new VaultError(CREDENTIAL_ERRORS.has(name) ? 'BAD_CREDENTIAL' : 'KEY_PROVIDER', message, { cause: error });
  } finally {
    client.destroy();
  }
}
