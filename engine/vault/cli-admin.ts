import { parseArgs } from 'node:util';

import { addKeySlot, backupVault, changePassword, removeKeySlot, restoreVault, type NewKeySlot } from './admin.js';
import { noPositionals, onePositional } from './cli-entries.js';
import {
  COMMON_OPTIONS,
  actorOf,
  canPrompt,
  formatOf,
  formatTable,
  formatTime,
  openFromCli,
  parseDuration,
  parseInteger,
  promptHidden,
  readCurrentPassword,
  readNewPassword,
  vaultPathOf,
  writeJson,
  type CliContext,
} from './cli-support.js';
import { ENV, readSecretFile } from './credentials.js';
import { VaultError } from './errors.js';
import { DEFAULT_SCRYPT_LOG_N, KDF_COST_ENV, scryptCostFromEnv, type KdfAlgorithm } from './kdf.js';
import { createVault } from './open.js';
import { createSession, endSessions } from './session.js';
import { parseSlotSelector } from './unlock.js';

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
  io.stderr.write(`created vault ${path}\n`);
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
    const idleSeconds = values.timeout === undefined ? settings.autoLockSeconds : parseDuration(values.timeout, '--timeout');
    const session = await createSession({ env: io.env, vaultPath: vault.path, vaultId: vault.vaultId, dataKey: vault.requireKey(), idleSeconds, now: vault.now() });

    if (format === 'json') {
      writeJson(io, { variable: ENV.session, token: session.token, expires: session.expires.toISOString(), idleSeconds });
    } else {
      io.stdout.write(`export ${ENV.session}='${session.token}'\n`);
    }
    io.stderr.write(`vault ${vault.path} unlocked; the session ends after ${idleSeconds} s without use or with \`aishell vault lock\`\n`);
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

export async function changePasswordCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMMON_OPTIONS, 'new-password-file': { type: 'string' }, 'new-key-file': { type: 'string' }, 'no-key-file': { type: 'boolean' }, kdf: { type: 'string' } },
  });
  noPositionals(positionals, 'change-password');
  const { io } = context;
  warnLowKdfCost(context);

  // The current password is checked even when a session or KMS slot could open the vault.
  const currentPassword = await readCurrentPassword(io, values['password-file']);
  const vault = await openFromCli(context, { ...values, slot: values.slot ?? 'password' }, { useSession: false, password: currentPassword });
  try {
    const newPassword = await readNewPassword(io, values['new-password-file'], NEW_PASSWORD_ENV);
    const currentKeyFile = values['key-file'] ?? (io.env[ENV.keyFile] || undefined);
    const { slotId } = await changePassword(vault, {
      currentPassword,
      currentKeyFile,
      newPassword,
      newKeyFile: values['no-key-file'] ? null : values['new-key-file'],
      kdf: values.kdf === undefined ? undefined : kdfOf(values.kdf),
      env: io.env,
      reason: values['audit-reason'],
    });
    io.stderr.write(
      `changed the master password of key slot ${slotId}; the previous file generation, which the old password still opens, is kept at ${vault.path}.bak: delete it if the old password was exposed\n`,
    );
    return 0;
  } finally {
    vault.lock();
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
  const result = await restoreVault({
    path: await vaultPathOf(context, values),
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
  'pkcs11-module': { type: 'string' },
  'token-label': { type: 'string' },
  'key-label': { type: 'string' },
  'create-key': { type: 'boolean' },
} as const;

/** Shows or changes vault settings and key slots. */
export async function configureCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, ...CONFIGURE_OPTIONS } });
  noPositionals(positionals, 'configure');
  const { io } = context;
  const vault = await openFromCli(context, values);
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
      const slot = await addKeySlot(vault, await newSlotOf(values['add-slot'], values, context), { env: io.env, reason: values['audit-reason'] });
      io.stderr.write(`added key slot ${slot.id} (${slot.type}); it opens the vault on its own\n`);
    }
    if (values['remove-slot'] !== undefined) {
      const id = parseInteger(values['remove-slot'], '--remove-slot');
      const type = await removeKeySlot(vault, id, { reason: values['audit-reason'] });
      io.stderr.write(`removed key slot ${id} (${type}); older copies of the vault file (.bak, backups) still open with it\n`);
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

async function newSlotOf(type: string, values: Record<string, string | boolean | undefined>, context: CliContext): Promise<NewKeySlot> {
  const { io } = context;
  const need = (option: string): string => {
    const value = values[option];
    if (typeof value !== 'string' || value === '') {
      throw new VaultError('INVALID_ARGUMENT', `--add-slot ${type} needs --${option}`);
    }
    return value;
  };
  const endpoint = typeof values.endpoint === 'string' ? values.endpoint : undefined;

  switch (type) {
    case 'password':
      return {
        type,
        password: await readNewPassword(io, values['new-password-file'] as string | undefined, NEW_PASSWORD_ENV),
        ...(typeof values['new-key-file'] === 'string' ? { keyFile: values['new-key-file'] } : {}),
        ...(typeof values.kdf === 'string' ? { kdf: kdfOf(values.kdf) } : {}),
      };
    case 'aws-kms':
      return { type, keyId: need('kms-key-id'), region: need('region'), ...(endpoint ? { endpoint } : {}) };
    case 'gcp-kms':
      return { type, keyName: need('kms-key-name'), ...(endpoint ? { endpoint } : {}) };
    case 'pkcs11': {
      const pinFile = values['pin-file'];
      const pin = typeof pinFile === 'string' ? await readSecretFile(pinFile, 'PIN') : io.env[ENV.pkcs11Pin];
      if (!pin) throw new VaultError('MISSING_CREDENTIAL', `--add-slot pkcs11 needs the token PIN: set ${ENV.pkcs11Pin} or pass --pin-file FILE`);
      return {
        type,
        module: need('pkcs11-module'),
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
