/**
 * Times the pure diff alone: the declared state of CONFIG against an inspected state (written
 * by plan-probe.mjs --state) in which 1% of the privileges differ, half of them missing and half
 * of them extra. Prints JSON with the median time of RUNS diffs and the number of changes.
 *
 *   node bench/diff-probe.mjs CONFIG STATE RUNS
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../dist/engine/config/load.js';
import { diff } from '../dist/engine/diff/diff.js';
import { buildDesiredState } from '../dist/engine/model/desired.js';
import { capabilitiesFor } from '../dist/providers/postgres/capabilities.js';
import { median } from './measure.mjs';

const [configPath, statePath, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 5);

const loaded = await loadConfig(configPath);
if (!loaded.config) throw new Error(`${configPath} does not load`);
const actual = JSON.parse(await readFile(statePath, 'utf8'));
const [targetName] = Object.keys(loaded.config.targets);
const target = loaded.config.targets[targetName];
const database = actual.databases[0];
const { desired } = buildDesiredState(loaded.config, targetName, database.name);

// One privilege in a hundred differs, all of them table privileges of declared roles other than
// the table's owner, whose privileges are never managed. The even ones are revoked out of band
// (missing). The odd ones gain TRUNCATE, which the file does not declare (extra).
const declared = new Set(desired.roles.map((role) => role.name));
const owners = new Map(database.objects.map((object) => [`${object.kind}\0${object.schema}\0${object.name}`, object.owner]));
const isCandidate = (grant) =>
  declared.has(grant.grantee) &&
  grant.object.kind === 'table' &&
  grant.privilege === 'SELECT' &&
  owners.get(`table\0${grant.object.schema}\0${grant.object.name}`) !== grant.grantee;
const candidates = database.grants.filter(isCandidate).length;
const stride = Math.max(1, Math.floor(candidates / Math.round(database.grants.length / 100)));
let candidateIndex = 0;
let changed = 0;
const grants = [];
for (const grant of database.grants) {
  if (isCandidate(grant) && candidateIndex++ % stride === 0) {
    changed += 1;
    if (changed % 2 === 0) continue;
    grants.push({ ...grant, privilege: 'TRUNCATE' });
  }
  grants.push(grant);
}
const drifted = { ...actual, databases: [{ ...database, grants }, ...actual.databases.slice(1)] };

const input = {
  target: targetName,
  desired,
  actual: drifted,
  scope: { ignoreRoles: target.ignore_roles ?? [], dropUnmanagedRoles: false, managePublic: false },
  managedDatabases: [database.name],
  privileges: capabilitiesFor(actual.serverVersion).privileges,
  membershipOptions: capabilitiesFor(actual.serverVersion).membershipOptions,
  passwords: new Map(),
};

const times = [];
let changes = 0;
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  const result = diff(input);
  times.push(performance.now() - started);
  changes = result.changes.length;
}

console.log(JSON.stringify({ grants: database.grants.length, changed, changes, ms: median(times), samples: times }));
