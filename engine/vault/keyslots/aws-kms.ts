import { createHash } from 'node:crypto';

import { decodeBase64, encodeBase64 } from '../encoding.js';
import { VaultError } from '../errors.js';
import { keySlotAad, type AwsKmsSlot, type VaultDocument } from '../format.js';
import { checkEndpoint, type VaultTrust } from '../trust.js';

export interface AwsKmsTarget {
  keyId: string;
  region: string;
}

/** Extra KMSClient configuration, merged last; tests use it, users normally need none. */
export type AwsClientOverrides = Record<string, unknown>;

/** How to reach AWS KMS: the caller's environment (credentials), the trusted endpoint and test overrides. */
export interface AwsKmsAccess {
  env: NodeJS.ProcessEnv;
  trust?: VaultTrust;
  overrides?: AwsClientOverrides;
}

/**
 * Switch for the SDK's warning that its releases after January 2027 need Node 22, documented in
 * the SDK team's Node.js 20 end-of-support announcement. @aws-sdk/core 3.x reads it from
 * process.env when a client is constructed, and decides at most once per process.
 */
const NODE_VERSION_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

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
  access: AwsKmsAccess,
): Promise<AwsKmsSlot> {
  const header: Omit<AwsKmsSlot, 'ciphertext'> = { id, type: 'aws-kms', keyId: target.keyId, region: target.region };
  const context = encryptionContext(vaultId, { ...header, ciphertext: '' });

  const { EncryptCommand } = await import('@aws-sdk/client-kms');
  const result = await callKms(header, access, (client) =>
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
  access: AwsKmsAccess,
): Promise<Buffer> {
  const { DecryptCommand } = await import('@aws-sdk/client-kms');
  const result = await callKms(slot, access, (client) =>
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
  slot: Pick<AwsKmsSlot, 'keyId' | 'region' | 'id'>,
  access: AwsKmsAccess,
  call: (client: import('@aws-sdk/client-kms').KMSClient) => Promise<T>,
): Promise<T> {
  const { env, trust, overrides } = access;
  // The endpoint comes only from the trusted settings, never from the slot: a forged vault file
  // must not be able to send a signed request elsewhere or return a data key of its choice.
  const endpoint = trust?.awsKmsEndpoint;
  if (endpoint !== undefined) checkEndpoint(endpoint, trust?.sources?.awsKmsEndpoint ?? 'the AWS KMS endpoint');

  // Credentials from the given environment take precedence, so the process environment does not
  // override a caller that passes its own env (the CLI does). Without them the SDK's default
  // chain applies (instance profile, SSO, web identity in CI).
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined;

  const client = await newClient({
    region: slot.region,
    maxAttempts: 2,
    // Without this the SDK would also read AWS_ENDPOINT_URL_KMS from process.env and endpoint_url
    // from ~/.aws/config, bypassing the checks above.
    ignoreConfiguredEndpointUrls: true,
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

/**
 * Constructs a KMSClient with the SDK's Node version warning turned off, unless the user set the
 * variable either way. The variable is restored afterwards; the SDK remembers that it decided.
 */
async function newClient(config: import('@aws-sdk/client-kms').KMSClientConfig): Promise<import('@aws-sdk/client-kms').KMSClient> {
  const { KMSClient } = await import('@aws-sdk/client-kms');
  const userSetting = process.env[NODE_VERSION_WARNING_ENV];
  if (userSetting !== undefined) return new KMSClient(config);

  process.env[NODE_VERSION_WARNING_ENV] = 'true';
  try {
    return new KMSClient(config);
  } finally {
    delete process.env[NODE_VERSION_WARNING_ENV];
  }
}
