import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { AppliedTarget } from '../../engine/apply/apply.js';
import { appliedRecords } from '../../engine/cli/record.js';
import type { Change } from '../../engine/diff/changes.js';
import { grantAddress, roleAddress } from '../../engine/diff/addresses.js';
import { openLedger, type Ledger, type LedgerRecordInput, type OpenLedgerOptions } from '../../engine/ledger/index.js';
import type { ObjectRef } from '../../engine/model/types.js';
import { statementsFor } from '../../providers/postgres/statements.js';

/** A temp directory with a ledger file, key and anchor inside it; removed by `cleanup`. */
export interface LedgerFixture {
  dir: string;
  path: string;
  keyPath: string;
  anchorPath: string;
  open(extra?: Partial<OpenLedgerOptions>): Promise<Ledger>;
  lines(): Promise<string[]>;
  writeLines(lines: string[]): Promise<void>;
  cleanup(): Promise<void>;
}

export async function ledgerFixture(): Promise<LedgerFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'aishell-ledger-'));
  const path = join(dir, 'ledger');
  const keyPath = join(dir, 'ledger.key');
  const anchorPath = join(dir, 'ledger.anchor');
  const env = { HOME: dir, USER: 'tester' };

  return {
    dir,
    path,
    keyPath,
    anchorPath,
    open: (extra = {}) => openLedger({ path, keyPath, anchorPath, env, ...extra }),
    lines: async () => (await readFile(path, 'utf8')).split('\n').filter((line) => line !== ''),
    writeLines: (lines) => writeFile(path, lines.map((line) => `${line}\n`).join('')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Builds the records of a small apply: `count` grants, then the summary, with the details that
 * apply writes (`change`, `destructive`, `statements`).
 */
export function applyRecords(target: string, count: number, outcome = 'ok') {
  const changes = Array.from({ length: count }, (_, index) => ({
    kind: 'apply.change',
    target,
    address: `${target}: grant SELECT on table public.t${index} to readonly`,
    details: { change: 'grant', destructive: false, statements: [`GRANT SELECT ON TABLE public.t${index} TO readonly`] },
    outcome,
  }));
  return [...changes, { kind: 'apply.summary', target, details: { changes: count }, outcome }];
}

/** Builds the plan's change that grants one privilege on one object. */
export function grantChange(target: string, privilege: string, object: ObjectRef, grantee: string): Change {
  const grant = { database: 'app', grantee, privilege, object, grantOption: false };
  return { kind: 'grant', address: grantAddress(target, grant, 'grant'), database: 'app', destructive: false, grant };
}

/** Builds an ALTER ROLE change that sets the given attributes. */
export function alterRoleChange(target: string, role: string, after: { superuser?: boolean; createdb?: boolean }): Change {
  const before = Object.fromEntries(Object.entries(after).map(([key, value]) => [key, !value]));
  return { kind: 'alter_role', address: roleAddress(target, 'alter', role), database: null, destructive: false, role, before, after };
}

/**
 * Builds the records that `aishell apply` writes for these changes, through the CLI's own record
 * builder and the PostgreSQL statement builder, so tests follow the real record shape.
 */
export function recordedApply(target: string, changes: Change[]): LedgerRecordInput[] {
  const statements = changes.flatMap((change) =>
    statementsFor(change, null).map((statement) => ({ change, statement: { database: statement.database, sql: statement.sql } })),
  );
  // Only these fields go into the records; the rest of AppliedTarget describes the apply itself.
  return appliedRecords({ target, changes, statements } as Partial<AppliedTarget> as AppliedTarget);
}

/**
 * Compiles the project into a private directory under dist/, so that child processes can run
 * the ledger with plain node. Returns the path of the compiled ledger module.
 */
export async function buildLedgerForWorkers(): Promise<{ modulePath: string; cleanup: () => Promise<void> }> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { randomBytes } = await import('node:crypto');
  const root = join(import.meta.dirname, '..', '..');
  const outDir = join(root, 'dist', `ledger-test-${randomBytes(4).toString('hex')}`);

  // tsc exits non-zero when another part of the tree has type errors, but it still emits. The
  // worker's import fails clearly if the ledger itself was not emitted.
  await promisify(execFile)('npx', ['tsc', '-p', '.', '--outDir', outDir], { cwd: root }).catch(() => undefined);
  return {
    modulePath: join(outDir, 'engine', 'ledger', 'index.js'),
    cleanup: () => rm(outDir, { recursive: true, force: true }),
  };
}

/** Runs `node append-worker.mjs` processes at once and waits for all of them. */
export async function runAppendWorkers(modulePath: string, options: object, workers: number, count: number): Promise<void> {
  const { spawn } = await import('node:child_process');
  const worker = join(import.meta.dirname, 'append-worker.mjs');

  const runs = Array.from({ length: workers }, (_, id) =>
    new Promise<void>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [worker, modulePath, JSON.stringify(options), String(id), String(count)], {
        stdio: ['ignore', 'inherit', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`worker ${id} exited with ${code}: ${stderr}`))));
    }),
  );
  await Promise.all(runs);
}
