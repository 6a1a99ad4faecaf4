import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { serializeVaultFile, type Pkcs11Slot, type VaultDocument } from '../../engine/vault/format.js';
import { addKeySlot, changePassword, openVault } from '../../engine/vault/index.js';
import { makeTempDir, makeTempVault, PASSWORD, runCli } from './helpers.js';

/** Debian's softhsm2 package installs the module here (the first is a symlink to the second on amd64). */
const MODULE_CANDIDATES = [
  process.env.SOFTHSM2_MODULE,
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
].filter((candidate): candidate is string => candidate !== undefined && candidate !== '');
const MODULE = MODULE_CANDIDATES.find((candidate) => existsSync(candidate));
const IN_CI = process.env.CI === 'true';

const TOKEN = 'aishell-vault-test';
const PIN = '246813';
const SO_PIN = '97531864';

if (MODULE === undefined && !IN_CI) {
  console.warn('SoftHSM2 is not installed (apt-get install softhsm2): skipping the PKCS#11 vault tests');
}

describe.skipIf(MODULE === undefined && !IN_CI)('vault PKCS#11 key slot (SoftHSM2)', () => {
  let hsmDir: string;
  let cleanupHsm: () => Promise<void>;
  const previousConf = process.env.SOFTHSM2_CONF;

  beforeAll(async () => {
    if (MODULE === undefined) {
      throw new Error(`SoftHSM2 module not found in ${MODULE_CANDIDATES.join(', ')}; CI must install the softhsm2 package`);
    }
    ({ dir: hsmDir, cleanup: cleanupHsm } = await makeTempDir('aishell-softhsm-'));
    await mkdir(join(hsmDir, 'tokens'));
    const conf = join(hsmDir, 'softhsm2.conf');
    await writeFile(conf, `directories.tokendir = ${join(hsmDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    // The module reads SOFTHSM2_CONF when it is initialized, which happens in this process.
    process.env.SOFTHSM2_CONF = conf;
    await promisify(execFile)('softhsm2-util', ['--init-token', '--free', '--label', TOKEN, '--so-pin', SO_PIN, '--pin', PIN], {
      env: { ...process.env, SOFTHSM2_CONF: conf },
    });
  });

  afterAll(async () => {
    if (previousConf === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previousConf;
    await cleanupHsm?.();
  });

  it('opens the vault with the token and no password', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('db', 'hsm-protected-value');
      const slot = await addKeySlot(
        temp.vault,
        { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-open', pin: PIN, createKey: true },
        { env: { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! } },
      );
      expect(slot).toMatchObject({ id: 1, type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-open' });

      const viaToken = await openVault({ path: temp.path, env: { ...temp.env, AISHELL_PKCS11_PIN: PIN, AISHELL_PKCS11_MODULE: MODULE! } });
      expect(viaToken.unlockedBy?.type).toBe('pkcs11');
      expect(await viaToken.get('db')).toBe('hsm-protected-value');

      const viaPassword = await openVault({ path: temp.path, env: temp.env, password: PASSWORD });
      expect(viaPassword.unlockedBy?.type).toBe('password');
    } finally {
      await temp.cleanup();
    }
  });

  it('creates a sensitive, non-extractable key on the token', async () => {
    const temp = await makeTempVault();
    try {
      await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-attributes', pin: PIN, createKey: true }, { env: { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! } });
      const pkcs11js = (await import('pkcs11js')).default;
      const token = new pkcs11js.PKCS11();
      token.load(MODULE!);
      token.C_Initialize();
      try {
        const slot = token.C_GetSlotList(true).find((candidate) => token.C_GetTokenInfo(candidate).label.trim() === TOKEN)!;
        const session = token.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
        token.C_Login(session, pkcs11js.CKU_USER, PIN);
        token.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'kek-attributes' }]);
        const [key] = token.C_FindObjects(session, 1);
        token.C_FindObjectsFinal(session);
        const [extractable, sensitive] = token.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_SENSITIVE }]);
        expect(extractable.value).toEqual(Buffer.from([0]));
        expect(sensitive.value).toEqual(Buffer.from([1]));
        token.C_CloseSession(session);
      } finally {
        token.C_Finalize();
      }
    } finally {
      await temp.cleanup();
    }
  });

  it('rejects a wrong PIN without changing the file', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! };
      await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-pin', pin: PIN, createKey: true }, { env });
      const before = await readFile(temp.path);
      const error = await openVault({ path: temp.path, env, slot: 'pkcs11', pkcs11Pin: '000000' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'BAD_CREDENTIAL' });
      expect((error as Error).message).toContain(`wrong PIN for PKCS#11 token "${TOKEN}"`);
      expect((await readFile(temp.path)).equals(before)).toBe(true);
    } finally {
      await temp.cleanup();
    }
  });

  it('reports a missing token, key or module clearly', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! };
      const missingToken = await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: 'no-such-token', keyLabel: 'k', pin: PIN, createKey: true }, { env }).catch((caught: unknown) => caught);
      expect(missingToken).toMatchObject({ code: 'KEY_PROVIDER' });
      expect((missingToken as Error).message).toContain('no PKCS#11 token labelled "no-such-token"');

      const missingKey = await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'never-created', pin: PIN }, { env }).catch((caught: unknown) => caught);
      expect(missingKey).toMatchObject({ code: 'KEY_PROVIDER' });
      expect((missingKey as Error).message).toContain('no secret key labelled "never-created"');

      const missingModule = await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'k', pin: PIN }, { env: { ...env, AISHELL_PKCS11_MODULE: join(temp.dir, 'libnothing.so') } }).catch((caught: unknown) => caught);
      expect(missingModule).toMatchObject({ code: 'KEY_PROVIDER' });
      expect((missingModule as Error).message).toContain('libnothing.so not found');
      expect((await temp.vault.info()).keySlots).toHaveLength(1);
    } finally {
      await temp.cleanup();
    }
  });

  it('detects an edited PKCS#11 slot', async () => {
    const temp = await makeTempVault();
    try {
      const env = { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! };
      await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-tamper', pin: PIN, createKey: true }, { env });
      const document = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      const slot = document.keySlots[1] as Pkcs11Slot;
      const nonce = Buffer.from(slot.nonce, 'base64');
      nonce[0] ^= 0x01;
      slot.nonce = nonce.toString('base64');
      await writeFile(temp.path, serializeVaultFile(document));

      await expect(openVault({ path: temp.path, env, slot: 'pkcs11', pkcs11Pin: PIN })).rejects.toMatchObject({ code: 'INTEGRITY' });
    } finally {
      await temp.cleanup();
    }
  });

  it('adds and uses the slot through the CLI', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('cli-entry', 'cli-hsm-value');
      const env = { ...temp.env, AISHELL_VAULT_PATH: temp.path };
      const added = await runCli(
        ['configure', '--add-slot', 'pkcs11', '--pkcs11-module', MODULE!, '--token-label', TOKEN, '--key-label', 'kek-cli', '--create-key'],
        { env: { ...env, AISHELL_VAULT_PASSWORD: PASSWORD, AISHELL_PKCS11_PIN: PIN } },
      );
      expect(added.code, added.stderr).toBe(0);
      expect(added.stderr).toContain('added key slot 1 (pkcs11)');

      const pinFile = join(temp.dir, 'pin');
      await writeFile(pinFile, `${PIN}\n`, { mode: 0o600 });
      const withoutModule = await runCli(['retrieve', 'cli-entry', '--pin-file', pinFile], { env });
      expect(withoutModule.code).toBe(1);
      expect(withoutModule.stderr).toContain('needs the PKCS#11 module: set AISHELL_PKCS11_MODULE');

      const retrieved = await runCli(['retrieve', 'cli-entry', '--pin-file', pinFile, '--pkcs11-module', MODULE!], { env });
      expect(retrieved.code, retrieved.stderr).toBe(0);
      expect(retrieved.stdout).toBe('cli-hsm-value\n');

      // The module may also come from security.yaml.
      await writeFile(join(temp.dir, 'security.yaml'), `version: 1\nvault:\n  pkcs11_module: ${MODULE}\n`);
      const fromConfig = await runCli(['retrieve', 'cli-entry', '--pin-file', pinFile], { env, cwd: temp.dir });
      expect(fromConfig.code, fromConfig.stderr).toBe(0);
    } finally {
      await temp.cleanup();
    }
  });

  it('refuses a slot when no module is configured', async () => {
    const temp = await makeTempVault();
    try {
      await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-unconfigured', pin: PIN, createKey: true }, { env: { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! } });
      const slot = (JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument).keySlots[1];
      expect(Object.keys(slot)).not.toContain('module');

      const error = await openVault({ path: temp.path, env: temp.env, slot: 'pkcs11', pkcs11Pin: PIN }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'MISSING_CREDENTIAL' });
      expect((error as Error).message).toContain('needs the PKCS#11 module: set AISHELL_PKCS11_MODULE');
    } finally {
      await temp.cleanup();
    }
  });

  it('never loads a module named in the file', async () => {
    const temp = await makeTempVault();
    try {
      // A library that announces its loading by creating a file, as a hostile module could run any code.
      const marker = join(temp.dir, 'module-was-loaded');
      const source = join(temp.dir, 'hostile.c');
      const hostile = join(temp.dir, 'hostile.so');
      await writeFile(source, `#include <stdio.h>\n__attribute__((constructor)) static void announce(void) { FILE *f = fopen(${JSON.stringify(marker)}, "w"); if (f) fclose(f); }\n`);
      await promisify(execFile)('cc', ['-shared', '-fPIC', '-o', hostile, source]);

      const env = { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! };
      await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-hostile', pin: PIN, createKey: true }, { env });
      const document = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      (document.keySlots[1] as Pkcs11Slot).module = hostile;
      await writeFile(temp.path, serializeVaultFile(document));

      for (const moduleEnv of [{}, { AISHELL_PKCS11_MODULE: MODULE! }]) {
        const error = await openVault({ path: temp.path, env: { ...temp.env, ...moduleEnv }, slot: 'pkcs11', pkcs11Pin: PIN }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).not.toContain(hostile);
      }
      expect(existsSync(marker)).toBe(false);
    } finally {
      await temp.cleanup();
    }
  });

  it('re-wraps the token slot when the password changes', async () => {
    const temp = await makeTempVault();
    try {
      await temp.vault.put('entry', 'kept across the re-key');
      const env = { ...temp.env, AISHELL_PKCS11_MODULE: MODULE! };
      await addKeySlot(temp.vault, { type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-rekey', pin: PIN, createKey: true }, { env });
      const before = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;

      const missingPin = await changePassword(temp.vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env }).catch((caught: unknown) => caught);
      expect(missingPin).toMatchObject({ code: 'MISSING_CREDENTIAL' });
      expect((missingPin as Error).message).toContain('key slot 1 (pkcs11): needs the PIN');

      await changePassword(temp.vault, { currentPassword: PASSWORD, newPassword: 'a new master password', env, pkcs11Pin: PIN });
      const after = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      expect(after.keySlots[1].ciphertext).not.toBe(before.keySlots[1].ciphertext);
      const viaToken = await openVault({ path: temp.path, env, slot: 'pkcs11', pkcs11Pin: PIN });
      expect(await viaToken.get('entry')).toBe('kept across the re-key');
    } finally {
      await temp.cleanup();
    }
  });
});
