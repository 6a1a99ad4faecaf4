/** Start-up: `aishell --version` and `aishell --help` against a bare `node -e 0`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Samples, timedOk } from './measure.mjs';

const BIN = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'dist/engine/cli/bin.js');

export async function benchStartup({ runs, log }) {
  const samples = new Samples();
  // Start-up is short, so it gets more runs than the database measurements.
  const iterations = Math.max(runs * 4, 10);
  log(`start-up, ${iterations} runs`);

  for (let iteration = 0; iteration < iterations; iteration++) {
    samples.add('node', (await timedOk('node -e 0', process.execPath, ['-e', '0'])).ms);
    samples.add('version', (await timedOk('aishell --version', process.execPath, [BIN, '--version'])).ms);
    samples.add('help', (await timedOk('aishell --help', process.execPath, [BIN, '--help'])).ms);
  }
  return {
    iterations,
    samples: samples.toJSON(),
    medians: { node: samples.median('node'), version: samples.median('version'), help: samples.median('help') },
  };
}
