import { createCipheriv, createDecipheriv, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * In-process stand-ins for the AWS KMS and Cloud KMS APIs, listening on 127.0.0.1, because no
 * cloud can be reached from the test machines. They implement only Encrypt and Decrypt of each
 * wire protocol. Real AES-256-GCM under a per-key master key makes a wrong encryption context
 * or AAD fail the way the real services fail. They are test doubles, not emulators.
 */

export interface FakeKms {
  url: string;
  /** Requests received, by operation, for assertions. */
  calls: { operation: string; keyId: string; context?: Record<string, string> }[];
  close: () => Promise<void>;
}

function sealBlob(masterKey: Buffer, keyId: string, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const id = Buffer.from(keyId, 'utf8');
  return Buffer.concat([Buffer.from([id.length]), id, nonce, body]);
}

function openBlob(masterKeys: Map<string, Buffer>, blob: Buffer, aad: Buffer): { keyId: string; plaintext: Buffer } | undefined {
  const idLength = blob[0] ?? 0;
  const keyId = blob.subarray(1, 1 + idLength).toString('utf8');
  const masterKey = masterKeys.get(keyId);
  if (masterKey === undefined || blob.length < 1 + idLength + 12 + 16) return undefined;
  const nonce = blob.subarray(1 + idLength, 13 + idLength);
  const body = blob.subarray(13 + idLength, blob.length - 16);
  const tag = blob.subarray(blob.length - 16);
  const decipher = createDecipheriv('aes-256-gcm', masterKey, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return { keyId, plaintext: Buffer.concat([decipher.update(body), decipher.final()]) };
  } catch {
    return undefined;
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return () => new Promise((resolve) => server.close(() => resolve()));
}

/**
 * AWS KMS over the JSON 1.1 protocol: POST / with `X-Amz-Target: TrentService.Encrypt` or
 * `.Decrypt`. The encryption context is the AAD, serialized with sorted keys.
 */
export async function startFakeAwsKms(options: { keyIds: string[]; accessKeyId: string; ignoreContext?: boolean }): Promise<FakeKms> {
  const masterKeys = new Map(options.keyIds.map((keyId) => [keyId, randomBytes(32)]));
  const calls: FakeKms['calls'] = [];
  // With ignoreContext the server acts as an attacker's would: it decrypts whatever it is sent.
  const contextAad = (context: Record<string, string> = {}) =>
    options.ignoreContext ? Buffer.alloc(0) : Buffer.from(JSON.stringify(Object.keys(context).sort().map((key) => [key, context[key]])), 'utf8');

  const server = createServer(async (request, response) => {
    const fail = (status: number, type: string, message: string) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ __type: type, message }));
    };
    const body = JSON.parse((await readBody(request)) || '{}') as Record<string, unknown>;
    const target = String(request.headers['x-amz-target'] ?? '');
    const authorization = String(request.headers.authorization ?? '');
    if (!authorization.startsWith(`AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/`)) {
      fail(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
      return;
    }
    const context = body.EncryptionContext as Record<string, string> | undefined;

    if (target === 'TrentService.Encrypt') {
      const keyId = String(body.KeyId);
      calls.push({ operation: 'Encrypt', keyId, context });
      const masterKey = masterKeys.get(keyId);
      if (masterKey === undefined) return fail(400, 'NotFoundException', `Key '${keyId}' does not exist`);
      const blob = sealBlob(masterKey, keyId, Buffer.from(String(body.Plaintext), 'base64'), contextAad(context));
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ CiphertextBlob: blob.toString('base64'), KeyId: keyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
      return;
    }
    if (target === 'TrentService.Decrypt') {
      const opened = openBlob(masterKeys, Buffer.from(String(body.CiphertextBlob), 'base64'), contextAad(context));
      calls.push({ operation: 'Decrypt', keyId: String(body.KeyId ?? opened?.keyId), context });
      if (opened === undefined || (body.KeyId !== undefined && body.KeyId !== opened.keyId)) {
        return fail(400, 'InvalidCiphertextException', '');
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ Plaintext: opened.plaintext.toString('base64'), KeyId: opened.keyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
      return;
    }
    fail(400, 'UnknownOperationException', target);
  });
  return { url: await listen(server), calls, close: closer(server) };
}

/**
 * Cloud KMS over REST (the HTTP/1.1 "fallback" transport of the Google client):
 * POST /v1/{name}:encrypt and :decrypt with base64 fields. Requests must carry a bearer JWT
 * signed by the service account key, as the client's self-signed JWT access sends it.
 */
export async function startFakeGcpKms(options: { keyNames: string[]; publicKeyPem: string; ignoreAad?: boolean }): Promise<FakeKms> {
  const masterKeys = new Map(options.keyNames.map((name) => [name, randomBytes(32)]));
  const calls: FakeKms['calls'] = [];
  const publicKey = createPublicKey(options.publicKeyPem);

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const fail = (status: number, code: string, message: string) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: status, message, status: code } }));
    };
    if (!validJwt(String(request.headers.authorization ?? ''), publicKey)) {
      return fail(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    const match = /^\/v1\/(.+):(encrypt|decrypt)(\?.*)?$/.exec(request.url ?? '');
    if (request.method !== 'POST' || match === null) return fail(404, 'NOT_FOUND', `no route ${request.method} ${request.url}`);
    const name = decodeURIComponent(match[1]);
    const body = JSON.parse((await readBody(request)) || '{}') as Record<string, string>;
    // With ignoreAad the server acts as an attacker's would: it decrypts whatever it is sent.
    const aad = options.ignoreAad ? Buffer.alloc(0) : Buffer.from(body.additionalAuthenticatedData ?? '', 'base64');
    calls.push({ operation: match[2], keyId: name });

    const masterKey = masterKeys.get(name);
    if (masterKey === undefined) return fail(404, 'NOT_FOUND', `CryptoKey ${name} not found.`);
    if (match[2] === 'encrypt') {
      const blob = sealBlob(masterKey, name, Buffer.from(body.plaintext, 'base64'), aad);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ name: `${name}/cryptoKeyVersions/1`, ciphertext: blob.toString('base64') }));
      return;
    }
    const opened = openBlob(masterKeys, Buffer.from(body.ciphertext, 'base64'), aad);
    if (opened === undefined || opened.keyId !== name) return fail(400, 'INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ plaintext: opened.plaintext.toString('base64') }));
  });
  return { url: await listen(server), calls, close: closer(server) };
}

function validJwt(authorization: string, publicKey: ReturnType<typeof createPublicKey>): boolean {
  const token = /^Bearer (.+)$/.exec(authorization)?.[1];
  const parts = token?.split('.') ?? [];
  if (parts.length !== 3) return false;
  return verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
}
