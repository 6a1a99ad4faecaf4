import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { serializeVaultFile, type Pkcs11Slot, type VaultDocument } from '../../engine/vault/format.js';
import { addKeySlot, openVault } from '../../engine/vault/index.js';
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
        { type: 'pkcs11', module: MODULE!, tokenLabel: TOKEN, keyLabel: 'kek-open', pin: PIN, createKey: true },
        { env: temp.env },
      );
      expect(slot).toMatchObject({ id: 1, type: 'pkcs11', tokenLabel: TOKEN, keyLabel: 'kek-open' });

      const viaToken = await openVault({ path: temp.path, env: { ...temp.env, AISHELL_PKCS11_PIN: PIN } });
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
      await addKeySlot(temp.vault, { type: 'pkcs11', module: MODULE!, tokenLabel: TOKEN, keyLabel: 'kek-attributes', pin: PIN, createKey: true }, { env: temp.env });
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
      await addKeySlot(temp.vault, { type: 'pkcs11', module: MODULE!, tokenLabel: TOKEN, keyLabel: 'kek-pin', pin: PIN, createKey: true }, { env: temp.env });
      const before = await readFile(temp.path);
      const error = await openVault({ path: temp.path, env: temp.env, slot: 'pkcs11', pkcs11Pin: '000000' }).catch((caught: unknown) => caught);
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
      const missingToken = await addKeySlot(temp.vault, { type: 'pkcs11', module: MODULE!, tokenLabel: 'no-such-token', keyLabel: 'k', pin: PIN, createKey: true }, { env: temp.env }).catch((caught: unknown) => caught);
      expect(missingToken).toMatchObject({ code: 'KEY_PROVIDER' });
      expect((missingToken as Error).message).toContain('no PKCS#11 token labelled "no-such-token"');

      const missingKey = await addKeySlot(temp.vault, { type: 'pkcs11', module: MODULE!, tokenLabel: TOKEN, keyLabel: 'never-created', pin: PIN }, { env: temp.env }).catch((caught: unknown) => caught);
      expect(missingKey).toMatchObject({ code: 'KEY_PROVIDER' });
      expect((missingKey as Error).message).toContain('no secret key labelled "never-created"');

      const missingModule = await addKeySlot(temp.vault, { type: 'pkcs11', module: join(temp.dir, 'libnothing.so'), tokenLabel: TOKEN, keyLabel: 'k', pin: PIN }, { env: temp.env }).catch((caught: unknown) => caught);
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
      await addKeySlot(temp.vault, { type: 'pkcs11', module: MODULE!, tokenLabel: TOKEN, keyLabel: 'kek-tamper', pin: PIN, createKey: true }, { env: temp.env });
      const document = JSON.parse(await readFile(temp.path, 'utf8')) as VaultDocument;
      const slot = document.keySlots[1] as Pkcs11Slot;
      const nonce = Buffer.from(slot.nonce, 'base64');
      nonce[0] ^= 0x01;
      slot.nonce = nonce.toString('base64');
      await writeFile(temp.path, serializeVaultFile(document));

      await expect(openVault({ path: temp.path, env: temp.env, slot: 'pkcs11', pkcs11Pin: PIN })).rejects.toMatchObject({ code: 'INTEGRITY' });
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
      const retrieved = await runCli(['retrieve', 'cli-entry', '--pin-file', pinFile], { env });
      expect(retrieved.code, retrieved.stderr).toBe(0);
      expect(retrieved.stdout).toBe('cli-hsm-value\n');
    } finally {
      await temp.cleanup();
    }
  });
});
