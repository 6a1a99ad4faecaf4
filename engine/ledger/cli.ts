import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

import type { CommandIo } from '../cli/io.js';
import type { CheckpointStore } from './anchors.js';
import { findAnomalies } from './anomalies.js';
import { formatVerifierKey, parseVerifierKey, verifierFromPem } from './checkpoint.js';
import { LedgerError } from './errors.js';
import { escapeControls } from './escape-text.js';
import { csvHeader, csvRow } from './export.js';
import { OutputSink } from './output-sink.js';
import { matchesFilter, parseDuration, parseTime } from './filter.js';
import type { Ledger } from './ledger.js';
import { openLedger } from './open.js';
import { renderAnomalies, renderRecordLine, renderRecordFull, renderSummary, renderVerify } from './cli-format.js';
import { summarize } from './summary.js';
import type { LedgerRecord, RecordFilter } from './types.js';
import { openVaultCheckpointStore } from './vault-store.js';

const HELP = `aishell audit: read and verify the tamper-evident audit ledger

Usage:
  aishell audit log [FILTERS]            list records, oldest first
  aishell audit search TEXT [FILTERS]    list records whose JSON contains TEXT (any case)
  aishell audit show SEQ                 print one record in full
  aishell audit export [--format json|csv] [--out FILE [--force]] [FILTERS]
  aishell audit summary [--period 30d]   events by actor, operation and target; failed applies,
                                         drift found, vault reads
  aishell audit anomalies [--period 30d] [--work-hours 7-20] [--time-zone ZONE]
                                         applies outside working hours, new actors, superuser
                                         or ALL grants, mass revokes, repeated failures, bursts
                                         of vault reads, each with its records
  aishell audit verify [--checkpoint FILE]... [--trusted-key KEY]... [--allow-empty]
                                         prove the ledger is intact and extends every kept head:
                                         the anchor file's, the vault's and each FILE's
  aishell audit checkpoint               sign the current head, store it in the anchor file and
                                         print it, to keep elsewhere (a CI artifact, a commit)
  aishell audit prove SEQ [--size N]     print an RFC 6962 inclusion proof of record SEQ
  aishell audit consistency OLD [NEW]    print an RFC 6962 consistency proof between tree sizes
  aishell audit prune --retention-days N [--force]
                                         remove records older than N days (at least 90 without
                                         --force), leaving a signed marker
  aishell audit repair                   remove an incomplete last line left by a crash
  aishell audit public-key               print the key that verifies checkpoints

Ledger location:
  --ledger PATH          ledger file (default $AISHELL_LEDGER, else ~/.aishell/ledger)
  --ledger-url URL       PostgreSQL ledger instead of a file (default $AISHELL_LEDGER_URL)
  --ledger-schema NAME   schema of the PostgreSQL ledger (default aishell_ledger)
  --key PATH             signing key file (default $AISHELL_LEDGER_KEY, else <ledger>.key)
  --anchor PATH          anchor file (default $AISHELL_LEDGER_ANCHOR, else ~/.aishell/ledger.anchor)
  --vault-path PATH      vault whose kept checkpoint verify, checkpoint, prune and repair also use
                         (default $AISHELL_VAULT_PATH, vault.path of ./security.yaml, else
                         ~/.aishell/vault); opened only with AISHELL_VAULT_SESSION,
                         AISHELL_VAULT_PASSWORD or a KMS or PKCS#11 key slot, never a prompt

Filters:
  --target GLOB          target, such as prod/app or 'prod/*'
  --actor NAME           OS user, user@host, CI pipeline or the account that triggered it
  --kind GLOB            record kind, such as apply (apply.*), vault.read or 'plan.*'
  --operation OP         change kind of an apply record (grant, revoke, create_role, alter_role)
                         or vault operation (read, write, unlock)
  --outcome OUTCOME      ok, failed, rolled-back, found
  --since TIME           a duration back from now (24h, 30d) or an ISO 8601 time
  --until TIME           same forms as --since
  --limit N              only the newest N matches

Output:
  --format text|json     text for people (default), json for tools; export also takes csv
  --out FILE             export: write to FILE, which must not exist unless --force is given

Verify:
  --checkpoint FILE      a signed note (aishell audit checkpoint) or anchor file kept elsewhere
  --trusted-key KEY      the only key allowed to sign: a verifier key (name+id+base64), or a file
                         with one or with a PEM public key such as <key>.pub
  --allow-empty          accept a ledger that does not exist or has no records

Exit codes: 0 success, 1 error or a ledger that failed verification.
`;

const OPTIONS = {
  ledger: { type: 'string' },
  'ledger-url': { type: 'string' },
  'ledger-schema': { type: 'string' },
  key: { type: 'string' },
  anchor: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  target: { type: 'string' },
  actor: { type: 'string' },
  kind: { type: 'string' },
  operation: { type: 'string' },
  outcome: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  period: { type: 'string' },
  'work-hours': { type: 'string' },
  'time-zone': { type: 'string' },
  checkpoint: { type: 'string', multiple: true },
  'trusted-key': { type: 'string', multiple: true },
  size: { type: 'string' },
  'retention-days': { type: 'string' },
  'vault-path': { type: 'string' },
  'allow-empty': { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

interface Context {
  io: CommandIo;
  values: Values;
  positionals: string[];
  ledger: Ledger;
  json: boolean;
  now: Date;
  /** The vault when it could not be used: absent, or not openable without a prompt. */
  skippedStores: { source: string; reason: string }[];
}

/** Commands that check or write checkpoints, and so also use the head kept in the vault. */
const VAULT_COMMANDS = new Set(['verify', 'checkpoint', 'prune', 'repair']);

/**
 * Below this retention `audit prune` needs --force. PCI DSS 4.0 requirement 10.5.1 keeps the
 * latest three months of audit logs immediately available.
 */
const MIN_RETENTION_DAYS = 90;

type Subcommand = (context: Context) => Promise<number>;

const SUBCOMMANDS: Record<string, Subcommand> = {
  log: runLog,
  search: runSearch,
  show: runShow,
  export: runExport,
  summary: runSummary,
  anomalies: runAnomalies,
  verify: runVerify,
  checkpoint: runCheckpoint,
  prove: runProve,
  consistency: runConsistency,
  prune: runPrune,
  repair: runRepair,
  'public-key': runPublicKey,
};

/** Runs `aishell audit ...`; returns the exit code. */
export async function runAuditCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`error: ${(error as Error).message}\n  fix: run aishell audit --help to see the options\n`);
    return 1;
  }

  const [name, ...positionals] = parsed.positionals;
  if (parsed.values.help || name === undefined || name === 'help') {
    io.stdout.write(HELP);
    return name === undefined && !parsed.values.help ? 1 : 0;
  }

  const subcommand = SUBCOMMANDS[name];
  if (!subcommand) {
    io.stderr.write(`error: unknown audit command "${name}"\n  fix: run aishell audit --help to see the commands\n`);
    return 1;
  }

  const format = parsed.values.format ?? (name === 'export' ? 'json' : 'text');
  const allowed = name === 'export' ? ['json', 'csv'] : ['text', 'json'];
  if (!allowed.includes(format)) {
    io.stderr.write(`error: invalid --format "${format}" for audit ${name}\n  fix: use ${allowed.join(' or ')}\n`);
    return 1;
  }

  let ledger: Ledger | undefined;
  let lockVault: (() => void) | undefined;
  try {
    const checkpointStores: CheckpointStore[] = [];
    const skippedStores: { source: string; reason: string }[] = [];
    if (VAULT_COMMANDS.has(name)) {
      const vault = await openVaultCheckpointStore({ vaultPath: parsed.values['vault-path'], env: io.env, cwd: io.cwd });
      if ('store' in vault) {
        checkpointStores.push(vault.store);
        lockVault = vault.lock;
      } else {
        skippedStores.push(vault.skipped);
        if (vault.exists && name !== 'verify') {
          io.stderr.write(`${escapeControls(`warning: ${vault.skipped.source} not used: ${vault.skipped.reason}`)}\n`);
        }
      }
    }

    ledger = await openLedger({
      path: parsed.values.ledger,
      url: parsed.values['ledger-url'],
      schema: parsed.values['ledger-schema'],
      keyPath: parsed.values.key,
      anchorPath: parsed.values.anchor,
      env: io.env,
      cwd: io.cwd,
      checkpointStores,
    });
    const context = { io, values: parsed.values, positionals, ledger, json: format === 'json', now: new Date(), skippedStores };
    return await subcommand(context);
  } catch (error) {
    const fix = error instanceof LedgerError && error.code === 'LEDGER_CONFIG' ? '\n  fix: run aishell audit --help' : '';
    io.stderr.write(`${escapeControls(`error: ${(error as Error).message}`)}${fix}\n`);
    return 1;
  } finally {
    await ledger?.close().catch((error: Error) => io.stderr.write(`${escapeControls(`error: ${error.message}`)}\n`));
    lockVault?.();
  }
}

function filterFrom(context: Context): RecordFilter {
  const { values, now } = context;
  return {
    target: values.target,
    actor: values.actor,
    kind: values.kind,
    operation: values.operation,
    outcome: values.outcome,
    since: values.since ? parseTime(values.since, now) : undefined,
    until: values.until ? parseTime(values.until, now) : undefined,
    limit: values.limit === undefined ? undefined : parseCount(values.limit, '--limit'),
  };
}

function parseCount(text: string, option: string): number {
  if (!/^\d+$/.test(text)) {
    throw new LedgerError('LEDGER_CONFIG', `invalid ${option} "${text}": expected a whole number`);
  }
  return Number(text);
}

function writeRecords(context: Context, records: LedgerRecord[]): void {
  if (context.json) {
    context.io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    return;
  }
  if (records.length === 0) {
    context.io.stderr.write('no matching records\n');
    return;
  }
  for (const record of records) {
    context.io.stdout.write(`${renderRecordLine(record)}\n`);
  }
}

async function runLog(context: Context): Promise<number> {
  writeRecords(context, await context.ledger.read(filterFrom(context)));
  return 0;
}

async function runSearch(context: Context): Promise<number> {
  const text = context.positionals.join(' ');
  if (text === '') {
    throw new LedgerError('LEDGER_CONFIG', 'audit search needs the text to look for, such as aishell audit search readonly');
  }
  writeRecords(context, await context.ledger.read({ ...filterFrom(context), text }));
  return 0;
}

async function runShow(context: Context): Promise<number> {
  const seq = parseCount(context.positionals[0] ?? '', 'SEQ');
  for await (const record of context.ledger.records()) {
    if (record.seq === seq) {
      context.io.stdout.write(context.json ? `${JSON.stringify(record, null, 2)}\n` : renderRecordFull(record));
      return 0;
    }
  }
  throw new LedgerError('LEDGER_CONFIG', `record seq ${seq} not found in ${context.ledger.location}`);
}

/**
 * Writes the export record by record, so memory stays bounded whatever the ledger size. Only
 * `--limit` keeps its window of N records in memory. When stdout is a pipe whose reader has
 * gone (`aishell audit export | head`), the export stops quietly with exit code 0.
 */
async function runExport(context: Context): Promise<number> {
  const filter = filterFrom(context);
  const csv = context.values.format === 'csv';
  const outPath = context.values.out === undefined ? undefined : resolve(context.io.cwd, context.values.out);
  const file = outPath === undefined ? undefined : await openExportFile(outPath, context.values.force === true);
  const sink = new OutputSink(file ? file.createWriteStream() : context.io.stdout);

  try {
    const records: AsyncIterable<LedgerRecord> | LedgerRecord[] =
      filter.limit === undefined ? matching(context.ledger.records(), filter) : await context.ledger.read(filter);

    let count = 0;
    if (csv) {
      await sink.write(csvHeader());
      for await (const record of records) {
        if (sink.readerGone) {
          return 0;
        }
        await sink.write(csvRow(record));
        count += 1;
      }
    } else {
      await sink.write(`{\n  "ledger": ${JSON.stringify(context.ledger.location)},\n  "exported": "${context.now.toISOString()}",\n  "records": [`);
      for await (const record of records) {
        if (sink.readerGone) {
          return 0;
        }
        await sink.write(`${count === 0 ? '' : ','}\n    ${JSON.stringify(record)}`);
        count += 1;
      }
      const latest = await context.ledger.latestCheckpoint();
      const checkpoint = latest ? { seq: latest.seq, size: latest.checkpoint.size, note: latest.checkpoint.note } : null;
      await sink.write(`${count === 0 ? '' : '\n  '}],\n  "checkpoint": ${JSON.stringify(checkpoint)}\n}\n`);
    }

    if (file) {
      await sink.end();
      context.io.stderr.write(`${escapeControls(`exported ${count} records to ${context.values.out}`)}\n`);
    }
    return 0;
  } finally {
    await file?.close().catch(() => undefined);
  }
}

/** Creates the export file with mode 0600. An existing file is replaced only with --force. */
async function openExportFile(path: string, force: boolean) {
  try {
    return await open(path, force ? 'w' : 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LedgerError('LEDGER_CONFIG', `${path} already exists; choose another --out file or pass --force to overwrite it`);
    }
    throw error;
  }
}

async function* matching(records: AsyncIterable<LedgerRecord>, filter: RecordFilter): AsyncIterable<LedgerRecord> {
  for await (const record of records) {
    if (matchesFilter(record, filter)) {
      yield record;
    }
  }
}

function periodStart(context: Context): Date {
  return new Date(context.now.getTime() - parseDuration(context.values.period ?? '30d'));
}

async function runSummary(context: Context): Promise<number> {
  const since = periodStart(context);
  const summary = summarize(await collect(context.ledger.records()), since, context.now);
  context.io.stdout.write(context.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
  return 0;
}

async function runAnomalies(context: Context): Promise<number> {
  const since = periodStart(context);
  const hours = context.values['work-hours'] ?? '7-20';
  const match = /^(\d{1,2})-(\d{1,2})$/.exec(hours);
  if (!match || Number(match[1]) > 24 || Number(match[2]) > 24 || Number(match[1]) >= Number(match[2])) {
    throw new LedgerError('LEDGER_CONFIG', `invalid --work-hours "${hours}": use START-END in whole hours, such as 7-20`);
  }

  const records = await collect(context.ledger.records());
  const findings = findAnomalies(records, {
    since,
    until: context.now,
    workHours: [Number(match[1]), Number(match[2])],
    timeZone: context.values['time-zone'] ?? 'UTC',
  });
  const bySeq = new Map(records.map((record) => [record.seq, record]));

  if (context.json) {
    const document = findings.map((finding) => ({ ...finding, records: finding.seqs.map((seq) => bySeq.get(seq)) }));
    context.io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    context.io.stdout.write(renderAnomalies(findings, bySeq));
  }
  return 0;
}

async function runVerify(context: Context): Promise<number> {
  const checkpoints = [];
  for (const file of context.values.checkpoint ?? []) {
    checkpoints.push({ source: file, text: await readFile(resolve(context.io.cwd, file), 'utf8') });
  }
  const trustedKeys = [];
  for (const key of context.values['trusted-key'] ?? []) {
    trustedKeys.push(await readTrustedKey(key, context.io.cwd));
  }

  const report = await context.ledger.verify({
    checkpoints,
    trustedKeys,
    skippedStores: context.skippedStores,
    allowEmpty: context.values['allow-empty'] === true,
  });
  context.io.stdout.write(context.json ? `${JSON.stringify(report, null, 2)}\n` : renderVerify(report));
  return report.ok ? 0 : 1;
}

/**
 * Reads a --trusted-key value: a verifier key given inline, or a file containing a verifier key or
 * a PEM public key (the `<key>.pub` file that is written beside the signing key).
 */
async function readTrustedKey(value: string, cwd: string): Promise<string> {
  try {
    return formatVerifierKey(parseVerifierKey(value));
  } catch {
    // Not an inline verifier key: read it as a file.
  }

  let text: string;
  try {
    text = (await readFile(resolve(cwd, value), 'utf8')).trim();
  } catch (error) {
    throw new LedgerError(
      'LEDGER_CONFIG',
      `invalid --trusted-key "${value}": not a verifier key (name+id+base64) and not a readable file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  try {
    return formatVerifierKey(text.startsWith('-----BEGIN') ? verifierFromPem(text) : parseVerifierKey(text));
  } catch (error) {
    throw new LedgerError('LEDGER_CONFIG', `invalid --trusted-key file ${value}: ${(error as Error).message}`);
  }
}

async function runCheckpoint(context: Context): Promise<number> {
  const result = await context.ledger.checkpoint();
  if (!result) {
    throw new LedgerError('LEDGER_CONFIG', `the ledger ${context.ledger.location} is empty; there is nothing to sign`);
  }

  if (context.json) {
    const document = {
      origin: result.checkpoint.origin,
      size: result.checkpoint.size,
      root: result.checkpoint.root.toString('base64'),
      seq: result.seq,
      note: result.checkpoint.note,
      verifierKey: await context.ledger.verifierKey(),
      stored: result.stored,
      failed: result.failed,
    };
    context.io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    // The note alone goes to stdout, so `aishell audit checkpoint > head.txt` keeps exactly it.
    context.io.stdout.write(result.checkpoint.note);
    for (const store of result.stored) {
      context.io.stderr.write(`${escapeControls(`stored in ${store}`)}\n`);
    }
  }
  for (const failure of result.failed) {
    context.io.stderr.write(`${escapeControls(`error: failed to store the checkpoint in ${failure.store}: ${failure.error}`)}\n`);
  }
  return result.failed.length > 0 ? 1 : 0;
}

async function runProve(context: Context): Promise<number> {
  const seq = parseCount(context.positionals[0] ?? '', 'SEQ');
  const size = context.values.size === undefined ? undefined : parseCount(context.values.size, '--size');
  const proof = await context.ledger.proveInclusion(seq, size);
  if (context.json) {
    context.io.stdout.write(`${JSON.stringify(proof, null, 2)}\n`);
  } else {
    context.io.stdout.write(
      `inclusion of seq ${proof.seq} in the tree of size ${proof.size}: ${proof.verified ? 'verified' : 'FAILED'}\n` +
        `leaf hash  ${proof.leaf}\nroot hash  ${proof.root}\n${proof.proof.map((hash, index) => `path[${index}]    ${hash}\n`).join('')}`,
    );
  }
  return proof.verified ? 0 : 1;
}

async function runConsistency(context: Context): Promise<number> {
  const oldSize = parseCount(context.positionals[0] ?? '', 'OLD');
  const newSize = context.positionals[1] === undefined ? undefined : parseCount(context.positionals[1], 'NEW');
  const proof = await context.ledger.proveConsistency(oldSize, newSize);
  if (context.json) {
    context.io.stdout.write(`${JSON.stringify(proof, null, 2)}\n`);
  } else {
    context.io.stdout.write(
      `consistency of size ${proof.oldSize} with size ${proof.newSize}: ${proof.verified ? 'verified' : 'FAILED'}\n` +
        `old root   ${proof.oldRoot}\nnew root   ${proof.newRoot}\n${proof.proof.map((hash, index) => `proof[${index}]   ${hash}\n`).join('')}`,
    );
  }
  return proof.verified ? 0 : 1;
}

async function runPrune(context: Context): Promise<number> {
  const days = context.values['retention-days'];
  if (days === undefined) {
    throw new LedgerError('LEDGER_CONFIG', 'audit prune needs --retention-days N (records older than N days are removed)');
  }
  const retention = parseCount(days, '--retention-days');
  if (retention < MIN_RETENTION_DAYS && context.values.force !== true) {
    throw new LedgerError(
      'LEDGER_CONFIG',
      `--retention-days ${retention} would remove records younger than ${MIN_RETENTION_DAYS} days` +
        `${retention === 0 ? ', that is every record' : ''}; pass --force to prune them anyway`,
    );
  }
  const before = new Date(context.now.getTime() - retention * 86_400_000);
  const result = await context.ledger.prune(before);
  if (context.json) {
    context.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (result.removed === 0) {
    context.io.stdout.write(`no records older than ${before.toISOString()}; nothing pruned\n`);
  } else {
    context.io.stdout.write(`pruned ${result.removed} records before seq ${result.before}; retention marker at seq ${result.markerSeq}\n`);
  }
  return 0;
}

async function runRepair(context: Context): Promise<number> {
  const result = await context.ledger.repair();
  if (context.json) {
    context.io.stdout.write(`${JSON.stringify(result ?? { removedBytes: 0 }, null, 2)}\n`);
  } else {
    const message =
      result === undefined
        ? 'the ledger ends with a complete line; nothing to repair'
        : result.restoredNewline !== undefined
          ? `added the newline missing after record seq ${result.restoredNewline}`
          : `removed an incomplete last line of ${result.removedBytes} bytes`;
    context.io.stdout.write(`${message}\n`);
  }
  return 0;
}

async function runPublicKey(context: Context): Promise<number> {
  const key = await context.ledger.verifierKey();
  context.io.stdout.write(context.json ? `${JSON.stringify({ verifierKey: key }, null, 2)}\n` : `${key}\n`);
  return 0;
}

async function collect(records: AsyncIterable<LedgerRecord>): Promise<LedgerRecord[]> {
  const result: LedgerRecord[] = [];
  for await (const record of records) {
    result.push(record);
  }
  return result;
}
