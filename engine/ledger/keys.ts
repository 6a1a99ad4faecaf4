import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { fsyncDirectory } from './atomic-file.js';
import { computeKeyId, defaultKeyName, rawPublicKey, type SigningKey } from './checkpoint.js';
import { LedgerError } from './errors.js';

/**
 * Storage of the checkpoint signing key. The key file is the default. The vault implements the
 * same interface, so that the key never sits in a plain file.
 */
export interface KeyStore {
  /** Description of the key's location for messages, such as `key file /home/ci/.aishell/ledger.key`. */
  readonly description: string;
  /** Loads the key, creating and storing a new Ed25519 key the first time. */
  loadOrCreate(): Promise<SigningKey>;
}

/** A minimal secret store, such as the vault's `get`/`put`, keyed by entry name. */
export interface SecretStore {
  get(name: string): Promise<string | undefined>;
  put(name: string, value: string): Promise<void>;
}

/** The vault methods the adapter needs; structural, so this module does not load the vault. */
export interface VaultLike {
  has(name: string): Promise<boolean>;
  get(name: string, options?: { reason?: string }): Promise<string>;
  put(name: string, value: string, options?: { reason?: string }): Promise<unknown>;
}

/**
 * Adapts an unlocked vault to a SecretStore. Reads and writes carry the reason `audit ledger`,
 * so that the vault's own access records show why the ledger touched the entry.
 */
export function vaultSecretStore(vault: VaultLike): SecretStore {
  return {
    get: async (name) => ((await vault.has(name)) ? vault.get(name, { reason: 'audit ledger' }) : undefined),
    put: async (name, value) => {
      await vault.put(name, value, { reason: 'audit ledger' });
    },
  };
}

export function signingKeyFromPrivate(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new LedgerError('LEDGER_KEY', `the ledger signing key must be Ed25519, not ${privateKey.asymmetricKeyType ?? 'unknown'}`);
  }
  const publicKey = createPublicKey(privateKey);
  const publicRaw = rawPublicKey(publicKey);
  const name = defaultKeyName(publicRaw);
  return { name, privateKey, publicKey, publicRaw, keyId: computeKeyId(name, publicRaw) };
}

function newPrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The signing key in a PKCS#8 PEM file of mode 0600, with its public key beside it in `<path>.pub`. */
export class FileKeyStore implements KeyStore {
  readonly description: string;

  constructor(readonly path: string) {
    this.description = `key file ${path}`;
  }

  async loadOrCreate(): Promise<SigningKey> {
    const existing = await this.load();
    if (existing) {
      return existing;
    }
    await this.create();
    const created = await this.load();
    if (!created) {
      throw new LedgerError('LEDGER_KEY', `signing key ${this.path} was created but cannot be read back`);
    }
    return created;
  }

  private async load(): Promise<SigningKey | undefined> {
    let mode: number;
    try {
      mode = (await stat(this.path)).mode;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw error;
    }

    if ((mode & 0o077) !== 0) {
      throw new LedgerError(
        'LEDGER_KEY',
        `signing key ${this.path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${this.path}`,
      );
    }

    const pem = await readFile(this.path, 'utf8');
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(pem);
    } catch (error) {
      throw new LedgerError('LEDGER_KEY', `signing key ${this.path} is not a PEM private key`, { cause: error });
    }
    return signingKeyFromPrivate(privateKey);
  }

  /**
   * Writes a new key to a temp file and hard-links it into place: the link fails if another
   * process created the key first, so concurrent first runs agree on one key.
   */
  private async create(): Promise<void> {
    const directory = dirname(this.path);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const pem = newPrivateKeyPem();
    const temp = join(directory, `.${basename(this.path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);

    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(pem);
      await handle.sync();
    } finally {
      await handle.close();
    }

    try {
      await link(temp, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await fsyncDirectory(directory);

    // The public key file is a convenience for auditors; the ledger itself records the key.
    const key = signingKeyFromPrivate(createPrivateKey(await readFile(this.path, 'utf8')));
    const publicPem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    await writeFile(`${this.path}.pub`, publicPem, { mode: 0o644 }).catch(() => undefined);
  }
}

/** The signing key kept as a PEM string in a secret store such as the vault. */
export class SecretStoreKeyStore implements KeyStore {
  readonly description: string;

  constructor(
    private readonly store: SecretStore,
    private readonly entry = 'ledger-signing-key',
  ) {
    this.description = `vault entry ${entry}`;
  }

  async loadOrCreate(): Promise<SigningKey> {
    let pem = await this.store.get(this.entry);
    if (pem === undefined) {
      // NOTE: two processes creating the key at once would each store one. The vault's
      // check-and-set would make this safe, but this interface does not expose it yet.
      pem = newPrivateKeyPem();
      await this.store.put(this.entry, pem);
    }
    try {
      return signingKeyFromPrivate(createPrivateKey(pem));
    } catch (error) {
      if (error instanceof LedgerError) {
        throw error;
      }
      throw new LedgerError('LEDGER_KEY', `vault entry ${this.entry} is not a PEM private key`, { cause: error });
    }
  }
}
