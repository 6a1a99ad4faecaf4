import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { isObject } from './format.js';
import {
  COMMON_OPTIONS,
  ENTRY_OPTIONS,
  VALUE_OPTIONS,
  entryOptionsOf,
  formatOf,
  formatTable,
  formatTime,
  openFromCli,
  parseInteger,
  readStream,
  readValue,
  writeJson,
  type CliContext,
} from './cli-support.js';
import type { EntryInfo } from './entries.js';
import { VaultError } from './errors.js';
import { generatePassword, type CharacterClass } from './password-generator.js';
import type { PutOptions } from './vault.js';

export async function storeCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, ...VALUE_OPTIONS, ...ENTRY_OPTIONS, force: { type: 'boolean' } } });
  const name = onePositional(positionals, 'store NAME');
  const value = await readValue(context.io, values, name);
  const vault = await openFromCli(context, values);
  try {
    const info = await vault.put(name, value, {
      ...entryOptionsOf(values, vault.now()),
      mode: values.force ? 'upsert' : 'create',
      reason: values['audit-reason'],
    });
    context.io.stderr.write(`stored ${name} (version ${info.version}${expirySuffix(info)})\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

/**
 * Stores many entries from a JSON object in one save: `{"name": "value"}` or
 * `{"name": {"value": "...", "metadata": {...}, "expiresIn": "90d", "keepHistory": 3}}`.
 */
export async function storeBatchCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, ...ENTRY_OPTIONS, force: { type: 'boolean' } } });
  const source = onePositional(positionals, 'store-batch FILE (or - for standard input)');
  const text = source === '-' ? await readStream(context.io.stdin) : await readBatchFile(source);
  const parsed = await parseBatch(text, source);

  if (Object.keys(parsed).length === 0) {
    context.io.stderr.write(`batch input ${source} has no entries; the vault was not changed\n`);
    return 0;
  }

  const vault = await openFromCli(context, values);
  try {
    const defaults = entryOptionsOf(values, vault.now());
    const items = Object.entries(parsed).map(([name, item]) => ({ name, ...batchItem(name, item, defaults, vault.now(), values.force ?? false) }));
    const infos = await vault.putMany(items, { reason: values['audit-reason'] });
    context.io.stderr.write(`stored ${infos.length} entries: ${infos.map((info) => info.name).join(', ')}\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

/**
 * Reads the batch file. The argument is not repeated in errors: a user may have typed the JSON,
 * values included, where the file name belongs.
 */
async function readBatchFile(source: string): Promise<string> {
  try {
    return await readFile(source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const hint = source.trimStart().startsWith('{')
      ? 'the argument looks like inline JSON, and values are never passed as arguments: write them to a file with mode 0600 or pipe them to `aishell vault store-batch -`'
      : 'pass the path of a JSON file, or - to read standard input';
    throw new VaultError('INVALID_ARGUMENT', `cannot read the batch file (${code}); ${hint}. The argument is not shown, because it may contain a secret`);
  }
}

/**
 * Parses the batch as a JSON object and rejects a name or field given twice, which JSON.parse
 * would silently resolve to the last value. The parsers' messages quote the input, so they are
 * not repeated.
 */
async function parseBatch(text: string, source: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new VaultError('INVALID_ARGUMENT', `batch input ${source} is not valid JSON`);
  }
  if (!isObject(parsed)) throw new VaultError('INVALID_ARGUMENT', `batch input ${source} must be a JSON object of name to value`);

  // JSON is valid YAML 1.2, and the yaml parser keeps every key of a mapping.
  const { parseDocument, visit, isScalar } = await import('yaml');
  const document = parseDocument(text, { uniqueKeys: false });
  if (document.errors.length > 0) {
    throw new VaultError('INVALID_ARGUMENT', `batch input ${source} could not be checked for duplicate names; nothing was stored`);
  }
  visit(document, {
    Map(_key, map, path) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const entry = path.find((node) => isScalar((node as { key?: unknown }).key)) as { key: { value: unknown } } | undefined;
        throw new VaultError(
          'INVALID_ARGUMENT',
          entry === undefined
            ? `batch input ${source} names entry "${String(key)}" twice; nothing was stored`
            : `batch entry "${String(entry.key.value)}" has the field "${String(key)}" twice; nothing was stored`,
        );
      }
    },
  });
  return parsed;
}

function batchItem(name: string, item: unknown, defaults: PutOptions, now: Date, force: boolean): { value: string; options: PutOptions } {
  const options: PutOptions = { ...defaults, mode: force ? 'upsert' : 'create' };
  if (typeof item === 'string') return { value: item, options };
  if (!isObject(item) || typeof item.value !== 'string') {
    throw new VaultError('INVALID_ARGUMENT', `batch entry "${name}" must be a string or an object with a string "value"; nothing was stored`);
  }
  for (const key of Object.keys(item)) {
    if (!['value', 'metadata', 'expiresIn', 'expiresAt', 'keepHistory'].includes(key)) {
      throw new VaultError('INVALID_ARGUMENT', `batch entry "${name}" has unknown field "${key}": use value, metadata, expiresIn, expiresAt, keepHistory`);
    }
  }
  const own = entryOptionsOf(
    {
      metadata: item.metadata === undefined ? undefined : JSON.stringify(item.metadata),
      'expires-in': item.expiresIn as string | undefined,
      'expires-at': item.expiresAt as string | undefined,
      'keep-history': item.keepHistory === undefined ? undefined : String(item.keepHistory),
    },
    now,
    {
      metadata: `batch entry "${name}" field metadata`,
      expiresIn: `batch entry "${name}" field expiresIn`,
      expiresAt: `batch entry "${name}" field expiresAt`,
      keepHistory: `batch entry "${name}" field keepHistory`,
    },
  );
  return { value: item.value, options: { ...options, ...own } };
}

export async function retrieveCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, previous: { type: 'string' }, 'allow-expired': { type: 'boolean' }, 'no-newline': { type: 'boolean' } } });
  const name = onePositional(positionals, 'retrieve NAME');
  const vault = await openFromCli(context, values);
  try {
    let value: string;
    if (values.previous !== undefined) {
      const index = parseInteger(values.previous, '--previous');
      const history = await vault.history(name, { reason: values['audit-reason'] });
      if (index < 1 || index > history.length) {
        throw new VaultError('NOT_FOUND', `vault entry "${name}" has ${history.length} previous values; --previous must be from 1 to ${history.length}`);
      }
      value = history[index - 1];
    } else {
      value = await vault.get(name, { reason: values['audit-reason'], allowExpired: values['allow-expired'] });
    }
    context.io.stdout.write(values['no-newline'] ? value : `${value}\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

export async function listCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS } });
  noPositionals(positionals, 'list');
  const format = formatOf(values);
  const vault = await openFromCli(context, values);
  try {
    const entries = await vault.entries();
    if (format === 'json') {
      writeJson(context.io, entries.map(entryJson));
      return 0;
    }
    if (entries.length === 0) {
      context.io.stderr.write('the vault has no entries; add one with `aishell vault store NAME`\n');
      return 0;
    }
    const rows = entries.map((entry) => [
      entry.name,
      formatTime(entry.created),
      entry.expires === null ? '-' : `${formatTime(entry.expires)}${entry.expired ? ' (expired)' : ''}`,
      formatTime(entry.lastAccessed),
      entry.pending ? `${entry.version} (pending)` : String(entry.version),
    ]);
    context.io.stdout.write(formatTable(['KEY', 'CREATED', 'EXPIRES', 'LAST ACCESSED', 'VERSION'], rows));
    return 0;
  } finally {
    vault.lock();
  }
}

export async function showCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS } });
  const name = onePositional(positionals, 'show NAME');
  const format = formatOf(values);
  const vault = await openFromCli(context, values);
  try {
    const entry = await vault.entry(name);
    if (format === 'json') {
      writeJson(context.io, entryJson(entry));
      return 0;
    }
    const lines = [
      `name:           ${entry.name}`,
      `version:        ${entry.version}`,
      `created:        ${formatTime(entry.created)}`,
      `updated:        ${formatTime(entry.updated)}`,
      `last accessed:  ${formatTime(entry.lastAccessed)}`,
      `expires:        ${entry.expires === null ? 'never' : formatTime(entry.expires)}${entry.expired ? ' (expired)' : ''}`,
      `history:        ${entry.historyCount} of ${entry.keepHistory} kept`,
      `pending:        ${entry.pending ? `since ${formatTime(entry.pending.created)}${entry.pending.reason ? ` (${entry.pending.reason})` : ''}` : 'no'}`,
      `last change:    ${entry.lastChange.operation} at ${formatTime(entry.lastChange.at)}${entry.lastChange.actor ? ` by ${entry.lastChange.actor}` : ''}${entry.lastChange.reason ? `: ${entry.lastChange.reason}` : ''}`,
      `metadata:       ${JSON.stringify(entry.metadata)}`,
    ];
    context.io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

export async function updateCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, ...VALUE_OPTIONS, ...ENTRY_OPTIONS } });
  const name = onePositional(positionals, 'update NAME');
  const attributeGiven = ['metadata', 'expires-in', 'expires-at', 'no-expiry', 'keep-history'].some((key) => values[key as keyof typeof values] !== undefined);
  const valueGiven = values.stdin || values['from-file'] !== undefined || values.prompt;
  // Without any flag, update means "set a new value", read from a prompt.
  const value = valueGiven || !attributeGiven ? await readValue(context.io, values, name) : undefined;

  const vault = await openFromCli(context, values);
  try {
    const info = await vault.update(name, { ...entryOptionsOf(values, vault.now()), value, reason: values['audit-reason'] });
    context.io.stderr.write(`updated ${name} (version ${info.version}${expirySuffix(info)})\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

export async function deleteCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS } });
  const name = onePositional(positionals, 'delete NAME');
  const vault = await openFromCli(context, values);
  try {
    await vault.delete(name, { reason: values['audit-reason'] });
    context.io.stderr.write(`deleted ${name} with its history; backups made earlier still contain it\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

/** Replaces a value with a generated password, or with one read like `store` reads it. */
export async function rotateCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...COMMON_OPTIONS, ...VALUE_OPTIONS, ...ENTRY_OPTIONS, length: { type: 'string' }, require: { type: 'string' }, exclude: { type: 'string' } },
  });
  const name = onePositional(positionals, 'rotate NAME');
  const supplied = values.stdin || values['from-file'] !== undefined || values.prompt;
  const value = supplied
    ? await readValue(context.io, values, name)
    : generatePassword({
        length: values.length === undefined ? undefined : parseInteger(values.length, '--length'),
        require: classList(values.require ?? 'uppercase,lowercase,digits,special'),
        exclude: classList(values.exclude ?? ''),
      });

  const vault = await openFromCli(context, values);
  try {
    const info = await vault.update(name, { ...entryOptionsOf(values, vault.now()), value, reason: values['audit-reason'] });
    context.io.stderr.write(
      `rotated ${name} to version ${info.version}${supplied ? '' : ' with a generated value'}; ${info.historyCount} previous values kept${expirySuffix(info)}\n`,
    );
    return 0;
  } finally {
    vault.lock();
  }
}

export async function historyCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS } });
  const name = onePositional(positionals, 'history NAME');
  const format = formatOf(values);
  const vault = await openFromCli(context, values);
  try {
    const info = await vault.entry(name);
    const { body } = await vault.load();
    const entry = body.entries[name];
    const versions = [
      ...(entry.value === null ? [] : [{ version: entry.version, state: 'current', retired: null as string | null }]),
      ...entry.history.map((item) => ({ version: item.version, state: 'previous', created: item.created, retired: item.retired })),
    ];
    if (format === 'json') {
      writeJson(context.io, { name, keepHistory: info.keepHistory, pending: info.pending !== null, versions });
      return 0;
    }
    const rows = versions.map((item, index) => [
      String(item.version),
      item.state,
      index === 0 ? '' : `--previous ${index}`,
      item.retired === null ? '-' : formatTime(new Date(item.retired)),
    ]);
    context.io.stdout.write(formatTable(['VERSION', 'STATE', 'RETRIEVE WITH', 'REPLACED'], rows));
    if (info.pending) context.io.stdout.write(`a new value is pending since ${formatTime(info.pending.created)}\n`);
    return 0;
  } finally {
    vault.lock();
  }
}

function entryJson(entry: EntryInfo) {
  return {
    name: entry.name,
    version: entry.version,
    created: entry.created.toISOString(),
    updated: entry.updated.toISOString(),
    lastAccessed: entry.lastAccessed?.toISOString() ?? null,
    expires: entry.expires?.toISOString() ?? null,
    expired: entry.expired,
    keepHistory: entry.keepHistory,
    historyCount: entry.historyCount,
    pending: entry.pending ? { ...entry.pending, created: entry.pending.created.toISOString() } : null,
    lastChange: { ...entry.lastChange, at: entry.lastChange.at.toISOString() },
    metadata: entry.metadata,
  };
}

function expirySuffix(info: EntryInfo): string {
  return info.expires === null ? '' : `, expires ${formatTime(info.expires)}`;
}

function classList(text: string): CharacterClass[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '') as CharacterClass[];
}

export function onePositional(positionals: string[], usage: string): string {
  if (positionals.length !== 1) {
    throw new VaultError(
      'INVALID_ARGUMENT',
      // The extra arguments are not echoed: a user who typed a value there must not see it logged.
      positionals.length === 0
        ? `missing argument: aishell vault ${usage}`
        : `too many arguments: aishell vault ${usage}; values are never passed as arguments, use --stdin, --from-file or the prompt`,
    );
  }
  return positionals[0];
}

export function noPositionals(positionals: string[], command: string): void {
  if (positionals.length > 0) throw new VaultError('INVALID_ARGUMENT', `aishell vault ${command} takes no arguments`);
}
