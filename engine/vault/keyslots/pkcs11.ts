import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

import { decodeBase64, encodeBase64 } from '../encoding.js';
import { VaultError } from '../errors.js';
import { keySlotAad, type Pkcs11Slot, type VaultDocument } from '../format.js';

type Pkcs11Module = typeof import('pkcs11js');
type Pkcs11 = InstanceType<Pkcs11Module['PKCS11']>;
type Handle = Buffer;

export interface Pkcs11Target {
  tokenLabel: string;
  keyLabel: string;
  pin: string;
}

/** Environment variable that names the PKCS#11 module; see VaultTrust.pkcs11Module. */
export const PKCS11_MODULE_ENV = 'AISHELL_PKCS11_MODULE';

interface Pkcs11Session {
  library: Pkcs11Module;
  token: Pkcs11;
  session: Handle;
}

/**
 * Wraps the data key with AES-256-GCM on the token, using the secret key labelled `keyLabel`.
 * With `createKey`, a missing key is generated on the token as sensitive and non-extractable,
 * so it never leaves the token. `module` is the trusted module path; the slot does not record it.
 */
export async function wrapWithPkcs11(
  vaultId: string,
  id: number,
  dataKey: Buffer,
  target: Pkcs11Target,
  options: { createKey: boolean; module: string | undefined },
): Promise<Pkcs11Slot> {
  const header = { id, type: 'pkcs11' as const, tokenLabel: target.tokenLabel, keyLabel: target.keyLabel };
  const aad = keySlotAad({ vaultId }, { ...header, nonce: '', ciphertext: '' });
  const module = requireModule(options.module, `a pkcs11 key slot for token "${target.tokenLabel}"`);

  // NOTE: the nonce is chosen here, not by the token. Tokens in a FIPS mode that generate GCM IVs
  // themselves reject this, and would need CKM_AES_KEY_WRAP support instead.
  const nonce = randomBytes(12);
  const ciphertext = await withSession(module, target, (open) => {
    const key = findKey(open, target.keyLabel) ?? (options.createKey ? generateKey(open, target.keyLabel) : undefined);
    if (key === undefined) {
      throw new VaultError(
        'KEY_PROVIDER',
        `no secret key labelled "${target.keyLabel}" on PKCS#11 token "${target.tokenLabel}"; create it or let configure create it`,
      );
    }
    const { library, token, session } = open;
    token.C_EncryptInit(session, gcmMechanism(library, nonce, aad), key);
    return Buffer.from(token.C_Encrypt(session, dataKey, Buffer.alloc(dataKey.length + 32)));
  });

  return { ...header, nonce: encodeBase64(nonce), ciphertext: encodeBase64(ciphertext) };
}

/**
 * Unwraps the data key on the token. A wrong PIN raises BAD_CREDENTIAL. Only the trusted `module`
 * path is loaded. A `module` field in the slot, written by earlier versions, is authenticated data
 * and never loaded, so editing the vault file cannot make aishell run a library.
 */
export async function unwrapPkcs11Slot(
  document: Pick<VaultDocument, 'vaultId'>,
  slot: Pkcs11Slot,
  pin: string,
  module: string | undefined,
): Promise<Buffer> {
  const trustedModule = requireModule(module, `key slot ${slot.id} (PKCS#11 token "${slot.tokenLabel}")`);
  const nonce = decodeBase64(slot.nonce, `keySlots[${slot.id}].nonce`, 12);
  const ciphertext = decodeBase64(slot.ciphertext, `keySlots[${slot.id}].ciphertext`, 48);
  const aad = keySlotAad(document, slot);

  return withSession(trustedModule, { tokenLabel: slot.tokenLabel, keyLabel: slot.keyLabel, pin }, (open) => {
    const key = findKey(open, slot.keyLabel);
    if (key === undefined) {
      throw new VaultError(
        'KEY_PROVIDER',
        `no secret key labelled "${slot.keyLabel}" on PKCS#11 token "${slot.tokenLabel}"; the key was deleted or this is another token, so unlock with another key slot`,
      );
    }
    const { library, token, session } = open;
    token.C_DecryptInit(session, gcmMechanism(library, nonce, aad), key);
    try {
      return Buffer.from(token.C_Decrypt(session, ciphertext, Buffer.alloc(ciphertext.length)));
    } catch (error) {
      throw new VaultError(
        'INTEGRITY',
        `PKCS#11 token "${slot.tokenLabel}" could not unwrap key slot ${slot.id}: the slot was modified or key "${slot.keyLabel}" is not the key that wrapped it`,
        { cause: error },
      );
    }
  });
}

/** Returns the configured module path, or raises MISSING_CREDENTIAL naming where to set it. */
function requireModule(module: string | undefined, user: string): string {
  if (module === undefined || module === '') {
    throw new VaultError(
      'MISSING_CREDENTIAL',
      `${user} needs the PKCS#11 module: set ${PKCS11_MODULE_ENV}, pass --pkcs11-module PATH or set vault.pkcs11_module in security.yaml ` +
        '(the vault file never names the module, so that editing it cannot make aishell load a library)',
    );
  }
  return module;
}

async function withSession<T>(module: string, target: Pkcs11Target, work: (open: Pkcs11Session) => T): Promise<T> {
  if (!existsSync(module)) {
    throw new VaultError(
      'KEY_PROVIDER',
      `PKCS#11 module ${module} not found; install the token's library (for SoftHSM2: apt-get install softhsm2)`,
    );
  }

  const library = await loadPkcs11js();
  const token = new library.PKCS11();
  let initializedHere = true;
  try {
    token.load(module);
    token.C_Initialize();
  } catch (error) {
    // Another user of the same module in this process initialized it already; it finalizes it too.
    if (/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test((error as Error).message)) initializedHere = false;
    else throw new VaultError('KEY_PROVIDER', `cannot load PKCS#11 module ${module}: ${(error as Error).message}`, { cause: error });
  }

  try {
    const slot = token
      .C_GetSlotList(true)
      .find((candidate) => token.C_GetTokenInfo(candidate).label.trim() === target.tokenLabel);
    if (slot === undefined) {
      throw new VaultError(
        'KEY_PROVIDER',
        `no PKCS#11 token labelled "${target.tokenLabel}" in ${module}; check the label, and SOFTHSM2_CONF for SoftHSM2`,
      );
    }

    const session = token.C_OpenSession(slot, library.CKF_SERIAL_SESSION | library.CKF_RW_SESSION);
    try {
      login(library, token, session, target);
      return work({ library, token, session });
    } finally {
      token.C_CloseSession(session);
    }
  } catch (error) {
    if (error instanceof VaultError) throw error;
    throw new VaultError('KEY_PROVIDER', `PKCS#11 token "${target.tokenLabel}" failed: ${(error as Error).message}`, { cause: error });
  } finally {
    if (initializedHere) token.C_Finalize();
  }
}

function login(library: Pkcs11Module, token: Pkcs11, session: Handle, target: Pkcs11Target): void {
  try {
    token.C_Login(session, library.CKU_USER, target.pin);
  } catch (error) {
    const message = (error as Error).message;
    if (/CKR_PIN_INCORRECT|CKR_PIN_LEN_RANGE|CKR_PIN_INVALID/.test(message)) {
      throw new VaultError('BAD_CREDENTIAL', `wrong PIN for PKCS#11 token "${target.tokenLabel}"`, { cause: error });
    }
    if (/CKR_PIN_LOCKED/.test(message)) {
      throw new VaultError('BAD_CREDENTIAL', `the PIN of PKCS#11 token "${target.tokenLabel}" is locked`, { cause: error });
    }
    if (!/CKR_USER_ALREADY_LOGGED_IN/.test(message)) throw error;
  }
}

function findKey(open: Pkcs11Session, label: string): Handle | undefined {
  const { library, token, session } = open;
  token.C_FindObjectsInit(session, [
    { type: library.CKA_CLASS, value: library.CKO_SECRET_KEY },
    { type: library.CKA_LABEL, value: label },
  ]);
  try {
    const found = token.C_FindObjects(session, 2);
    if (found.length > 1) {
      throw new VaultError('KEY_PROVIDER', `more than one secret key labelled "${label}" on the token; labels must be unique`);
    }
    return found[0];
  } finally {
    token.C_FindObjectsFinal(session);
  }
}

function generateKey(open: Pkcs11Session, label: string): Handle {
  const { library, token, session } = open;
  return token.C_GenerateKey(session, { mechanism: library.CKM_AES_KEY_GEN }, [
    { type: library.CKA_CLASS, value: library.CKO_SECRET_KEY },
    { type: library.CKA_KEY_TYPE, value: library.CKK_AES },
    { type: library.CKA_VALUE_LEN, value: 32 },
    { type: library.CKA_LABEL, value: label },
    { type: library.CKA_TOKEN, value: true },
    { type: library.CKA_PRIVATE, value: true },
    { type: library.CKA_SENSITIVE, value: true },
    { type: library.CKA_EXTRACTABLE, value: false },
    { type: library.CKA_ENCRYPT, value: true },
    { type: library.CKA_DECRYPT, value: true },
  ]);
}

function gcmMechanism(library: Pkcs11Module, iv: Buffer, aad: Buffer) {
  return {
    mechanism: library.CKM_AES_GCM,
    parameter: { type: library.CK_PARAMS_AES_GCM, iv, aad, ivBits: 96, tagBits: 128 },
  };
}

async function loadPkcs11js(): Promise<Pkcs11Module> {
  const loaded = (await import('pkcs11js')) as Pkcs11Module & { default?: Pkcs11Module };
  return loaded.default ?? loaded;
}
