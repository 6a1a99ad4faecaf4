import { parseArgs } from 'node:util';

import { addKeySlot, backupVault, restoreVault, type NewKeySlot } from './admin.js';
import { noPositionals, onePositional } from './cli-entries.js';
import {
  COMMON_OPTIONS,
  actorOf,
  canPrompt,
  formatOf,
  formatTable,
  formatTime,
  locationOf,
  openFromCli,
  parseDuration,
  parseInteger,
  promptHidden,
  readCurrentPassword,
  readNewPassword,
  vaultPathOf,
  writeJson,
  type CliContext,
  type CommonValues,
} from './cli-support.js';
import { ENV, readSecretFile } from './credentials.js';
import { VaultError } from './errors.js';
import { DEFAULT_SCRYPT_LOG_N, KDF_COST_ENV, scryptCostFromEnv, type KdfAlgorithm } from './kdf.js';
import { createVault } from './open.js';
import { changePassword, removeKeySlot, type RekeyResult } from './rekey.js';
import { createSession, endSessions, MAX_SESSION_SECONDS } from './session.js';
import { slotFingerprint, TRUST_ENV, type VaultTrust } from './trust.js';
import { parseSlotSelector, pkcs11Pin } from './unlock.js';
import type { Vault } from './vault.js';

const NEW_PASSWORD_ENV = 'AISHELL_VAULT_NEW_PASSWORD';

export async function initCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMMON_OPTIONS, kdf: { type: 'string' }, 'keep-history': { type: 'string' }, 'auto-lock': { type: 'string' } },
  });
  noPositionals(positionals, 'init');
  const { io } = context;
  const path = await vaultPathOf(context, values);
  warnLowKdfCost(context);

  const password = values['password-file'] !== undefined
    ? await readSecretFile(values['password-file'], 'password')
    : io.env[ENV.password] || (canPrompt(io) ? await newPasswordPrompt(context) : undefined);
  if (password === undefined) {
    throw new VaultError('MISSING_CREDENTIAL', `no master password for the new vault: set ${ENV.password}, pass --password-file FILE, or run on a terminal to be prompted`);
  }

  const vault = await createVault({
    path,
    env: io.env,
    password,
    keyFile: values['key-file'] ?? (io.env[ENV.keyFile] || undefined),
    kdf: kdfOf(values.kdf),
    settings: {
      ...(values['keep-history'] === undefined ? {} : { keepHistory: parseInteger(values['keep-history'], '--keep-history') }),
      ...(values['auto-lock'] === undefined ? {} : { autoLockSeconds: parseDuration(values['auto-lock'], '--auto-lock') }),
    },
    actor: actorOf(io.env),
    onAccess: context.onAccess,
  });
  vault.lock();
  io.stderr.write(
    `created vault ${path} with id ${vault.vaultId}; pin it with ${TRUST_ENV.vaultId[0]}=${vault.vaultId} or vault.id in security.yaml, so that a substituted file is rejected\n`,
  );
  return 0;
}

async function newPasswordPrompt(context: CliContext): Promise<string> {
  const { io } = context;
  const first = await promptHidden(io, 'New master password: ');
  const second = await promptHidden(io, 'Repeat the master password: ');
  if (first !== second) throw new VaultError('INVALID_ARGUMENT', 'the two passwords differ; no vault was created');
  return first;
}

/**
 * Starts an unlock session and prints `export AISHELL_VAULT_SESSION=...` for the shell to
 * evaluate. Refuses to print the token to a terminal, where it would stay on screen.
 */
export async function unlockCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, timeout: { type: 'string' } } });
  noPositionals(positionals, 'unlock');
  const { io } = context;
  const format = formatOf(values);
  if (io.stdout.isTTY && format === 'text') {
    throw new VaultError('INVALID_ARGUMENT', 'unlock prints a session token for your shell; run: eval "$(aishell vault unlock)"');
  }

  const vault = await openFromCli(context, values, { useSession: false });
  try {
    const settings = (await vault.info()).settings;
    const requested = values.timeout === undefined ? settings.autoLockSeconds : parseDuration(values.timeout, '--timeout');
    const session = await createSession({ env: io.env, vaultPath: vault.path, vaultId: vault.vaultId, dataKey: vault.requireKey(), idleSeconds: requested, now: vault.now() });
    const { idleSeconds } = session;

    if (format === 'json') {
      writeJson(io, { variable: ENV.session, token: session.token, expires: session.expires.toISOString(), idleSeconds });
    } else {
      io.stdout.write(`export ${ENV.session}='${session.token}'\n`);
    }
    if (requested > idleSeconds) {
      io.stderr.write(`warning: --timeout ${values.timeout} is longer than the maximum of ${MAX_SESSION_SECONDS / 3600} h; the session ends after ${MAX_SESSION_SECONDS / 3600} h\n`);
    }
    io.stderr.write(
      `vault ${vault.path} unlocked; the session ends after ${idleSeconds} s without use, ${MAX_SESSION_SECONDS / 3600} h after it started, or with \`aishell vault lock\`\n`,
    );
    return 0;
  } finally {
    vault.lock();
  }
}

export async function lockCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS } });
  noPositionals(positionals, 'lock');
  const { io } = context;
  const path = await vaultPathOf(context, values);
  const ended = await endSessions({ env: io.env, vaultPath: path, token: io.env[ENV.session] || undefined });
  if (!io.stdout.isTTY) io.stdout.write(`unset ${ENV.session}\n`);
  io.stderr.write(ended === 0 ? `no unlock session of ${path} was active\n` : `ended ${ended} unlock session${ended === 1 ? '' : 's'} of ${path}\n`);
  return 0;
}

/** Options for re-wrapping the key slots that a re-key keeps. */
const REKEY_OPTIONS = {
  'other-password-file': { type: 'string', multiple: true },
  'drop-other-slots': { type: 'boolean' },
} as const;

export async function changePasswordCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMMON_OPTIONS, ...REKEY_OPTIONS, 'new-password-file': { type: 'string' }, 'new-key-file': { type: 'string' }, 'no-key-file': { type: 'boolean' }, kdf: { type: 'string' } },
  });
  noPositionals(positionals, 'change-password');
  const { io } = context;
  warnLowKdfCost(context);

  // The current password is checked even when a session or KMS slot could open the vault.
  const location = await locationOf(context, values);
  const currentPassword = await readCurrentPassword(io, values['password-file']);
  const vault = await openFromCli(context, { ...values, slot: values.slot ?? 'password' }, { useSession: false, password: currentPassword, location });
  try {
    const newPassword = await readNewPassword(io, values['new-password-file'], NEW_PASSWORD_ENV);
    const currentKeyFile = values['key-file'] ?? (io.env[ENV.keyFile] || undefined);
    const result = await changePassword(vault, {
      ...(await rekeyCredentials(context, values, location.trust)),
      currentPassword,
      currentKeyFile,
      keyFile: currentKeyFile,
      newPassword,
      newKeyFile: values['no-key-file'] ? null : values['new-key-file'],
      kdf: values.kdf === undefined ? undefined : kdfOf(values.kdf),
    });
    io.stderr.write(
      `changed the master password of key slot ${result.slotId} and re-keyed the vault: the old password and the old data key open no copy made from now on, ` +
        `and ${vault.path}.bak holds the new generation; backups made before still open with the old password\n`,
    );
    await reportRekey(context, vault, result, location.trust);
    return 0;
  } finally {
    vault.lock();
  }
}

/** Collects the credentials that re-wrap the other key slots during a re-key. */
async function rekeyCredentials(
  context: CliContext,
  values: CommonValues & { 'other-password-file'?: string[]; 'drop-other-slots'?: boolean },
  trust: VaultTrust,
) {
  const { io } = context;
  const passwords: string[] = [];
  for (const file of values['other-password-file'] ?? []) passwords.push(await readSecretFile(file, 'password'));
  return {
    env: io.env,
    trust,
    passwords,
    keyFile: values['key-file'] ?? (io.env[ENV.keyFile] || undefined),
    pkcs11Pin: await pkcs11Pin({ env: io.env, pinFile: values['pin-file'] }),
    dropOtherSlots: values['drop-other-slots'] ?? false,
    reason: values['audit-reason'],
  };
}

/** Reports dropped slots, ended sessions and a slot fingerprint that no longer matches its pin. */
async function reportRekey(context: CliContext, vault: Vault, result: RekeyResult, trust: VaultTrust): Promise<void> {
  const { io } = context;
  for (const slot of result.dropped) {
    io.stderr.write(`removed key slot ${slot.id} (${slot.type}), which could not be re-wrapped, because --drop-other-slots was given: ${slot.reason}\n`);
  }
  if (result.endedSessions > 0) {
    io.stderr.write(`ended ${result.endedSessions} unlock session${result.endedSessions === 1 ? '' : 's'} of this vault; run \`aishell vault unlock\` again\n`);
  }
  await reportFingerprint(context, vault, trust);
}

/** Prints the new slot fingerprint when a pinned one no longer matches. */
async function reportFingerprint(context: CliContext, vault: Vault, trust: VaultTrust): Promise<void> {
  if (trust.slotFingerprint === undefined) return;
  const { document } = await vault.load();
  const fingerprint = slotFingerprint(document);
  if (fingerprint !== trust.slotFingerprint.toLowerCase()) {
    context.io.stderr.write(
      `warning: the key slots changed, so ${trust.sources?.slotFingerprint ?? 'the pinned fingerprint'} no longer matches; set it to ${fingerprint}\n`,
    );
  }
}

export async function backupCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, force: { type: 'boolean' } } });
  const destination = onePositional(positionals, 'backup FILE');
  const vault = await openFromCli(context, values);
  try {
    const { generation } = await backupVault(vault, destination, { overwrite: values.force, reason: values['audit-reason'] });
    context.io.stderr.write(`wrote encrypted backup ${destination} (generation ${generation}); it opens with the vault's current credentials\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

export async function restoreCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, force: { type: 'boolean' } } });
  const source = onePositional(positionals, 'restore FILE');
  const { io } = context;
  const { path, trust } = await locationOf(context, values);
  const result = await restoreVault({
    path,
    trust,
    source,
    env: io.env,
    passwordFile: values['password-file'],
    keyFile: values['key-file'],
    slot: parseSlotSelector(values.slot),
    pinFile: values['pin-file'],
    allowOtherVault: values.force,
    reason: values['audit-reason'],
    actor: actorOf(io.env),
    onAccess: context.onAccess,
    prompt: canPrompt(io) ? (question) => promptHidden(io, question) : undefined,
  });
  io.stderr.write(
    `restored ${source} (backup generation ${result.backupGeneration}) as generation ${result.generation}` +
      (result.previousCopy ? `; the replaced file is kept at ${result.previousCopy}` : '') +
      '\n',
  );
  if (result.keySlotsDiffer) {
    io.stderr.write(
      `warning: ${source} was made before the key slots last changed (a password change, re-key or slot change): the restored vault opens with the passwords and keys it had then, ` +
        'including any old password, and no longer with the current ones. If an old password was exposed, run `aishell vault change-password` now\n',
    );
  }
  return 0;
}

const CONFIGURE_OPTIONS = {
  show: { type: 'boolean' },
  'keep-history': { type: 'string' },
  'auto-lock': { type: 'string' },
  'add-slot': { type: 'string' },
  'remove-slot': { type: 'string' },
  'new-password-file': { type: 'string' },
  'new-key-file': { type: 'string' },
  kdf: { type: 'string' },
  'kms-key-id': { type: 'string' },
  region: { type: 'string' },
  'kms-key-name': { type: 'string' },
  endpoint: { type: 'string' },
  'token-label': { type: 'string' },
  'key-label': { type: 'string' },
  'create-key': { type: 'boolean' },
} as const;

/** Shows or changes vault settings and key slots. */
export async function configureCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, ...CONFIGURE_OPTIONS, ...REKEY_OPTIONS } });
  noPositionals(positionals, 'configure');
  const { io } = context;
  // --endpoint applies to the KMS of the slot being added, for this command only.
  const endpoint = values.endpoint;
  const explicit = endpoint === undefined ? {} : values['add-slot'] === 'gcp-kms' ? { gcpKmsEndpoint: endpoint } : { awsKmsEndpoint: endpoint };
  const location = await locationOf(context, values, explicit);
  const vault = await openFromCli(context, values, { location });
  try {
    const settings = {
      ...(values['keep-history'] === undefined ? {} : { keepHistory: parseInteger(values['keep-history'], '--keep-history') }),
      ...(values['auto-lock'] === undefined ? {} : { autoLockSeconds: parseDuration(values['auto-lock'], '--auto-lock') }),
    };
    if (Object.keys(settings).length > 0) {
      await vault.configure(settings, { reason: values['audit-reason'] });
      io.stderr.write(`updated vault settings: ${Object.entries(settings).map(([key, value]) => `${key}=${value}`).join(', ')}\n`);
    }

    if (values['add-slot'] !== undefined) {
      const slot = await addKeySlot(vault, await newSlotOf(values['add-slot'], values, context), { env: io.env, trust: location.trust, reason: values['audit-reason'] });
      io.stderr.write(`added key slot ${slot.id} (${slot.type}); it opens the vault on its own\n`);
      if (endpoint !== undefined) {
        const variable = values['add-slot'] === 'gcp-kms' ? TRUST_ENV.gcpKmsEndpoint[0] : TRUST_ENV.awsKmsEndpoint[0];
        io.stderr.write(`the vault file does not record --endpoint; set ${variable} or the vault section of security.yaml wherever this slot is used\n`);
      }
      await reportFingerprint(context, vault, location.trust);
    }
    if (values['remove-slot'] !== undefined) {
      const id = parseInteger(values['remove-slot'], '--remove-slot');
      const credentials = await rekeyCredentials(context, values, location.trust);
      credentials.passwords.unshift(...(await passwordsForRekey(context, values, vault, id)));
      const result = await removeKeySlot(vault, id, credentials);
      io.stderr.write(`removed key slot ${id} (${result.type}) and re-keyed the vault: its credential opens no copy made from now on, only backups made before\n`);
      await reportRekey(context, vault, result, location.trust);
    }

    const changed = Object.keys(settings).length > 0 || values['add-slot'] !== undefined || values['remove-slot'] !== undefined;
    if (values.show || !changed) {
      const info = await vault.info();
      if (formatOf(values) === 'json') {
        writeJson(io, { ...info, created: info.created.toISOString() });
      } else {
        io.stdout.write(
          [
            `path:          ${info.path}`,
            `vault id:      ${info.vaultId}`,
            `slots sha256:  ${info.slotFingerprint}`,
            `generation:    ${info.generation}`,
            `created:       ${formatTime(info.created)}`,
            `entries:       ${info.entryCount}`,
            `keep history:  ${info.settings.keepHistory}`,
            `auto-lock:     ${info.settings.autoLockSeconds} s`,
            '',
          ].join('\n') + formatTable(['SLOT', 'TYPE', 'DETAIL'], info.keySlots.map((slot) => [String(slot.id), slot.type, slot.detail])),
        );
      }
    }
    return 0;
  } finally {
    vault.lock();
  }
}

async function newSlotOf(type: string, values: Record<string, string | boolean | string[] | undefined>, context: CliContext): Promise<NewKeySlot> {
  const { io } = context;
  const need = (option: string): string => {
    const value = values[option];
    if (typeof value !== 'string' || value === '') {
      throw new VaultError('INVALID_ARGUMENT', `--add-slot ${type} needs --${option}`);
    }
    return value;
  };

  switch (type) {
    case 'password':
      return {
        type,
        password: await readNewPassword(io, values['new-password-file'] as string | undefined, NEW_PASSWORD_ENV),
        ...(typeof values['new-key-file'] === 'string' ? { keyFile: values['new-key-file'] } : {}),
        ...(typeof values.kdf === 'string' ? { kdf: kdfOf(values.kdf) } : {}),
      };
    case 'aws-kms':
      return { type, keyId: need('kms-key-id'), region: need('region') };
    case 'gcp-kms':
      return { type, keyName: need('kms-key-name') };
    case 'pkcs11': {
      const pinFile = values['pin-file'];
      const pin = typeof pinFile === 'string' ? await readSecretFile(pinFile, 'PIN') : io.env[ENV.pkcs11Pin];
      if (!pin) throw new VaultError('MISSING_CREDENTIAL', `--add-slot pkcs11 needs the token PIN: set ${ENV.pkcs11Pin} or pass --pin-file FILE`);
      return {
        type,
        tokenLabel: need('token-label'),
        keyLabel: need('key-label'),
        pin,
        createKey: values['create-key'] === true,
      };
    }
    default:
      throw new VaultError('INVALID_ARGUMENT', `--add-slot ${type} is invalid: use password, aws-kms, gcp-kms or pkcs11`);
  }
}

/**
 * Returns the master password for re-wrapping the password slots that stay when a slot is
 * removed: from --password-file or AISHELL_VAULT_PASSWORD, else asked for on a terminal when such
 * a slot stays. The vault may have been opened by a session, which contains no password.
 */
async function passwordsForRekey(context: CliContext, values: CommonValues, vault: Vault, removedId: number): Promise<string[]> {
  const { io } = context;
  if (values['password-file'] !== undefined) return [await readSecretFile(values['password-file'], 'password')];
  if (io.env[ENV.password]) return [io.env[ENV.password]!];

  const { keySlots } = await vault.info();
  const keepsPasswordSlot = keySlots.some((slot) => slot.type === 'password' && slot.id !== removedId);
  if (!keepsPasswordSlot || !canPrompt(io)) return [];
  return [await promptHidden(io, 'Master password (to re-wrap the password key slot): ')];
}

function kdfOf(text: string | undefined): KdfAlgorithm | undefined {
  if (text === undefined) return undefined;
  if (text !== 'scrypt' && text !== 'argon2id') throw new VaultError('INVALID_ARGUMENT', `--kdf ${text} is invalid: use scrypt or argon2id`);
  return text;
}

function warnLowKdfCost(context: CliContext): void {
  if (scryptCostFromEnv(context.io.env) < DEFAULT_SCRYPT_LOG_N) {
    context.io.stderr.write(`warning: ${KDF_COST_ENV} lowers the password KDF cost of new key slots; use it only in tests\n`);
  }
}
