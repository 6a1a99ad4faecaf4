/**
 * Plans one configuration inside this process and prints, as JSON, what the CLI does not show:
 * the number of queries the provider sent, the number of changes and where the time went.
 *
 *   node bench/plan-probe.mjs CONFIG [--statements FILE] [--state FILE] [--catalog FILE]
 *
 * --statements writes the plan's SQL as one script for `psql -1 -f`. --state writes the
 * inspected state as JSON, for the diff benchmark. --catalog writes every query the plan sent,
 * as one psql script: the catalog baseline then reads exactly what a plan reads.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../dist/engine/config/load.js';
import { connectTarget, planTarget } from '../dist/engine/plan/build.js';
import { createSecretResolver } from '../dist/engine/secrets.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { statements: { type: 'string' }, state: { type: 'string' }, catalog: { type: 'string' } },
});

// The provider loads the same pg module, so wrapping its query method here records every query
// of the plan, on every connection.
const sent = [];
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, parameters, ...rest) {
  const text = typeof config === 'string' ? config : config.text;
  sent.push({ connection: this, sql: inlineParameters(text, Array.isArray(parameters) ? parameters : (config.values ?? [])) });
  return query.call(this, config, parameters, ...rest);
};
const configPath = positionals[0];

let mark = performance.now();
const lap = () => {
  const now = performance.now();
  const elapsed = now - mark;
  mark = now;
  return Math.round(elapsed);
};

const loaded = await loadConfig(configPath);
if (!loaded.config) {
  console.error(loaded.diagnostics.map((diagnostic) => diagnostic.summary).join('\n'));
  process.exit(1);
}
const context = { config: loaded.config, configPath, secrets: createSecretResolver(process.env) };
const loadMs = lap();

const [targetName] = Object.keys(loaded.config.targets);
const session = await connectTarget(context, targetName);
try {
  const connectMs = lap();
  const { plan, actual } = await planTarget(context, targetName, session);
  const planMs = lap();

  if (values.statements) {
    const sql = plan.changes.flatMap((change) => change.statements.map((statement) => `${statement.sql};`));
    await writeFile(values.statements, `${sql.join('\n')}\n`);
  }
  if (values.state) await writeFile(values.state, JSON.stringify(actual));
  if (values.catalog) {
    const connections = new Set(sent.map((each) => each.connection));
    if (connections.size !== 1) throw new Error(`the plan used ${connections.size} connections; the catalog script supports one`);
    await writeFile(values.catalog, `${sent.map((each) => `${each.sql.trim()};`).join('\n')}\n`);
  }

  const errors = plan.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  console.log(JSON.stringify({
    queries: session.queryCount,
    // The batch of catalog queries is one round trip; psql runs each of its statements alone.
    catalogStatements: sent.reduce((sum, each) => sum + each.sql.split(';\n').length, 0),
    changes: plan.changes.length,
    statements: plan.changes.reduce((sum, change) => sum + change.statements.length, 0),
    errors: errors.map((diagnostic) => diagnostic.summary).slice(0, 5),
    grants: actual.databases.reduce((sum, database) => sum + database.grants.length, 0),
    roles: actual.roles.length,
    ms: { load: loadMs, connect: connectMs, plan: planMs },
  }));
} finally {
  await session.close();
}

/** Writes the parameters of a query into its text as literals, so psql can run it as it is. */
function inlineParameters(sql, parameters) {
  if (parameters.length === 0) return sql;
  return sql.replace(/\$(\d+)/g, (match, index) => literal(parameters[Number(index) - 1]));
}

function literal(value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(', ')}]`;
  return `'${String(value).replace(/'/g, "''")}'`;
}
