import { unwrapAwsKmsSlot, type AwsClientOverrides } from './keyslots/aws-kms.js';
import { unwrapGcpKmsSlot, type GcpClientOverrides } from './keyslots/gcp-kms.js';
import { unwrapPasswordSlot } from './keyslots/password.js';
import { unwrapPkcs11Slot } from './keyslots/pkcs11.js';
import { ENV, readKeyFile, readSecretFile } from './credentials.js';
import { VaultError } from './errors.js';
import type { KeySlot, KeySlotType, PasswordSlot, VaultDocument } from './format.js';
import { resolveTrust, type VaultTrust } from './trust.js';

/** Credentials for unlocking a vault. Every field is optional, and `unlockDataKey` documents the order of use. */
export interface UnlockOptions {
  env: NodeJS.ProcessEnv;
  password?: string;
  passwordFile?: string;
  /** Path of the key file for password slots that require one; AISHELL_VAULT_KEY_FILE otherwise. */
  keyFile?: string;
  /** Key slot to use, by id or type; AISHELL_VAULT_SLOT otherwise. Without it, slots are tried in order. */
  slot?: number | KeySlotType;
  pkcs11Pin?: string;
  pinFile?: string;
  /** Asks a person for the password; the CLI passes a hidden terminal prompt. */
  prompt?: (question: string) => Promise<string>;
  aws?: AwsClientOverrides;
  gcp?: GcpClientOverrides;
  /**
   * Pins, PKCS#11 module and KMS endpoints, resolved by the caller (`resolveVaultLocation` reads
   * them from options, the environment and security.yaml). Without it they are read from `env`.
   */
  trust?: VaultTrust;
}

/** The trusted settings of an unlock: the caller's, or those of the environment. */
export function trustOf(options: Pick<UnlockOptions, 'env' | 'trust'>): VaultTrust {
  return options.trust ?? resolveTrust(options.env);
}

export interface UnlockResult {
  dataKey: Buffer;
  slot: KeySlot;
}

/**
 * Unwraps the data key through one key slot. A password given explicitly (option, password file,
 * AISHELL_VAULT_PASSWORD) is used alone, and a wrong one fails at once. Otherwise the KMS and
 * PKCS#11 slots are tried in file order. Last, `prompt`, if given, requests the password.
 */
export async function unlockDataKey(document: VaultDocument, path: string, options: UnlockOptions): Promise<UnlockResult> {
  const slots = selectSlots(document, options);
  const password = await explicitPassword(options);

  if (password !== undefined && slots.some((slot) => slot.type === 'password')) {
    return unlockWithPassword(document, path, slots, password, options);
  }

  const failures: VaultError[] = [];
  for (const slot of slots.filter((candidate) => candidate.type !== 'password')) {
    if (slot.type === 'pkcs11' && (await pkcs11Pin(options)) === undefined && options.slot === undefined) continue;
    try {
      return { dataKey: await unwrapSlot(document, slot, options), slot };
    } catch (error) {
      if (!(error instanceof VaultError) || options.slot !== undefined) throw error;
      failures.push(error);
    }
  }

  const hasPasswordSlot = slots.some((slot) => slot.type === 'password');
  if (hasPasswordSlot && options.prompt) {
    const prompted = await options.prompt(`Master password for ${path}: `);
    return unlockWithPassword(document, path, slots, prompted, options);
  }

  if (failures.length > 0) {
    throw failures.length === 1
      ? failures[0]
      : new VaultError(failures[0].code, failures.map((failure) => failure.message).join('\n'), { cause: failures[0] });
  }
  throw new VaultError(
    'MISSING_CREDENTIAL',
    `no password for ${path}: set ${ENV.password}, pass --password-file FILE, start a session with \`aishell vault unlock\`, or run on a terminal to be prompted`,
  );
}

/** Checks a password against the vault's password slot and returns the slot and data key. */
export async function unlockWithPassword(
  document: VaultDocument,
  path: string,
  slots: KeySlot[],
  password: string,
  options: Pick<UnlockOptions, 'keyFile' | 'env'>,
): Promise<UnlockResult> {
  const passwordSlots = slots.filter((slot): slot is PasswordSlot => slot.type === 'password');
  if (passwordSlots.length === 0) {
    throw new VaultError('BAD_CREDENTIAL', `${path} has no password key slot; unlock it with its KMS or PKCS#11 slot`);
  }

  const keyFilePath = options.keyFile ?? (options.env[ENV.keyFile] || undefined);
  const keyFile = keyFilePath === undefined ? undefined : await readKeyFile(keyFilePath);
  for (const slot of passwordSlots) {
    const dataKey = await unwrapPasswordSlot(document, slot, { password, keyFile });
    if (dataKey !== undefined) return { dataKey, slot };
  }

  const factors = passwordSlots.some((slot) => slot.keyFile) ? 'wrong password or key file' : 'wrong password';
  throw new VaultError('BAD_CREDENTIAL', `cannot unlock ${path}: ${factors}; nothing was changed`);
}

async function unwrapSlot(document: VaultDocument, slot: KeySlot, options: UnlockOptions): Promise<Buffer> {
  const trust = trustOf(options);
  switch (slot.type) {
    case 'aws-kms':
      return unwrapAwsKmsSlot(document, slot, { env: options.env, trust, overrides: options.aws });
    case 'gcp-kms':
      return unwrapGcpKmsSlot(document, slot, { env: options.env, trust, overrides: options.gcp });
    case 'pkcs11': {
      const pin = await pkcs11Pin(options);
      if (pin === undefined) {
        throw new VaultError('MISSING_CREDENTIAL', `key slot ${slot.id} needs the PIN of PKCS#11 token "${slot.tokenLabel}": set ${ENV.pkcs11Pin} or pass --pin-file FILE`);
      }
      return unwrapPkcs11Slot(document, slot, pin, trust.pkcs11Module);
    }
    case 'password':
      throw new VaultError('MISSING_CREDENTIAL', `key slot ${slot.id} needs the master password`);
  }
}

function selectSlots(document: VaultDocument, options: UnlockOptions): KeySlot[] {
  const wanted = options.slot ?? parseSlotSelector(options.env[ENV.slot]);
  if (wanted === undefined) return document.keySlots;

  const selected = document.keySlots.filter((slot) => slot.id === wanted || slot.type === wanted);
  if (selected.length === 0) {
    const available = document.keySlots.map((slot) => `${slot.id} (${slot.type})`).join(', ');
    throw new VaultError('INVALID_ARGUMENT', `the vault has no key slot ${wanted}; its slots are ${available}`);
  }
  return selected;
}

/** Parses a slot selector: a slot id or a slot type. */
export function parseSlotSelector(text: string | undefined): number | KeySlotType | undefined {
  if (text === undefined || text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  if (text === 'password' || text === 'aws-kms' || text === 'gcp-kms' || text === 'pkcs11') return text;
  throw new VaultError('INVALID_ARGUMENT', `invalid key slot "${text}": use a slot id or one of password, aws-kms, gcp-kms, pkcs11`);
}

async function explicitPassword(options: UnlockOptions): Promise<string | undefined> {
  if (options.password !== undefined) return options.password;
  if (options.passwordFile !== undefined) return readSecretFile(options.passwordFile, 'password');
  const fromEnv = options.env[ENV.password];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

export async function pkcs11Pin(options: Pick<UnlockOptions, 'pkcs11Pin' | 'pinFile' | 'env'>): Promise<string | undefined> {
  if (options.pkcs11Pin !== undefined) return options.pkcs11Pin;
  if (options.pinFile !== undefined) return readSecretFile(options.pinFile, 'PIN');
  const fromEnv = options.env[ENV.pkcs11Pin];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
