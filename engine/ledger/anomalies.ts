import { privilegesFor, type PrivilegeObjectKind } from '../config/privileges.js';
import { actorIdentity } from './actor.js';
import { isEntryRead, operationOf } from './filter.js';
import type { LedgerRecord } from './types.js';

export type AnomalyRule =
  | 'off-hours-apply'
  | 'new-actor'
  | 'privileged-grant'
  | 'mass-revoke'
  | 'repeated-failures'
  | 'vault-read-burst';

/** One finding of `audit anomalies`, with the records behind it. */
export interface Finding {
  rule: AnomalyRule;
  severity: 'high' | 'medium';
  message: string;
  seqs: number[];
}

export interface AnomalyOptions {
  /** Start of the period to examine; earlier records are the baseline (who is known). */
  since: Date;
  until?: Date;
  /** Usual working hours as [start, end) in whole hours of `timeZone` (default 7 to 20). */
  workHours?: [number, number];
  /** Usual working days, 0 = Sunday (default Monday to Friday). */
  workDays?: number[];
  /** IANA time zone of the working hours (default UTC). */
  timeZone?: string;
  /** Revokes in one command that count as a mass revoke (default 10). */
  massRevoke?: number;
  /** Failed applies by one actor within `failureWindowMs` that count as repeated (default 3 in 1 h). */
  failures?: number;
  failureWindowMs?: number;
  /** Reads of vault entries by one actor within `burstWindowMs` that count as a burst (default 20 in 5 min). */
  vaultReads?: number;
  burstWindowMs?: number;
}

const FAILED = new Set(['failed', 'error', 'rolled-back']);

// PostgreSQL SUPERUSER (not NOSUPERUSER), GRANT ALL / ALL PRIVILEGES on any engine, and grants of
// the managed services' superuser roles (rds_superuser, cloudsqlsuperuser, azure_pg_admin).
const PRIVILEGED = [
  /(?<![a-z])superuser\b/i,
  /\bgrant\s+all\b/i,
  /\ball\s+privileges\b/i,
  /\bgrant\s+(rds_superuser|cloudsqlsuperuser|azure_pg_admin)\b/i,
];

/** Applies the rules to the records; findings are ordered by their first record. */
export function findAnomalies(records: LedgerRecord[], options: AnomalyOptions): Finding[] {
  const since = options.since.getTime();
  const until = options.until?.getTime() ?? Number.POSITIVE_INFINITY;
  const events = records.filter((record) => !record.kind.startsWith('ledger.'));
  const baseline = events.filter((record) => Date.parse(record.time) < since);
  const period = events.filter((record) => {
    const time = Date.parse(record.time);
    return time >= since && time <= until;
  });

  const findings = [
    ...offHoursApplies(period, options),
    ...newActors(baseline, period),
    ...privilegedGrants(period),
    ...massRevokes(period, options.massRevoke ?? 10),
    ...repeatedFailures(period, options.failures ?? 3, options.failureWindowMs ?? 3_600_000),
    ...vaultReadBursts(period, options.vaultReads ?? 20, options.burstWindowMs ?? 300_000),
  ];
  return findings.sort((a, b) => a.seqs[0] - b.seqs[0]);
}

function offHoursApplies(period: LedgerRecord[], options: AnomalyOptions): Finding[] {
  const [start, end] = options.workHours ?? [7, 20];
  const days = new Set(options.workDays ?? [1, 2, 3, 4, 5]);
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: options.timeZone ?? 'UTC',
    hour: 'numeric',
    hourCycle: 'h23',
    weekday: 'short',
  });
  const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

  const byRun = new Map<string, LedgerRecord[]>();
  for (const record of period) {
    if (record.kind !== 'apply.change') {
      continue;
    }
    const parts = Object.fromEntries(format.formatToParts(new Date(record.time)).map((part) => [part.type, part.value]));
    const hour = Number(parts.hour);
    const day = weekdays.indexOf(parts.weekday);
    if (days.has(day) && hour >= start && hour < end) {
      continue;
    }
    byRun.set(record.run, [...(byRun.get(record.run) ?? []), record]);
  }

  return [...byRun.values()].map((group) => ({
    rule: 'off-hours-apply' as const,
    severity: 'medium' as const,
    message: `${group.length} change(s) applied at ${group[0].time} by ${actorIdentity(group[0].actor)}, outside working hours`,
    seqs: group.map((record) => record.seq),
  }));
}

function newActors(baseline: LedgerRecord[], period: LedgerRecord[]): Finding[] {
  // Without history every actor is new, so the rule would flag everyone.
  if (baseline.length === 0) {
    return [];
  }
  const known = new Set(baseline.map((record) => actorIdentity(record.actor)));
  const fresh = new Map<string, LedgerRecord[]>();
  for (const record of period) {
    const identity = actorIdentity(record.actor);
    if (!known.has(identity)) {
      fresh.set(identity, [...(fresh.get(identity) ?? []), record]);
    }
  }
  return [...fresh.entries()].map(([identity, group]) => ({
    rule: 'new-actor' as const,
    severity: 'medium' as const,
    message: `${identity} appears for the first time (${group.length} record(s), first at ${group[0].time})`,
    seqs: group.map((record) => record.seq),
  }));
}

function privilegedGrants(period: LedgerRecord[]): Finding[] {
  const findings: Finding[] = [];
  for (const record of period) {
    if (record.kind !== 'apply.change' || FAILED.has(record.outcome ?? '')) {
      continue;
    }
    const statements = Array.isArray(record.details.statements) ? record.details.statements.map(String) : [];
    const texts = [record.address ?? '', ...statements];
    if (texts.some((text) => PRIVILEGED.some((pattern) => pattern.test(text)))) {
      findings.push({
        rule: 'privileged-grant',
        severity: 'high',
        message: `superuser or ALL privileges granted: ${record.address ?? statements[0] ?? record.kind} by ${actorIdentity(record.actor)}`,
        seqs: [record.seq],
      });
    }
  }
  return [...findings, ...expandedAllGrants(period)];
}

// A grant address: `<target>[/<db>]: [default privileges for R[ in schema S]: ]grant PRIV on KIND NAME to GRANTEE`.
const GRANT_ADDRESS = /^(.*?) grant ([A-Z]+) (on ([a-z]+) .+)$/;

/**
 * Finds grants of every privilege of one object to one grantee within one command. The plan
 * expands `privileges: [ALL]` into one change per privilege, so no single record names ALL.
 * MAINTAIN counts as optional, because only PostgreSQL 17 and later have it.
 * NOTE: a grantee that already held some of the privileges gets only the rest in this command,
 * which this rule does not see as ALL.
 */
function expandedAllGrants(period: LedgerRecord[]): Finding[] {
  const groups = new Map<string, { kind: string; privileges: Set<string>; records: LedgerRecord[] }>();
  for (const record of period) {
    if (record.kind !== 'apply.change' || FAILED.has(record.outcome ?? '') || !['grant', 'grant_default_privilege'].includes(operationOf(record))) {
      continue;
    }
    const match = GRANT_ADDRESS.exec(record.address ?? '');
    if (!match) {
      continue;
    }
    const [, prefix, privilege, object, kind] = match;
    const key = `${record.run}\n${prefix}\n${object}`;
    const group = groups.get(key) ?? { kind, privileges: new Set<string>(), records: [] };
    group.privileges.add(privilege);
    group.records.push(record);
    groups.set(key, group);
  }

  const findings: Finding[] = [];
  for (const [key, group] of groups) {
    const all = allPrivileges(group.kind);
    if (all.length < 2 || !all.every((privilege) => privilege === 'MAINTAIN' || group.privileges.has(privilege))) {
      continue;
    }
    const [, prefix, object] = key.split('\n');
    findings.push({
      rule: 'privileged-grant',
      severity: 'high',
      message: `ALL privileges granted, as ${group.records.length} grants in one command: ${prefix} grant ALL ${object} by ${actorIdentity(group.records[0].actor)}`,
      seqs: group.records.map((record) => record.seq),
    });
  }
  return findings;
}

/** Returns the privileges that ALL means for an object kind of a grant address; none for unknown kinds. */
function allPrivileges(kind: string): readonly string[] {
  const kinds: readonly string[] = ['database', 'schema', 'table', 'column', 'sequence', 'function', 'tables', 'sequences', 'functions', 'types', 'schemas'];
  return kinds.includes(kind) ? privilegesFor(kind as PrivilegeObjectKind) : [];
}

function massRevokes(period: LedgerRecord[], threshold: number): Finding[] {
  const byRun = new Map<string, LedgerRecord[]>();
  for (const record of period) {
    const revoke =
      record.kind === 'apply.change' &&
      (operationOf(record).toLowerCase() === 'revoke' || /:\s*revoke\b/i.test(record.address ?? ''));
    if (revoke) {
      byRun.set(record.run, [...(byRun.get(record.run) ?? []), record]);
    }
  }
  return [...byRun.values()]
    .filter((group) => group.length >= threshold)
    .map((group) => ({
      rule: 'mass-revoke' as const,
      severity: 'high' as const,
      message: `${group.length} privileges revoked in one command by ${actorIdentity(group[0].actor)} at ${group[0].time}`,
      seqs: group.map((record) => record.seq),
    }));
}

function repeatedFailures(period: LedgerRecord[], threshold: number, windowMs: number): Finding[] {
  const failed = period.filter((record) => record.kind === 'apply.change' && FAILED.has(record.outcome ?? ''));
  return clustersByActor(failed, threshold, windowMs).map((group) => ({
    rule: 'repeated-failures' as const,
    severity: 'medium' as const,
    message: `${group.length} failed changes by ${actorIdentity(group[0].actor)} within ${Math.round(windowMs / 60_000)} min from ${group[0].time}`,
    seqs: group.map((record) => record.seq),
  }));
}

function vaultReadBursts(period: LedgerRecord[], threshold: number, windowMs: number): Finding[] {
  const reads = period.filter(isEntryRead);
  return clustersByActor(reads, threshold, windowMs).map((group) => {
    const entries = new Set(group.map((record) => record.target ?? String(record.details.entry)));
    return {
      rule: 'vault-read-burst' as const,
      severity: 'high' as const,
      message: `${group.length} vault reads of ${entries.size} entries by ${actorIdentity(group[0].actor)} within ${Math.round(windowMs / 60_000)} min from ${group[0].time}`,
      seqs: group.map((record) => record.seq),
    };
  });
}

/**
 * Groups each actor's records into maximal runs in which every `threshold` consecutive records
 * fit in `windowMs`; returns the runs that reach the threshold.
 */
function clustersByActor(records: LedgerRecord[], threshold: number, windowMs: number): LedgerRecord[][] {
  const byActor = new Map<string, LedgerRecord[]>();
  for (const record of records) {
    const identity = actorIdentity(record.actor);
    byActor.set(identity, [...(byActor.get(identity) ?? []), record]);
  }

  const clusters: LedgerRecord[][] = [];
  for (const group of byActor.values()) {
    const times = group.map((record) => Date.parse(record.time));
    let start = 0;
    while (start + threshold - 1 < group.length) {
      if (times[start + threshold - 1] - times[start] > windowMs) {
        start += 1;
        continue;
      }
      let end = start + threshold - 1;
      while (end + 1 < group.length && times[end + 1] - times[end + 1 - threshold + 1] <= windowMs) {
        end += 1;
      }
      clusters.push(group.slice(start, end + 1));
      start = end + 1;
    }
  }
  return clusters;
}
