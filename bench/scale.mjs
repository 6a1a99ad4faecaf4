/**
 * Every measurement that needs the database, at one scale: apply from empty, plan with no
 * changes, configuration loading and the pure diff. Each aishell run is paired with its baseline
 * in the same iteration, so load from other work on the machine affects both alike.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildEstate } from './estate.mjs';
import { Samples, timedOk } from './measure.mjs';
import { createScratch } from './scratch.mjs';

const run = promisify(execFile);
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const BIN = path.join(root, 'dist/engine/cli/bin.js');
const NODE = process.execPath;

/** psql without ~/.psqlrc, stopping at the first error, with its output discarded. */
const psqlArgs = (url, file) => ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null', '-d', url, '-f', file];

export async function benchScale({ scale, runs, workDir, log, onCleanup }) {
  let label = 'small';
  if (scale >= 0.1) label = 'tenth';
  if (scale >= 1) label = 'full';
  const scratch = await createScratch(label);
  onCleanup(() => scratch.drop());
  const dir = path.join(workDir, `scale-${scale}`);
  await run('mkdir', ['-p', dir]);

  const estate = buildEstate({ scale, prefix: scratch.prefix, url: scratch.url, database: scratch.database });
  const files = {
    config: path.join(dir, 'security.yaml'),
    broken: path.join(dir, 'broken.yaml'),
    setup: path.join(dir, 'setup.sql'),
    apply: path.join(dir, 'apply.sql'),
    catalog: path.join(dir, 'catalog.sql'),
    state: path.join(dir, 'state.json'),
  };
  await writeFile(files.config, estate.yaml);
  await writeFile(files.setup, estate.setupSql);
  const broken = brokenConfig(estate.yaml);
  await writeFile(files.broken, broken.text);

  log(`scale ${scale}: ${estate.counts.roles} roles, ${estate.counts.privileges} privileges, ${(estate.yaml.length / 1e6).toFixed(1)} MB of YAML in ${scratch.database}`);
  await timedOk('create the objects', 'psql', psqlArgs(scratch.url, files.setup));

  const aishell = (...args) => [NODE, [BIN, ...args]];
  const samples = new Samples();

  // The statements of the plan from empty are the psql baseline of apply.
  const fromEmpty = await probe(files.config, '--statements', files.apply);
  if (fromEmpty.errors.length > 0) throw new Error(`the plan from empty has errors: ${fromEmpty.errors.join('; ')}`);

  for (let iteration = 0; iteration < runs; iteration++) {
    log(`scale ${scale}: apply from empty, run ${iteration + 1} of ${runs}`);
    const psqlStep = ['apply.psql', () => timedOk('psql -1 -f', 'psql', ['-1', ...psqlArgs(scratch.url, files.apply)])];
    const aishellStep = ['apply.aishell', () => timedOk('aishell apply', ...aishell('apply', '-f', files.config, '--auto-approve'))];
    // Alternate which goes first, and end with aishell so that aishell converges the estate.
    const aishellFirst = iteration % 2 === 1 && iteration !== runs - 1;
    const steps = aishellFirst ? [aishellStep, psqlStep] : [psqlStep, aishellStep];
    const times = {};
    for (const [name, step] of steps) {
      await scratch.dropRoles(estate.owner);
      const result = await step();
      times[name] = result.ms;
      samples.add(name, result.ms);
      samples.add(`${name}.rss`, result.rssMb);
    }
    // Ratios of the two runs of one iteration, which ran back to back under the same load.
    samples.add('apply.ratio', times['apply.aishell'] / times['apply.psql']);
  }

  // Each apply above made about 130,000 privilege changes at full scale, and each change leaves
  // a dead row version in the catalogs, which slows every catalog read until autovacuum removes
  // it. A real server vacuums on its own schedule, so the catalogs are vacuumed here, before any
  // plan or baseline is measured.
  await timedOk('vacuum the catalogs', 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', scratch.url, '-c', 'VACUUM (ANALYZE)']);

  // The converged estate: a plan must find no change, or every figure below is meaningless.
  await timedOk('plan after apply', ...aishell('plan', '-f', files.config, '--detailed-exitcode'));
  const converged = await probe(files.config, '--state', files.state, '--catalog', files.catalog);
  if (converged.changes !== 0) throw new Error(`the converged estate still has ${converged.changes} change(s)`);

  for (let iteration = 0; iteration < runs; iteration++) {
    log(`scale ${scale}: plan with no changes, loading, run ${iteration + 1} of ${runs}`);
    const before = await catalogBaseline(scratch.url, files.catalog);

    const plan = await timedOk('aishell plan', ...aishell('plan', '-f', files.config, '--detailed-exitcode'));
    samples.add('plan', plan.ms);
    samples.add('plan.rss', plan.rssMb);

    const validate = await timedOk('aishell validate', ...aishell('validate', '-f', files.config));
    samples.add('validate', validate.ms);
    samples.add('validate.rss', validate.rssMb);

    const failing = await timedOk('aishell validate (one error)', ...aishell('validate', '-f', files.broken), { expectedCode: 1 });
    if (!failing.stderr.includes(`broken.yaml:${broken.line}:${broken.column}: error:`)) {
      throw new Error(`the error in broken.yaml is not reported at line ${broken.line}, column ${broken.column}:\n${failing.stderr.slice(0, 2000)}`);
    }
    samples.add('validate.error', failing.ms);

    // The baseline is measured before and after the aishell runs, and its mean is the one they
    // are compared with, so that a change of load during the iteration affects both alike.
    const after = await catalogBaseline(scratch.url, files.catalog);
    for (const part of ['psql', 'node', 'baseline']) samples.add(`catalog.${part}`, (before[part] + after[part]) / 2);
    const baseline = (before.baseline + after.baseline) / 2;
    samples.add('plan.ratio', plan.ms / baseline);
    samples.add('validate.ratio', validate.ms / baseline);
    samples.add('validate.error.ratio', failing.ms / baseline);
  }

  log(`scale ${scale}: the pure diff`);
  const diffAlone = JSON.parse((await run(NODE, [path.join(root, 'bench/diff-probe.mjs'), files.config, files.state, String(Math.max(runs, 5))], { maxBuffer: 1 << 26 })).stdout);

  await scratch.drop();
  return {
    scale,
    counts: estate.counts,
    yamlBytes: Buffer.byteLength(estate.yaml),
    statements: fromEmpty.statements,
    changesFromEmpty: fromEmpty.changes,
    inspectedGrants: converged.grants,
    queries: { fromEmpty: fromEmpty.queries, converged: converged.queries, catalogStatements: converged.catalogStatements },
    phases: converged.ms,
    diff: diffAlone,
    samples: samples.toJSON(),
    medians: Object.fromEntries([...samples.values.keys()].map((name) => [name, samples.median(name)])),
    ranges: Object.fromEntries([...samples.values.keys()].map((name) => [name, samples.range(name)])),
  };
}

/** Runs the catalog queries with psql and starts a bare node, which together are the catalog baseline. */
async function catalogBaseline(url, file) {
  const catalog = await timedOk('psql catalog', 'psql', psqlArgs(url, file));
  const bareNode = await timedOk('node -e 0', NODE, ['-e', '0']);
  return { psql: catalog.ms, node: bareNode.ms, baseline: catalog.ms + bareNode.ms };
}

/** Plans in-process through plan-probe.mjs, for the query count and the plan's statements. */
async function probe(config, ...args) {
  const { stdout } = await run(NODE, [path.join(root, 'bench/plan-probe.mjs'), config, ...args], { maxBuffer: 1 << 26 });
  return JSON.parse(stdout);
}

/**
 * Returns the full file with one misspelt privilege in its last grant, and where it is. Validation
 * must report it at that exact line and column, so this times finding a position in a large file.
 */
function brokenConfig(yaml) {
  const lines = yaml.split('\n');
  const index = lines.findLastIndex((line, at) => line.startsWith('    privileges: [') && lines[at - 1]?.startsWith('  - to:'));
  const column = lines[index].indexOf('[') + 2;
  lines[index] = lines[index].replace('[', '[SELCT, ');
  return { text: lines.join('\n'), line: index + 1, column };
}
