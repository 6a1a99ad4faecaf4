import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { openBody } from '../../engine/vault/body-crypto.js';
import { serializeVaultFile, type VaultDocument } from '../../engine/vault/format.js';
import { addKeySlot, changePassword, createVault, openVault, removeKeySlot, VaultError } from '../../engine/vault/index.js';
import { makeTempDir, makeTempVault, PASSWORD, testEnv, type TempVault } from './helpers.js';

let current: TempVault | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

/** Opens the file and returns the error code, failing the test if the open succeeds. */
async function openError(path: string, env: NodeJS.ProcessEnv, options: { password?: string; keyFile?: string } = {}): Promise<string> {
  try {
    const vault = await openVault({ path, env, password: options.password ?? PASSWORD, keyFile: options.keyFile });
    vault.lock();
  } catch (error) {
    if (error instanceof VaultError) return error.code;
    throw error;
  }
  throw new Error(`opening ${path} succeeded`);
}

/** Rewrites the document as an attacker would: edited, canonical, with a valid checksum. */
async function rewrite(path: string, edit: (document: VaultDocument) => void): Promise<void> {
  const document = JSON.parse(await readFile(path, 'utf8')) as VaultDocument;
  edit(document);
  await writeFile(path, serializeVaultFile(document));
}

describe('vault credentials', () => {
  it('rejects a wrong password and changes nothing', async () => {
    current = await makeTempVault();
    await current.vault.put('entry', 'value');
    const before = await readFile(current.path);
    const mtime = (await stat(current.path)).mtimeMs;

    const error = await openVault({ path: current.path, env: current.env, password: 'wrong password!' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'BAD_CREDENTIAL' });
    expect((error as Error).message).toContain('wrong password');
    expect((error as Error).message).toContain(current.path);

    expect((await readFile(current.path)).equals(before)).toBe(true);
    expect((await stat(current.path)).mtimeMs).toBe(mtime);
  });

  it('requires the key file as a second factor', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const keyFile = join(dir, 'vault.key');
      const otherKeyFile = join(dir, 'other.key');
      await writeFile(keyFile, randomBytes(64));
      await writeFile(otherKeyFile, randomBytes(64));
      const path = join(dir, 'vault');
      const env = testEnv(dir);
      const vault = await createVault({ path, env, password: PASSWORD, keyFile });
      await vault.put('entry', 'value');
      const before = await readFile(path);

      expect(await openError(path, env)).toBe('MISSING_CREDENTIAL');
      expect(await openError(path, env, { keyFile: otherKeyFile })).toBe('BAD_CREDENTIAL');
      expect(await openError(path, env, { keyFile, password: 'wrong password!' })).toBe('BAD_CREDENTIAL');
      expect((await readFile(path)).equals(before)).toBe(true);

      const reopened = await openVault({ path, env, password: PASSWORD, keyFile });
      expect(await reopened.get('entry')).toBe('value');
      const viaEnv = await openVault({ path, env: { ...env, AISHELL_VAULT_KEY_FILE: keyFile }, password: PASSWORD });
      expect(await viaEnv.get('entry')).toBe('value');
    } finally {
      await cleanup();
    }
  });

  it('re-keys the vault when the password changes', async () => {
    current = await makeTempVault();
    const { vault, path, env } = current;
    await vault.put('entry', 'value');
    const copyBefore = join(current.dir, 'copy-before');
    await writeFile(copyBefore, await readFile(path));

    await changePassword(vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env });
    expect(await openError(path, env)).toBe('BAD_CREDENTIAL');
    const reopened = await openVault({ path, env, password: 'a new master password' });
    expect(await reopened.get('entry')).toBe('value');
    expect(await vault.get('entry')).toBe('value');

    // The .bak copy is the new generation, so the old password no longer opens it.
    expect(await openError(`${path}.bak`, env)).toBe('BAD_CREDENTIAL');

    // A copy made before still opens with the old password, but its data key opens nothing newer.
    const old = await openVault({ path: copyBefore, env, password: PASSWORD });
    const newDocument = JSON.parse(await readFile(path, 'utf8')) as VaultDocument;
    expect(() => openBody(newDocument, old.requireKey(), path)).toThrow(/was modified/);
  });

  it('re-keys the vault when a slot is removed', async () => {
    current = await makeTempVault();
    const { vault, path, env } = current;
    await vault.put('entry', 'value');
    await addKeySlot(vault, { type: 'password', password: 'the removed password' }, { env });
    const copyBefore = join(current.dir, 'copy-before');
    await writeFile(copyBefore, await readFile(path));

    const missing = await removeKeySlot(vault, 1, { env }).catch((caught: unknown) => caught);
    expect(missing).toMatchObject({ code: 'MISSING_CREDENTIAL' });
    expect((missing as Error).message).toContain('key slot 0 (password): none of the given passwords opens it');

    const result = await removeKeySlot(vault, 1, { env, passwords: [PASSWORD] });
    expect(result.type).toBe('password');
    expect((await vault.info()).keySlots.map((slot) => slot.id)).toEqual([0]);
    expect(await (await openVault({ path, env, password: PASSWORD })).get('entry')).toBe('value');

    const removed = await openVault({ path: copyBefore, env, password: 'the removed password' });
    const newDocument = JSON.parse(await readFile(path, 'utf8')) as VaultDocument;
    expect(() => openBody(newDocument, removed.requireKey(), path)).toThrow(/was modified/);
  });

  it('re-wraps other password slots or drops them on request', async () => {
    current = await makeTempVault();
    const { vault, path, env } = current;
    await addKeySlot(vault, { type: 'password', password: 'the second password' }, { env });
    const before = await readFile(path);

    const missing = await changePassword(vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env }).catch((caught: unknown) => caught);
    expect(missing).toMatchObject({ code: 'MISSING_CREDENTIAL' });
    expect((missing as Error).message).toContain('key slot 1 (password)');
    expect((missing as Error).message).toContain('--other-password-file');
    expect((await readFile(path)).equals(before)).toBe(true);

    await changePassword(vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env, passwords: ['the second password'] });
    expect((await openVault({ path, env, password: 'the second password' })).unlockedBy?.id).toBe(1);

    const dropped = await changePassword(vault, { currentPassword: 'a new master password', newPassword: 'a third master password', env, dropOtherSlots: true });
    expect(dropped.dropped).toMatchObject([{ id: 1, type: 'password' }]);
    expect(await openError(path, env, { password: 'the second password' })).toBe('BAD_CREDENTIAL');
  });

  it('rejects a password change with a wrong current password', async () => {
    current = await makeTempVault();
    const before = await readFile(current.path);
    await expect(
      changePassword(current.vault, { currentPassword: 'not the password', newPassword: 'a new master password', env: current.env }),
    ).rejects.toMatchObject({ code: 'BAD_CREDENTIAL' });
    expect((await readFile(current.path)).equals(before)).toBe(true);
  });

  it('opens with Argon2id', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const path = join(dir, 'vault');
      const env = testEnv(dir);
      const vault = await createVault({ path, env, password: PASSWORD, kdf: 'argon2id' });
      await vault.put('entry', 'value');
      const document = JSON.parse(await readFile(path, 'utf8')) as VaultDocument;
      expect(document.keySlots[0]).toMatchObject({ type: 'password', kdf: { algorithm: 'argon2id', memory: 65536, iterations: 3, parallelism: 4 } });

      expect(await openError(path, env, { password: 'wrong password!' })).toBe('BAD_CREDENTIAL');
      expect(await (await openVault({ path, env, password: PASSWORD })).get('entry')).toBe('value');
    } finally {
      await cleanup();
    }
  });

  it('opens at the real scrypt cost', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const path = join(dir, 'vault');
      const env = { HOME: dir };
      const vault = await createVault({ path, env, password: PASSWORD });
      await vault.put('entry', 'value');
      const document = JSON.parse(await readFile(path, 'utf8')) as VaultDocument;
      expect(document.keySlots[0]).toMatchObject({ kdf: { algorithm: 'scrypt', logN: 17, r: 8, p: 1 } });
      expect(await (await openVault({ path, env, password: PASSWORD })).get('entry')).toBe('value');
    } finally {
      await cleanup();
    }
  });

  it('rejects a KDF cost override below the floor', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      await expect(
        createVault({ path: join(dir, 'vault'), env: { AISHELL_VAULT_KDF_COST: '4' }, password: PASSWORD }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await cleanup();
    }
  });
});

describe('vault tamper detection', () => {
  it('detects a flipped byte at every offset', async () => {
    current = await makeTempVault();
    await current.vault.put('entry', 'value', { metadata: { owner: 'dba' } });
    const original = await readFile(current.path);
    const tampered = join(current.dir, 'tampered');

    for (let offset = 0; offset < original.length; offset += 1) {
      for (const mask of [0x01, 0x80]) {
        const copy = Buffer.from(original);
        copy[offset] ^= mask;
        await writeFile(tampered, copy);
        const code = await openError(tampered, current.env);
        expect(['INTEGRITY', 'FORMAT'], `offset ${offset} mask ${mask}: ${code}`).toContain(code);
      }
    }
  });

  it('detects reformatted JSON and duplicate keys', async () => {
    current = await makeTempVault();
    const text = await readFile(current.path, 'utf8');
    const pretty = JSON.stringify(JSON.parse(text), null, 2);
    await writeFile(current.path, pretty);
    expect(await openError(current.path, current.env)).toBe('INTEGRITY');

    await writeFile(current.path, text.replace('{"body"', '{"generation":99,"body"'));
    expect(await openError(current.path, current.env)).toBe('INTEGRITY');
  });

  it('detects header edits with a recomputed checksum', async () => {
    current = await makeTempVault();
    await current.vault.put('entry', 'value');
    const original = await readFile(current.path, 'utf8');

    const edits: [string, (document: VaultDocument) => void][] = [
      ['generation', (document) => (document.generation += 1)],
      ['created', (document) => (document.created = '2001-01-01T00:00:00.000Z')],
      ['vaultId', (document) => (document.vaultId = document.vaultId.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')))],
      ['kdf downgrade', (document) => ((document.keySlots[0] as { kdf: { logN: number } }).kdf.logN = 11)],
      ['key file flag', (document) => ((document.keySlots[0] as { keyFile: boolean }).keyFile = !(document.keySlots[0] as { keyFile: boolean }).keyFile)],
      ['slot id', (document) => (document.keySlots[0].id = 7)],
      ['body salt', (document) => (document.body.salt = Buffer.alloc(32, 1).toString('base64'))],
      ['body nonce', (document) => (document.body.nonce = Buffer.alloc(12, 1).toString('base64'))],
      ['extra field', (document) => ((document as unknown as Record<string, unknown>).note = 'x')],
    ];
    for (const [label, edit] of edits) {
      await writeFile(current.path, original);
      await rewrite(current.path, edit);
      const code = await openError(current.path, current.env).catch((error: Error) => `opened after ${label}: ${error.message}`);
      // Turning on the key-file flag makes the open ask for a key file, which is a failure too.
      expect(['INTEGRITY', 'FORMAT', 'BAD_CREDENTIAL', 'MISSING_CREDENTIAL'], `${label}: ${code}`).toContain(code);
    }
  });

  it('detects every flipped ciphertext byte with a recomputed checksum', async () => {
    current = await makeTempVault();
    await current.vault.put('entry', 'value');
    const original = JSON.parse(await readFile(current.path, 'utf8')) as VaultDocument;

    for (const field of ['body', 'slot'] as const) {
      const ciphertext = Buffer.from(field === 'body' ? original.body.ciphertext : original.keySlots[0].ciphertext, 'base64');
      for (let offset = 0; offset < ciphertext.length; offset += 1) {
        const copy = Buffer.from(ciphertext);
        copy[offset] ^= 0x01;
        const document = structuredClone(original);
        if (field === 'body') document.body.ciphertext = copy.toString('base64');
        else document.keySlots[0].ciphertext = copy.toString('base64');
        await writeFile(current.path, serializeVaultFile(document));
        const code = await openError(current.path, current.env);
        expect(field === 'body' ? 'INTEGRITY' : 'BAD_CREDENTIAL', `${field} offset ${offset}`).toBe(code);
      }
    }
  });

  it('rejects a non-canonical base64 spelling of the same bytes', async () => {
    current = await makeTempVault();
    const original = JSON.parse(await readFile(current.path, 'utf8')) as VaultDocument;
    const nonce = original.body.nonce;
    // A 12-byte nonce is 16 base64 characters with no padding; use the slot nonce (12 bytes) and the
    // body salt (32 bytes, one '=' of padding), whose last character has unused low bits.
    const salt = original.body.salt;
    const last = salt[salt.length - 2];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1];
    const edited = `${salt.slice(0, -2)}${sibling}=`;
    expect(Buffer.from(edited, 'base64').equals(Buffer.from(salt, 'base64'))).toBe(true);

    await rewrite(current.path, (document) => (document.body.salt = edited));
    expect(await openError(current.path, current.env)).toBe('INTEGRITY');
    expect(nonce).toHaveLength(16);
  });

  it('rejects KDF parameters above the caps before running the KDF', async () => {
    current = await makeTempVault();
    const original = await readFile(current.path, 'utf8');

    await rewrite(current.path, (document) => ((document.keySlots[0] as { kdf: { logN: number } }).kdf.logN = 30));
    const scryptError = await openVault({ path: current.path, env: current.env, password: PASSWORD }).catch((caught: unknown) => caught);
    expect(scryptError).toMatchObject({ code: 'FORMAT' });
    expect((scryptError as Error).message).toContain('logN 30');

    await writeFile(current.path, original);
    await rewrite(current.path, (document) => {
      document.keySlots[0] = { ...document.keySlots[0], kdf: { algorithm: 'argon2id', memory: 4 * 1024 * 1024, iterations: 3, parallelism: 4, salt: (document.keySlots[0] as { kdf: { salt: string } }).kdf.salt } } as VaultDocument['keySlots'][0];
    });
    const argonError = await openVault({ path: current.path, env: current.env, password: PASSWORD }).catch((caught: unknown) => caught);
    expect(argonError).toMatchObject({ code: 'FORMAT' });
    expect((argonError as Error).message).toContain('memory');
  });

  it('rejects empty, truncated and foreign files', async () => {
    current = await makeTempVault();
    const original = await readFile(current.path);
    for (const length of [0, 1, Math.floor(original.length / 2), original.length - 2]) {
      await writeFile(current.path, original.subarray(0, length));
      expect(['INTEGRITY', 'FORMAT'], `length ${length}`).toContain(await openError(current.path, current.env));
    }
    await writeFile(current.path, '{"format":"something-else"}\n');
    expect(await openError(current.path, current.env)).toBe('FORMAT');
  });

  it('detects a vault file swapped under an open handle', async () => {
    current = await makeTempVault();
    const other = await makeTempVault();
    try {
      await writeFile(current.path, await readFile(other.path));
      await expect(current.vault.get('anything')).rejects.toMatchObject({ code: 'INTEGRITY' });
    } finally {
      await other.cleanup();
    }
  });
});
