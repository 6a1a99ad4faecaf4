import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { ReadStream } from 'node:tty';

import type { CommandIo } from '../cli/io.js';
import { osUser } from '../ledger/actor.js';
import { ENV, readSecretFile } from './credentials.js';
import { VaultError } from './errors.js';
import { resolveVaultLocation } from './location.js';
import { openVault } from './open.js';
import type { TrustField, VaultTrust } from './trust.js';
import { parseSlotSelector } from './unlock.js';
import type { AccessEvent, Vault } from './vault.js';

/** Options every vault subcommand accepts, in `node:util` parseArgs form. */
export const COMMON_OPTIONS = {
  'vault-path': { type: 'string' },
  file: { type: 'string', short: 'f' },
  'password-file': { type: 'string' },
  'key-file': { type: 'string' },
  slot: { type: 'string' },
  'pin-file': { type: 'string' },
  'pkcs11-module': { type: 'string' },
  'audit-reason': { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Options of the commands that read a value. */
export const VALUE_OPTIONS = {
  stdin: { type: 'boolean' },
  'from-file': { type: 'string' },
  prompt: { type: 'boolean' },
} as const;

/** Options of the commands that set entry attributes. */
export const ENTRY_OPTIONS = {
  metadata: { type: 'string' },
  'expires-in': { type: 'string' },
  'expires-at': { type: 'string' },
  'no-expiry': { type: 'boolean' },
  'keep-history': { type: 'string' },
} as const;

export interface CommonValues {
  'vault-path'?: string;
  file?: string;
  'password-file'?: string;
  'key-file'?: string;
  slot?: string;
  'pin-file'?: string;
  'pkcs11-module'?: string;
  'audit-reason'?: string;
  format?: string;
  help?: boolean;
}

export interface CliContext {
  io: CommandIo;
  onAccess?: (event: AccessEvent) => void;
}

export async function vaultPathOf(context: CliContext, values: CommonValues): Promise<string> {
  return (await locationOf(context, values)).path;
}

/**
 * Resolves the vault path and the trusted settings (pins, PKCS#11 module, KMS endpoints) from the
 * options, the environment and security.yaml. `explicit` adds settings from command options.
 */
export function locationOf(
  context: CliContext,
  values: CommonValues,
  explicit: Partial<Record<TrustField, string>> = {},
): Promise<{ path: string; trust: VaultTrust }> {
  return resolveVaultLocation({
    vaultPath: values['vault-path'],
    configPath: values.file,
    env: context.io.env,
    cwd: context.io.cwd,
    explicit: { ...(values['pkcs11-module'] ? { pkcs11Module: values['pkcs11-module'] } : {}), ...explicit },
  });
}

/** Returns `user@host` with the operating-system user, the same user that the audit ledger records. */
export function actorOf(env: NodeJS.ProcessEnv): string {
  return `${osUser(env)}@${hostname()}`;
}

/** Opens the vault with the command's credential options, prompting on a terminal when nothing else is given. */
export async function openFromCli(
  context: CliContext,
  values: CommonValues,
  options: { useSession?: boolean; password?: string; location?: { path: string; trust: VaultTrust } } = {},
): Promise<Vault> {
  const { io } = context;
  const { path, trust } = options.location ?? (await locationOf(context, values));
  return openVault({
    path,
    trust,
    env: io.env,
    password: options.password,
    passwordFile: values['password-file'],
    keyFile: values['key-file'],
    slot: parseSlotSelector(values.slot),
    pinFile: values['pin-file'],
    useSession: options.useSession,
    actor: actorOf(io.env),
    onAccess: context.onAccess,
    prompt: canPrompt(io) ? (question) => promptHidden(io, question) : undefined,
  });
}

export function canPrompt(io: CommandIo): boolean {
  return io.stdin.isTTY === true && typeof (io.stdin as ReadStream).setRawMode === 'function';
}

/**
 * Reads a line from the terminal with echo off (raw mode), writing the question to stderr.
 * Backspace and Ctrl-U edit; Ctrl-C and Ctrl-D on an empty line cancel.
 */
export function promptHidden(io: CommandIo, question: string): Promise<string> {
  if (!canPrompt(io)) {
    return Promise.reject(new VaultError('MISSING_CREDENTIAL', 'cannot prompt: standard input is not a terminal'));
  }
  const input = io.stdin as ReadStream;
  // Echo goes off before the question appears, so a fast typist's first keys are not echoed.
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  io.stderr.write(question);

  return new Promise((resolve, reject) => {
    let characters: string[] = [];
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      io.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') {
          finish();
          resolve(characters.join(''));
          return;
        }
        if (character === '\u0003' || (character === '\u0004' && characters.length === 0)) {
          finish();
          reject(new VaultError('MISSING_CREDENTIAL', 'prompt cancelled'));
          return;
        }
        if (character === '\u007f' || character === '\b') characters.pop();
        else if (character === '\u0015') characters = [];
        else if (character >= ' ') characters.push(character);
      }
    };
    input.on('data', onData);
  });
}

/** Prompts twice for a new secret and rejects a mismatch. */
export async function promptNew(io: CommandIo, secretKind: string): Promise<string> {
  const first = await promptHidden(io, `New ${secretKind}: `);
  const second = await promptHidden(io, `Repeat the new ${secretKind}: `);
  if (first !== second) throw new VaultError('INVALID_ARGUMENT', `the two ${secretKind} entries differ; nothing was changed`);
  return first;
}

/**
 * Reads a value from --stdin, --from-file or a hidden prompt, never from an argument, which
 * would leak into shell history and process lists. One trailing newline is removed.
 */
export async function readValue(
  io: CommandIo,
  values: { stdin?: boolean; 'from-file'?: string; prompt?: boolean },
  name: string,
): Promise<string> {
  const sources = [values.stdin, values['from-file'] !== undefined, values.prompt].filter(Boolean).length;
  if (sources > 1) throw new VaultError('INVALID_ARGUMENT', 'use only one of --stdin, --from-file and --prompt');

  let text: string;
  if (values.stdin) {
    text = await readStream(io.stdin);
  } else if (values['from-file'] !== undefined) {
    try {
      text = await readFile(values['from-file'], 'utf8');
    } catch (error) {
      throw new VaultError('INVALID_ARGUMENT', `cannot read value file ${values['from-file']}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else if (canPrompt(io)) {
    // A typo in a hidden value would go unnoticed, so the value is asked for twice.
    text = await promptHidden(io, `Value for ${name}: `);
    if ((await promptHidden(io, `Repeat the value for ${name}: `)) !== text) {
      throw new VaultError('INVALID_ARGUMENT', `the two values entered for "${name}" differ; nothing was stored`);
    }
  } else {
    throw new VaultError('INVALID_ARGUMENT', `no value for "${name}": pass --stdin or --from-file FILE, or run on a terminal to be prompted`);
  }
  return text.replace(/\r?\n$/, '');
}

export async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a new master password: --new-password-file, AISHELL_VAULT_NEW_PASSWORD, or a double prompt. */
export async function readNewPassword(io: CommandIo, file: string | undefined, envName: string): Promise<string> {
  if (file !== undefined) return readSecretFile(file, 'new password');
  const fromEnv = io.env[envName];
  if (fromEnv) return fromEnv;
  if (canPrompt(io)) return promptNew(io, 'master password');
  throw new VaultError('MISSING_CREDENTIAL', `no new master password: set ${envName}, pass --new-password-file FILE, or run on a terminal to be prompted`);
}

/** Reads the current master password for commands that must check it even during a session. */
export async function readCurrentPassword(io: CommandIo, file: string | undefined): Promise<string> {
  if (file !== undefined) return readSecretFile(file, 'password');
  const fromEnv = io.env[ENV.password];
  if (fromEnv) return fromEnv;
  if (canPrompt(io)) return promptHidden(io, 'Current master password: ');
  throw new VaultError('MISSING_CREDENTIAL', `no current master password: set ${ENV.password}, pass --password-file FILE, or run on a terminal to be prompted`);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Parses a duration such as 90d, 12h, 30m, 45s or 2w into seconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) {
    throw new VaultError('INVALID_ARGUMENT', `${option} ${text} is invalid: use a positive number with s, m, h, d or w, such as 90d`);
  }
  return Number(match[1]) * DURATION_UNITS[match[2]];
}

export function parseInteger(text: string, option: string): number {
  if (!/^\d+$/.test(text)) throw new VaultError('INVALID_ARGUMENT', `${option} ${text} is invalid: expected a whole number`);
  return Number(text);
}

/** Names of the entry attributes in messages: the options here, the fields of an item for store-batch. */
export const OPTION_LABELS = { metadata: '--metadata', expiresIn: '--expires-in', expiresAt: '--expires-at', keepHistory: '--keep-history' };

/** Entry attributes from --metadata, --expires-in/--expires-at/--no-expiry and --keep-history. */
export function entryOptionsOf(
  values: { metadata?: string; 'expires-in'?: string; 'expires-at'?: string; 'no-expiry'?: boolean; 'keep-history'?: string },
  now: Date,
  labels: typeof OPTION_LABELS = OPTION_LABELS,
): { metadata?: Record<string, unknown>; expires?: Date | null; keepHistory?: number } {
  const result: { metadata?: Record<string, unknown>; expires?: Date | null; keepHistory?: number } = {};

  if (values.metadata !== undefined) {
    try {
      result.metadata = JSON.parse(values.metadata) as Record<string, unknown>;
    } catch {
      // The parser's message quotes the text, which may be a value typed into the wrong option.
      throw new VaultError('INVALID_ARGUMENT', `${labels.metadata} is not valid JSON; expected an object such as '{"owner":"dba"}' (the text is not shown, because it may contain a secret)`);
    }
    if (typeof result.metadata !== 'object' || result.metadata === null || Array.isArray(result.metadata)) {
      throw new VaultError('INVALID_ARGUMENT', `${labels.metadata} must be a JSON object, such as '{"owner":"dba"}'`);
    }
  }

  const expirySources = [values['expires-in'], values['expires-at'], values['no-expiry']].filter((value) => value !== undefined && value !== false).length;
  if (expirySources > 1) throw new VaultError('INVALID_ARGUMENT', `use only one of ${labels.expiresIn}, ${labels.expiresAt} and --no-expiry`);
  if (values['expires-in'] !== undefined) {
    result.expires = new Date(now.getTime() + parseDuration(values['expires-in'], labels.expiresIn) * 1000);
  }
  if (values['expires-at'] !== undefined) {
    const at = new Date(values['expires-at']);
    if (Number.isNaN(at.getTime())) {
      throw new VaultError('INVALID_ARGUMENT', `${labels.expiresAt} ${values['expires-at']} is not a date such as 2027-06-30 or 2027-06-30T12:00:00Z`);
    }
    if (at.getTime() <= now.getTime()) {
      throw new VaultError('INVALID_ARGUMENT', `${labels.expiresAt} ${values['expires-at']} is in the past; give a later time`);
    }
    result.expires = at;
  }
  if (values['no-expiry']) result.expires = null;

  if (values['keep-history'] !== undefined) result.keepHistory = parseInteger(values['keep-history'], labels.keepHistory);
  return result;
}

export function formatOf(values: CommonValues): 'text' | 'json' {
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new VaultError('INVALID_ARGUMENT', `--format ${format} is invalid: use text or json`);
  }
  return format;
}

/** Formats a time as `2027-06-30 12:00Z`, or `-` when absent. */
export function formatTime(date: Date | null): string {
  if (date === null) return '-';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** Renders rows as a left-aligned table with a header row. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function writeJson(io: CommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
