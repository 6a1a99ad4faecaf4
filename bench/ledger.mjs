// Measures the audit ledger's append and verify throughput on a file ledger and compares verify
// with `sha256sum` over the same bytes, measured in the same run on the same machine.
//
// Usage: node bench/ledger.mjs [--records N] [--single N] [--batch N] [--no-build]
//   --records N   records in the ledger that is verified (default 50000)
//   --single N    appends of one record each, every one with lock and fdatasync (default 1000)
//   --batch N     records per append call when filling the ledger (default 500)
//   --no-build    use the existing dist/ instead of running `npx tsc -p .` first

import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    single: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '500' },
    'no-build': { type: 'boolean', default: false },
  },
});

const root = fileURLToPath(new URL('..', import.meta.url));
if (!values['no-build']) {
  // tsc still emits when another part of the tree has type errors; the import fails if not.
  try {
    execFileSync('npx', ['tsc', '-p', '.'], { cwd: root, stdio: 'ignore' });
  } catch {
    // Reported by the import below if the ledger was not emitted.
  }
}
const { openLedger } = await import(pathToFileURL(join(root, 'dist', 'engine', 'ledger', 'index.js')).href);

const records = Number(values.records);
const single = Number(values.single);
const batch = Number(values.batch);
const dir = mkdtempSync(join(tmpdir(), 'aishell-ledger-bench-'));
const path = join(dir, 'ledger');
const env = { ...process.env, HOME: dir };

function change(index) {
  return {
    kind: 'apply.change',
    target: `prod/app${index % 13}`,
    address: `prod/app${index % 13}: grant SELECT on table public.orders_${index} to readonly`,
    details: { operation: 'grant', statements: [`GRANT SELECT ON TABLE public.orders_${index} TO readonly`] },
    outcome: 'ok',
  };
}

function seconds(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

try {
  const ledger = await openLedger({ path, env, checkpointOnClose: false });

  // One record per call: lock, read the tail, write, fdatasync, unlock. This is an apply's cost.
  let start = process.hrtime.bigint();
  for (let index = 0; index < single; index += 1) {
    await ledger.append([change(index)]);
  }
  const singleSeconds = seconds(start);

  // Filling the rest in batches: one lock and one fdatasync per call.
  start = process.hrtime.bigint();
  for (let index = single; index < records; index += batch) {
    const count = Math.min(batch, records - index);
    await ledger.append(Array.from({ length: count }, (_, offset) => change(index + offset)));
  }
  const batchSeconds = seconds(start);

  start = process.hrtime.bigint();
  await ledger.checkpoint();
  const checkpointSeconds = seconds(start);

  start = process.hrtime.bigint();
  const report = await ledger.verify();
  const verifySeconds = seconds(start);
  await ledger.close();
  if (!report.ok) {
    throw new Error(`the benchmark ledger did not verify: ${report.problems[0]?.message}`);
  }

  const bytes = statSync(path).size;
  start = process.hrtime.bigint();
  execFileSync('sha256sum', [path], { stdio: 'ignore' });
  const shaSeconds = seconds(start);

  // The floor for one-record appends on this disk: the same number of bare write + fdatasync.
  const raw = openSync(join(dir, 'raw'), 'a');
  const line = Buffer.from(`${JSON.stringify(change(0))}\n`);
  start = process.hrtime.bigint();
  for (let index = 0; index < single; index += 1) {
    writeSync(raw, line);
    fdatasyncSync(raw);
  }
  const rawSeconds = seconds(start);
  closeSync(raw);

  const rows = [
    ['bare write + fdatasync of one line (disk floor)', single, rawSeconds],
    ['append, 1 record per call', single, singleSeconds],
    [`append, ${batch} records per call`, records - single, batchSeconds],
    ['first checkpoint (hash every record, sign, anchor)', records, checkpointSeconds],
    ['verify (parse, canonical check, chain, tree, signatures)', report.size, verifySeconds],
  ];
  console.log(`ledger: ${report.size} records, ${(bytes / 1e6).toFixed(1)} MB, node ${process.version}, ${process.platform}/${process.arch}`);
  for (const [name, count, time] of rows) {
    console.log(`${name.padEnd(58)} ${String(count).padStart(8)} in ${time.toFixed(3)} s  ${Math.round(count / time).toLocaleString('en-US').padStart(10)} records/s`);
  }
  console.log(`${'sha256sum over the same file'.padEnd(58)} ${(bytes / 1e6).toFixed(1).padStart(6)} MB in ${shaSeconds.toFixed(3)} s  ${(bytes / 1e6 / shaSeconds).toFixed(0).padStart(10)} MB/s`);
  console.log(`${'verify'.padEnd(58)} ${(bytes / 1e6).toFixed(1).padStart(6)} MB in ${verifySeconds.toFixed(3)} s  ${(bytes / 1e6 / verifySeconds).toFixed(0).padStart(10)} MB/s`);
  console.log(`verify takes ${(verifySeconds / shaSeconds).toFixed(1)}x the time of sha256sum over the same bytes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
