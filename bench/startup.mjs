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
    const node = (await timedOk('node -e 0', process.execPath, ['-e', '0'])).ms;
    const version = (await timedOk('aishell --version', process.execPath, [BIN, '--version'])).ms;
    const help = (await timedOk('aishell --help', process.execPath, [BIN, '--help'])).ms;
    samples.add('node', node);
    samples.add('version', version);
    samples.add('help', help);
    samples.add('help.ratio', help / node);
  }
  return {
    iterations,
    samples: samples.toJSON(),
    medians: Object.fromEntries(['node', 'version', 'help', 'help.ratio'].map((name) => [name, samples.median(name)])),
    ranges: { 'help.ratio': samples.range('help.ratio') },
  };
}
