/**
 * The aishell benchmark suite: plan, apply, configuration loading, start-up and the pure diff,
 * each measured side by side with a baseline in the same run, at one tenth of the scale and at
 * the full scale of the estate in estate.mjs.
 *
 *   npm run bench                   five runs of each measurement at scale 1 and 0.1
 *   npm run bench -- --quick        two runs at scale 0.1 and 0.01, for development
 *   AISHELL_BENCH_RUNS=N            runs of each measurement (default 5)
 *   AISHELL_BENCH_SCALE=S           the full scale (default 1: 10,000 roles, 100,000 privileges)
 *   AISHELL_BENCH_PG_URL=URL        the server (default AISHELL_TEST_PG_URL, else postgres on 127.0.0.1)
 *   --json FILE                     also write every sample as JSON
 *
 * It needs `psql` and GNU time (`/usr/bin/time`), and a superuser on the server, because it
 * creates a scratch database and thousands of roles; both are dropped at the end, also when a
 * step fails or the run is interrupted.
 */
import { writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, printReport } from './report.mjs';
import { benchScale } from './scale.mjs';
import { benchStartup } from './startup.mjs';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } } });
const runs = Number(process.env.AISHELL_BENCH_RUNS ?? (values.quick ? 2 : 5));
const fullScale = Number(process.env.AISHELL_BENCH_SCALE ?? (values.quick ? 0.1 : 1));
if (!(runs >= 1) || !(fullScale > 0)) {
  console.error('error: AISHELL_BENCH_RUNS must be at least 1 and AISHELL_BENCH_SCALE above 0');
  process.exit(1);
}

const workDir = mkdtempSync(path.join(tmpdir(), 'aishell-bench-'));
const cleanups = [];
let cleaning;
const cleanup = () => {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) await step().catch((error) => console.error(`cleanup failed: ${error.message}`));
    rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: dropping the scratch databases and roles`);
    cleanup().finally(() => process.exit(130));
  });
}

const log = (text) => console.error(`[bench] ${text}`);

try {
  const machine = await describeMachine();
  log(`${runs} run(s) per measurement, scales ${fullScale / 10} and ${fullScale}`);

  const scales = [];
  for (const scale of [fullScale / 10, fullScale]) {
    scales.push(await benchScale({ scale, runs, workDir, log, onCleanup: (step) => cleanups.push(step) }));
  }
  const startup = await benchStartup({ runs, log });

  printReport({ machine, runs, scales, startup });
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify({ machine, runs, scales, startup }, null, 2)}\n`);
  }
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
