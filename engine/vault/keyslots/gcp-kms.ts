import { decodeBase64, encodeBase64 } from '../encoding.js';
import { VaultError } from '../errors.js';
import { keySlotAad, type GcpKmsSlot, type VaultDocument } from '../format.js';
import { checkEndpoint, type VaultTrust } from '../trust.js';

export interface GcpKmsTarget {
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  keyName: string;
}

/** Extra KeyManagementServiceClient options, merged last; tests use it, users normally need none. */
export type GcpClientOverrides = Record<string, unknown>;

/**
 * How to reach Cloud KMS: the caller's environment (credentials), the trusted settings and test
 * overrides. `trust.gcpKmsEndpoint` is a URL (`https://kms.internal:443`); with it the client
 * speaks the REST (HTTP/1.1) protocol, without it gRPC to Google's default endpoint.
 */
export interface GcpKmsAccess {
  env: NodeJS.ProcessEnv;
  trust?: VaultTrust;
  overrides?: GcpClientOverrides;
}

/**
 * Failures that mean "this identity or ciphertext cannot open the slot", as opposed to an
 * outage: gRPC status codes, their names (in REST error bodies) and the HTTP statuses that the
 * REST transport reports them with.
 */
const CREDENTIAL_CODES = new Set([3 /* INVALID_ARGUMENT */, 5 /* NOT_FOUND */, 7 /* PERMISSION_DENIED */, 9 /* FAILED_PRECONDITION */, 16 /* UNAUTHENTICATED */]);
const CREDENTIAL_STATUS_NAMES = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'PERMISSION_DENIED', 'FAILED_PRECONDITION', 'UNAUTHENTICATED']);
const CREDENTIAL_HTTP_STATUSES = new Set([400, 401, 403, 404]);

/** Encrypts the data key with Cloud KMS; the slot header is the additional authenticated data. */
export async function wrapWithGcpKms(
  vaultId: string,
  id: number,
  dataKey: Buffer,
  target: GcpKmsTarget,
  access: GcpKmsAccess,
): Promise<GcpKmsSlot> {
  const header: Omit<GcpKmsSlot, 'ciphertext'> = { id, type: 'gcp-kms', keyName: target.keyName };
  const aad = keySlotAad({ vaultId }, { ...header, ciphertext: '' });

  const [response] = await callKms(header, access, (client) =>
    client.encrypt({ name: target.keyName, plaintext: dataKey, additionalAuthenticatedData: aad }),
  );
  if (!response.ciphertext) {
    throw new VaultError('KEY_PROVIDER', `GCP KMS key ${target.keyName} returned no ciphertext`);
  }
  return { ...header, ciphertext: encodeBase64(toBytes(response.ciphertext)) };
}

export async function unwrapGcpKmsSlot(
  document: Pick<VaultDocument, 'vaultId'>,
  slot: GcpKmsSlot,
  access: GcpKmsAccess,
): Promise<Buffer> {
  const [response] = await callKms(slot, access, (client) =>
    client.decrypt({
      name: slot.keyName,
      ciphertext: decodeBase64(slot.ciphertext, `keySlots[${slot.id}].ciphertext`),
      additionalAuthenticatedData: keySlotAad(document, slot),
    }),
  );
  const plaintext = response.plaintext ? toBytes(response.plaintext) : Buffer.alloc(0);
  if (plaintext.length !== 32) {
    throw new VaultError('INTEGRITY', `GCP KMS returned no 32-byte data key for key slot ${slot.id}`);
  }
  return plaintext;
}

type KmsClient = InstanceType<typeof import('@google-cloud/kms').KeyManagementServiceClient>;

async function callKms<T>(
  slot: Pick<GcpKmsSlot, 'keyName' | 'id'>,
  access: GcpKmsAccess,
  call: (client: KmsClient) => Promise<T>,
): Promise<T> {
  const { env, trust, overrides } = access;
  // The endpoint comes only from the trusted settings, never from the slot: a forged vault file
  // must not receive the caller's bearer token or return a data key of its choice.
  const endpoint = trust?.gcpKmsEndpoint;
  const endpointSettings = endpoint === undefined ? {} : endpointOptions(checkEndpoint(endpoint, trust?.sources?.gcpKmsEndpoint ?? 'the Cloud KMS endpoint'));

  const { KeyManagementServiceClient } = await import('@google-cloud/kms');
  const client = new KeyManagementServiceClient({
    ...endpointSettings,
    // Read the credentials file named in the given environment, so a caller's env is honoured
    // even when it differs from the process environment.
    ...(env.GOOGLE_APPLICATION_CREDENTIALS ? { keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS } : {}),
    ...overrides,
  });
  try {
    return await call(client);
  } catch (error) {
    const { credential, detail } = classifyError(error);
    const message = `GCP KMS key ${slot.keyName} (key slot ${slot.id}) failed: ${detail}`;
    throw new VaultError(credential ? 'BAD_CREDENTIAL' : 'KEY_PROVIDER', message, { cause: error });
  } finally {
    await client.close();
  }
}

/**
 * Classifies a client error. Over gRPC, `code` is a gRPC status. Over REST, the HTTP client
 * raises an error whose `code` is the HTTP status and whose message is the JSON error body.
 */
function classifyError(error: unknown): { credential: boolean; detail: string } {
  const { code, message } = error as { code?: unknown; message?: string };
  let detail = message ?? String(error);
  let statusName: string | undefined;
  try {
    const body = JSON.parse(detail) as { error?: { status?: string; message?: string } };
    if (body.error) {
      statusName = body.error.status;
      detail = `${body.error.status ?? 'error'}: ${body.error.message ?? ''}`;
    }
  } catch {
    // Not a JSON body: keep the client's message.
  }

  const numeric = typeof code === 'number' ? code : undefined;
  const credential =
    (statusName !== undefined && CREDENTIAL_STATUS_NAMES.has(statusName)) ||
    (numeric !== undefined && numeric < 100 && CREDENTIAL_CODES.has(numeric)) ||
    (numeric !== undefined && CREDENTIAL_HTTP_STATUSES.has(numeric));
  return { credential, detail };
}

// NOTE: the tests cover only the REST transport, which an endpoint override selects. The default
// gRPC transport to Google has not run against any server.
function endpointOptions(url: URL): Record<string, unknown> {
  const protocol = url.protocol.replace(/:$/, '');
  let port = Number(url.port);
  if (url.port === '') port = protocol === 'https' ? 443 : 80;
  return { fallback: true, protocol, apiEndpoint: url.hostname, port };
}

function toBytes(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.from(value);
}
