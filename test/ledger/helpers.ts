import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openLedger, type Ledger, type OpenLedgerOptions } from '../../engine/ledger/index.js';

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

/** A small apply: one change per statement, then the summary. */
export function applyRecords(target: string, count: number, outcome = 'ok') {
  const changes = Array.from({ length: count }, (_, index) => ({
    kind: 'apply.change',
    target,
    address: `${target}: grant SELECT on table public.t${index} to readonly`,
    details: { operation: 'grant', statements: [`GRANT SELECT ON TABLE public.t${index} TO readonly`] },
    outcome,
  }));
  return [...changes, { kind: 'apply.summary', target, details: { changes: count }, outcome }];
}
