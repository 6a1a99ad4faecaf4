import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

import { canonicalJson } from './encoding.js';
import { VaultError } from './errors.js';
import type { KeySlot, VaultDocument } from './format.js';

/**
 * Settings that must never come from the vault file, because whoever can write the file would
 * control them: which native PKCS#11 module to load, which KMS endpoints receive cloud
 * credentials, and which vault to expect. They come from command-line options, the environment
 * or `vault:` in security.yaml, in that order of precedence.
 */
export interface VaultTrust {
  /** Expected vault id; a file with another id is rejected before any key slot is used. */
  vaultId?: string;
  /** Expected `slotFingerprint` of the file's key slots. */
  slotFingerprint?: string;
  /** Path of the PKCS#11 module for pkcs11 key slots. */
  pkcs11Module?: string;
  /** AWS KMS endpoint URL; without it the SDK's regional endpoint is used. */
  awsKmsEndpoint?: string;
  /** Cloud KMS endpoint URL; without it the client's default Google endpoint is used. */
  gcpKmsEndpoint?: string;
  /** Where each value came from (an option, a variable or a file), for messages. */
  sources?: Partial<Record<TrustField, string>>;
}

export type TrustField = Exclude<keyof VaultTrust, 'sources'>;

/** Environment variables of each trusted setting, first match wins. */
export const TRUST_ENV: Record<TrustField, readonly string[]> = {
  vaultId: ['AISHELL_VAULT_ID'],
  slotFingerprint: ['AISHELL_VAULT_SLOT_FINGERPRINT'],
  pkcs11Module: ['AISHELL_PKCS11_MODULE'],
  // The AWS SDK's own names for a service endpoint and a global one.
  awsKmsEndpoint: ['AWS_ENDPOINT_URL_KMS', 'AWS_ENDPOINT_URL'],
  gcpKmsEndpoint: ['AISHELL_GCP_KMS_ENDPOINT'],
};

/** Keys of the `vault:` section of security.yaml for each trusted setting. */
export const TRUST_CONFIG_KEYS: Record<TrustField, string> = {
  vaultId: 'id',
  slotFingerprint: 'slot_fingerprint',
  pkcs11Module: 'pkcs11_module',
  awsKmsEndpoint: 'aws_kms_endpoint',
  gcpKmsEndpoint: 'gcp_kms_endpoint',
};

/** How a value given as an option (by the CLI or an API caller) is named in messages. */
const OPTION_LABELS: Record<TrustField, string> = {
  vaultId: 'the expected vault id',
  slotFingerprint: 'the expected slot fingerprint',
  pkcs11Module: '--pkcs11-module',
  awsKmsEndpoint: '--endpoint',
  gcpKmsEndpoint: '--endpoint',
};

const FIELDS = Object.keys(TRUST_ENV) as TrustField[];

/**
 * Combines the trusted settings: `explicit` (command-line options) wins over `env`, which wins
 * over `config` (values read from security.yaml, with their source). Empty values count as unset.
 */
export function resolveTrust(
  env: NodeJS.ProcessEnv,
  explicit: Partial<Record<TrustField, string>> = {},
  config: { values: Partial<Record<TrustField, string>>; source: string } | undefined = undefined,
): VaultTrust {
  const trust: VaultTrust = { sources: {} };
  for (const field of FIELDS) {
    const fromEnv = TRUST_ENV[field].find((name) => env[name]);
    if (explicit[field]) {
      trust[field] = explicit[field];
      trust.sources![field] = OPTION_LABELS[field];
    } else if (fromEnv !== undefined) {
      trust[field] = env[fromEnv];
      trust.sources![field] = fromEnv;
    } else if (config?.values[field]) {
      trust[field] = config.values[field];
      trust.sources![field] = `vault.${TRUST_CONFIG_KEYS[field]} in ${config.source}`;
    }
  }
  return trust;
}

/** Names where a setting can be given, for error messages. */
export function trustSettingNames(field: TrustField): string {
  return `${TRUST_ENV[field].join(' or ')}, or vault.${TRUST_CONFIG_KEYS[field]} in security.yaml`;
}

/**
 * SHA-256 (hex) of the vault id and of what identifies each key slot: its id, type and the key it
 * uses (KMS key, token and key label, key-file flag). Salts, nonces and wrapped keys are left
 * out, so changing a password or re-keying keeps the fingerprint; adding, removing or pointing a
 * slot at another key changes it.
 */
export function slotFingerprint(document: Pick<VaultDocument, 'vaultId' | 'keySlots'>): string {
  const slots = document.keySlots.map(slotIdentity);
  return createHash('sha256').update(canonicalJson({ vaultId: document.vaultId, slots }), 'utf8').digest('hex');
}

function slotIdentity(slot: KeySlot): Record<string, unknown> {
  switch (slot.type) {
    case 'password':
      return { id: slot.id, type: slot.type, keyFile: slot.keyFile };
    case 'aws-kms':
      return { id: slot.id, type: slot.type, keyId: slot.keyId, region: slot.region };
    case 'gcp-kms':
      return { id: slot.id, type: slot.type, keyName: slot.keyName };
    case 'pkcs11':
      return { id: slot.id, type: slot.type, tokenLabel: slot.tokenLabel, keyLabel: slot.keyLabel };
  }
}

/**
 * Rejects a file whose id or key slots differ from the pinned ones. Callers run this before any
 * key slot is used, so a substituted file never reaches a KMS, a token or the password prompt.
 */
export function checkPins(document: Pick<VaultDocument, 'vaultId' | 'keySlots'>, trust: VaultTrust, path: string): void {
  if (trust.vaultId !== undefined && trust.vaultId.toLowerCase() !== document.vaultId) {
    throw new VaultError(
      'INTEGRITY',
      `${path} is vault ${document.vaultId}, but ${trust.sources?.vaultId ?? 'the pin'} expects vault ${trust.vaultId}; the file was replaced, or the pin names another vault`,
    );
  }
  if (trust.slotFingerprint !== undefined) {
    const actual = slotFingerprint(document);
    if (trust.slotFingerprint.toLowerCase() !== actual) {
      throw new VaultError(
        'INTEGRITY',
        `the key slots of ${path} (fingerprint ${actual}) differ from ${trust.sources?.slotFingerprint ?? 'the pin'} (${trust.slotFingerprint}); the file was replaced or its key slots changed; update the pin only if you changed them`,
      );
    }
  }
}

/**
 * Checks a KMS endpoint URL before any request. Plain http is accepted only for a loopback host
 * (local test servers), because the request carries cloud credentials or a signed request.
 */
export function checkEndpoint(endpoint: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new VaultError('INVALID_ARGUMENT', `${source} "${endpoint}" is not a URL such as https://kms.example.internal`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  if (url.protocol === 'http:') {
    throw new VaultError(
      'INVALID_ARGUMENT',
      `${source} ${endpoint} uses plain http to a host that is not loopback; use https (http is accepted only for 127.0.0.1, ::1 and localhost)`,
    );
  }
  throw new VaultError('INVALID_ARGUMENT', `${source} ${endpoint} must use https`);
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}
