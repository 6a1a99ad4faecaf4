/** The machine a run was on, and the report that `npm run bench` prints as Markdown. */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { ADMIN_URL } from './scratch.mjs';

const run = promisify(execFile);

export async function describeMachine() {
  const server = await run('psql', ['-X', '-A', '-t', '-d', ADMIN_URL, '-c', 'SHOW server_version']);
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((value) => value.toFixed(2)).join(' '),
    node: process.version,
    postgres: server.stdout.trim(),
    date: new Date().toISOString(),
  };
}

const ms = (value) => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
const ratio = (value) => `${value.toFixed(2)}×`;
const count = (value) => value.toLocaleString('en-US');

export function printReport({ machine, runs, scales, startup }) {
  const [tenth, full] = scales;
  const out = [];
  const table = (header, rows) => {
    out.push(`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`);
    for (const row of rows) out.push(`| ${row.join(' | ')} |`);
    out.push('');
  };

  out.push(`## Run of ${machine.date}`, '');
  out.push(`${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}; load average at start ${machine.loadAverage}. Medians of ${runs} runs.`, '');

  table(['estate', `scale ${tenth.scale}`, `scale ${full.scale}`], [
    ['roles', count(tenth.counts.roles), count(full.counts.roles)],
    ['memberships', count(tenth.counts.memberships), count(full.counts.memberships)],
    ['tables (and sequences) / schemas', `${count(tenth.counts.tables)} / ${tenth.counts.schemas}`, `${count(full.counts.tables)} / ${full.counts.schemas}`],
    ['declared schema, table, column and sequence privileges', count(tenth.counts.privileges), count(full.counts.privileges)],
    ['privilege rows inspected (with owners and CONNECT)', count(tenth.inspectedGrants), count(full.inspectedGrants)],
    ['security.yaml', `${(tenth.yamlBytes / 1e6).toFixed(1)} MB`, `${(full.yamlBytes / 1e6).toFixed(1)} MB`],
    ['statements of the apply from empty', count(tenth.statements), count(full.statements)],
  ]);

  const rows = [];
  for (const [label, key, base, baseLabel] of [
    ['plan, no changes', 'plan', 'catalog.baseline', 'catalog'],
    ['load the configuration (aishell validate)', 'validate', 'catalog.baseline', 'catalog'],
    ['validate, one error reported at its line', 'validate.error', 'catalog.baseline', 'catalog'],
    ['apply from empty', 'apply.aishell', 'apply.psql', 'psql -1 -f'],
  ]) {
    const ratioKey = key === 'apply.aishell' ? 'apply.ratio' : `${key}.ratio`;
    for (const scale of scales) {
      rows.push([label, String(scale.scale), ms(scale.medians[key]), `${ms(scale.medians[base])} (${baseLabel})`, pairedRatio(scale, ratioKey)]);
    }
  }
  for (const scale of scales) {
    rows.push(['pure diff, 1% of privileges differ', String(scale.scale), ms(scale.diff.ms), `${count(scale.diff.grants)} privilege rows, ${count(scale.diff.changes)} changes`, '']);
  }
  table(['measurement', 'scale', 'aishell', 'baseline', 'ratio (range)'], rows);
  out.push('Times are medians. A ratio is the median of the ratios of each iteration, whose aishell and baseline runs ran back to back; the range is that of the ratios.', '');

  table(['part of the figures', `scale ${tenth.scale}`, `scale ${full.scale}`], [
    ['catalog baseline: psql, one query per catalog', ms(tenth.medians['catalog.psql']), ms(full.medians['catalog.psql'])],
    ['catalog baseline: node -e 0', ms(tenth.medians['catalog.node']), ms(full.medians['catalog.node'])],
    ['plan phases in one process, without read-ahead: load; connect; inspect, diff and fingerprint', phases(tenth.phases), phases(full.phases)],
    ['round trips of a plan (catalog statements, SET TimeZone included)', roundTrips(tenth), roundTrips(full)],
    ['peak memory of plan', `${Math.round(tenth.medians['plan.rss'])} MiB`, `${Math.round(full.medians['plan.rss'])} MiB`],
    ['peak memory of apply from empty', `${Math.round(tenth.medians['apply.aishell.rss'])} MiB`, `${Math.round(full.medians['apply.aishell.rss'])} MiB`],
  ]);

  const planRatio = full.medians['plan.ratio'];
  const loadRatio = full.medians['validate.ratio'];
  const growth = full.medians.plan / tenth.medians.plan;
  const applyRatio = full.medians['apply.ratio'];
  const helpRatio = startup.medians['help.ratio'];
  const verdict = (met) => (met ? 'met' : '**missed**');
  table(['target', 'limit', 'measured', 'result'], [
    ['plan, no changes, full scale, against the catalog baseline', '≤ 2×', pairedRatio(full, 'plan.ratio'), verdict(planRatio <= 2)],
    ['peak memory of that plan', '< 512 MiB', `${Math.round(full.medians['plan.rss'])} MiB`, verdict(full.medians['plan.rss'] < 512)],
    ['queries of a plan at both scales', 'equal', `${tenth.queries.converged} and ${full.queries.converged}`, verdict(tenth.queries.converged === full.queries.converged)],
    ['load the full configuration, against the catalog baseline', '≤ 1×', pairedRatio(full, 'validate.ratio'), verdict(loadRatio <= 1)],
    ['plan time from one tenth to full scale (medians)', '≤ 12×', ratio(growth), verdict(growth <= 12)],
    ['apply from empty, against psql -1 -f', '≤ 1.3×', pairedRatio(full, 'apply.ratio'), verdict(applyRatio <= 1.3)],
    ['aishell --help, against node -e 0', '≤ 2.5×', `${ratio(helpRatio)} (${ms(startup.medians.help)} and ${ms(startup.medians.node)})`, verdict(helpRatio <= 2.5)],
  ]);
  out.push(`aishell --version: ${ms(startup.medians.version)}; medians of ${startup.iterations} start-ups.`);

  console.log(out.join('\n'));
}

function pairedRatio(scale, name) {
  const [low, high] = scale.ranges[name];
  return `${ratio(scale.medians[name])} (${low.toFixed(2)}–${high.toFixed(2)})`;
}

function roundTrips(scale) {
  return `${scale.queries.converged} (${scale.queries.catalogStatements})`;
}

function phases(values) {
  return `${ms(values.load)}, ${ms(values.connect)}, ${ms(values.plan)}`;
}
