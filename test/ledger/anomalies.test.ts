import { describe, expect, it } from 'vitest';

import { findAnomalies } from '../../engine/ledger/anomalies.js';
import { summarize } from '../../engine/ledger/summary.js';
import type { LedgerRecord, LedgerRecordInput } from '../../engine/ledger/index.js';
import { alterRoleChange, grantChange, recordedApply } from './helpers.js';

const SINCE = new Date('2026-11-01T00:00:00Z');

/** Builds records as the ledger stores them, for the pure rule functions. */
class Stream {
  readonly records: LedgerRecord[] = [];

  add(time: string, user: string, input: LedgerRecordInput, run = `run-${time}-${user}`): number {
    const seq = this.records.length;
    this.records.push({
      v: 1,
      seq,
      time: new Date(time).toISOString(),
      prev: '0'.repeat(64),
      actor: { user, host: 'ci-1' },
      run,
      details: {},
      ...input,
    } as LedgerRecord);
    return seq;
  }

  /** Adds a quiet history: alice applies grants on weekdays at 10:00 UTC in October. */
  baseline(): this {
    for (let day = 1; day <= 20; day += 1) {
      const date = new Date(Date.UTC(2026, 9, day, 10));
      if (date.getUTCDay() === 0 || date.getUTCDay() === 6) {
        continue;
      }
      this.add(date.toISOString(), 'alice', change('grant SELECT on table public.a to app'));
    }
    return this;
  }
}

/** Builds an apply.change record with the details apply writes, its change kind taken from the first word. */
function change(description: string, outcome = 'ok', statements: string[] = []): LedgerRecordInput {
  const verb = description.split(' ')[0];
  const kind = verb === 'alter' ? 'alter_role' : verb;
  return { kind: 'apply.change', target: 'prod/app', address: `prod/app: ${description}`, details: { change: kind, destructive: kind === 'revoke', statements }, outcome };
}

function rules(stream: Stream) {
  return findAnomalies(stream.records, { since: SINCE }).map((finding) => ({ rule: finding.rule, seqs: finding.seqs }));
}

describe('anomaly rules', () => {
  it('find nothing in a quiet stream', () => {
    const stream = new Stream().baseline();
    stream.add('2026-11-03T09:00:00Z', 'alice', change('grant SELECT on table public.b to app'));
    stream.add('2026-11-04T15:30:00Z', 'alice', { kind: 'vault.read', target: 'vault:db', details: { entry: 'db' }, outcome: 'ok' });
    stream.add('2026-11-05T11:00:00Z', 'alice', change('revoke SELECT on table public.b from app'));
    stream.add('2026-11-06T11:00:00Z', 'alice', change('alter role app NOSUPERUSER', 'ok', ['ALTER ROLE app NOSUPERUSER']));
    expect(rules(stream)).toEqual([]);
  });

  it('flag applies outside working hours', () => {
    const stream = new Stream().baseline();
    const saturday = stream.add('2026-11-07T11:00:00Z', 'alice', change('grant SELECT on table public.c to app'), 'weekend');
    const night = stream.add('2026-11-10T02:00:00Z', 'alice', change('grant SELECT on table public.d to app'), 'night');
    stream.add('2026-11-10T02:00:01Z', 'alice', { kind: 'vault.read', target: 'vault:db', details: {}, outcome: 'ok' }, 'night');
    expect(rules(stream)).toEqual([
      { rule: 'off-hours-apply', seqs: [saturday] },
      { rule: 'off-hours-apply', seqs: [night] },
    ]);

    // The same night apply is inside working hours in a zone 12 hours ahead.
    const tokyo = findAnomalies(stream.records, { since: SINCE, timeZone: 'Asia/Tokyo' }).map((finding) => finding.seqs);
    expect(tokyo).toEqual([[saturday]]);
  });

  it('flag an actor never seen before', () => {
    const stream = new Stream().baseline();
    const first = stream.add('2026-11-03T10:00:00Z', 'mallory', change('grant SELECT on table public.e to app'));
    const second = stream.add('2026-11-03T10:05:00Z', 'mallory', { kind: 'vault.read', target: 'vault:db', details: {}, outcome: 'ok' });
    expect(rules(stream)).toEqual([{ rule: 'new-actor', seqs: [first, second] }]);

    // Without history no actor counts as new.
    const fresh = new Stream();
    fresh.add('2026-11-03T10:00:00Z', 'mallory', change('grant SELECT on table public.e to app'));
    expect(rules(fresh)).toEqual([]);
  });

  it('flag superuser and ALL grants', () => {
    const stream = new Stream().baseline();
    const superuser = stream.add('2026-11-03T10:00:00Z', 'alice', change('alter role ops', 'ok', ['ALTER ROLE ops WITH SUPERUSER']));
    const all = stream.add('2026-11-03T10:01:00Z', 'alice', change('grant ALL on table public.f to app', 'ok', ['GRANT ALL PRIVILEGES ON TABLE public.f TO app']));
    const rds = stream.add('2026-11-03T10:02:00Z', 'alice', change('grant role rds_superuser to ops', 'ok', ['GRANT rds_superuser TO ops']));
    stream.add('2026-11-03T10:03:00Z', 'alice', change('grant ALL on table public.g to app', 'failed', ['GRANT ALL ON TABLE public.g TO app']));
    expect(rules(stream)).toEqual([
      { rule: 'privileged-grant', seqs: [superuser] },
      { rule: 'privileged-grant', seqs: [all] },
      { rule: 'privileged-grant', seqs: [rds] },
    ]);
  });

  it('flag ALL expanded into one grant per privilege', () => {
    const stream = new Stream().baseline();
    const table = { kind: 'table' as const, schema: 'public', name: 'orders' };
    const privileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
    // Apply writes one record per privilege, so no record contains ALL.
    const all = recordedApply('prod/app', privileges.map((privilege) => grantChange('prod/app', privilege, table, 'app')))
      .filter((record) => record.kind === 'apply.change')
      .map((record) => stream.add('2026-11-03T10:00:00Z', 'alice', record, 'all'));
    // Six of seven privileges, and all seven split over two grantees, are not ALL.
    for (const privilege of privileges.slice(1)) {
      stream.add('2026-11-04T10:00:00Z', 'alice', recordedApply('prod/app', [grantChange('prod/app', privilege, table, 'batch')])[0], 'some');
    }
    privileges.forEach((privilege, index) =>
      stream.add('2026-11-05T10:00:00Z', 'alice', recordedApply('prod/app', [grantChange('prod/app', privilege, table, index % 2 ? 'a' : 'b')])[0], 'split'),
    );

    const findings = findAnomalies(stream.records, { since: SINCE });
    expect(findings.map((finding) => ({ rule: finding.rule, seqs: finding.seqs }))).toEqual([{ rule: 'privileged-grant', seqs: all }]);
    expect(findings[0].message).toContain('ALL privileges granted, as 7 grants in one command: prod/app/app: grant ALL on table public.orders to app');
  });

  it('flag a superuser attribute as apply records it', () => {
    const stream = new Stream().baseline();
    const [granted] = recordedApply('prod/app', [alterRoleChange('prod/app', 'ops', { superuser: true })]);
    const [removed] = recordedApply('prod/app', [alterRoleChange('prod/app', 'ops', { superuser: false })]);
    const seq = stream.add('2026-11-03T10:00:00Z', 'alice', granted);
    stream.add('2026-11-03T11:00:00Z', 'alice', removed);
    expect(rules(stream)).toEqual([{ rule: 'privileged-grant', seqs: [seq] }]);
  });

  it('flag mass revokes in one command only', () => {
    const stream = new Stream().baseline();
    const revokes = Array.from({ length: 12 }, (_, index) =>
      stream.add(`2026-11-03T10:00:${String(index).padStart(2, '0')}Z`, 'alice', change(`revoke SELECT on table public.t${index} from app`), 'big'),
    );
    for (let index = 0; index < 9; index += 1) {
      stream.add(`2026-11-04T10:00:${String(index).padStart(2, '0')}Z`, 'alice', change(`revoke SELECT on table public.u${index} from app`), 'small');
    }
    expect(rules(stream)).toEqual([{ rule: 'mass-revoke', seqs: revokes }]);
  });

  it('flag repeated failures within an hour', () => {
    const stream = new Stream().baseline();
    const failures = ['10:00', '10:20', '10:40', '10:55'].map((time) =>
      stream.add(`2026-11-03T${time}:00Z`, 'alice', change('grant SELECT on table public.h to app', 'failed')),
    );
    ['09:00', '12:00', '15:00'].forEach((time) =>
      stream.add(`2026-11-04T${time}:00Z`, 'alice', change('grant SELECT on table public.i to app', 'failed')),
    );
    expect(rules(stream)).toEqual([{ rule: 'repeated-failures', seqs: failures }]);
  });

  it('flag bursts of vault reads', () => {
    const stream = new Stream().baseline();
    const burst = Array.from({ length: 25 }, (_, index) =>
      stream.add(new Date(Date.parse('2026-11-03T10:00:00Z') + index * 4000).toISOString(), 'alice', {
        kind: 'vault.read',
        target: `vault:secret-${index % 7}`,
        details: {},
        outcome: 'ok',
      }),
    );
    for (let index = 0; index < 19; index += 1) {
      stream.add(new Date(Date.parse('2026-11-04T10:00:00Z') + index * 4000).toISOString(), 'alice', { kind: 'vault.read', target: 'vault:db', details: {}, outcome: 'ok' });
    }
    const findings = findAnomalies(stream.records, { since: SINCE });
    expect(findings.map((finding) => ({ rule: finding.rule, seqs: finding.seqs }))).toEqual([{ rule: 'vault-read-burst', seqs: burst }]);
    expect(findings[0].message).toContain('25 vault reads of 7 entries');
  });

  it('count only entry reads toward a burst', () => {
    const stream = new Stream().baseline();
    // Every command unlocks the vault and may list it; apply records those as vault.read too.
    for (let index = 0; index < 30; index += 1) {
      const time = new Date(Date.parse('2026-11-03T10:00:00Z') + index * 4000).toISOString();
      const operation = index % 3 === 0 ? 'list' : 'unlock';
      stream.add(time, 'alice', { kind: 'vault.read', target: 'vault', details: { operation }, outcome: 'ok' });
    }
    for (let index = 0; index < 5; index += 1) {
      stream.add(new Date(Date.parse('2026-11-03T10:00:00Z') + index * 1000).toISOString(), 'alice', {
        kind: 'vault.read',
        target: 'vault:db',
        details: { operation: 'read' },
        outcome: 'ok',
      });
    }
    expect(rules(stream)).toEqual([]);
  });
});

describe('summary counts', () => {
  it('equal counts made by hand', () => {
    const stream = new Stream().baseline();
    stream.add('2026-11-03T10:00:00Z', 'alice', change('grant SELECT on table public.a to app', 'failed'));
    stream.add('2026-11-03T10:01:00Z', 'bob', change('revoke SELECT on table public.a from app', 'rolled-back'));
    stream.add('2026-11-03T10:02:00Z', 'bob', { kind: 'plan.drift', target: 'stage/app', details: { operation: 'grant' }, outcome: 'found' });
    stream.add('2026-11-03T10:03:00Z', 'bob', { kind: 'vault.read', target: 'vault:db', details: {}, outcome: 'ok' });
    stream.add('2026-11-03T10:04:00Z', 'bob', { kind: 'vault.write', target: 'vault:db', details: {}, outcome: 'ok' });

    const summary = summarize(stream.records, SINCE, new Date('2026-12-01T00:00:00Z'));
    const inPeriod = stream.records.filter((record) => Date.parse(record.time) >= SINCE.getTime());
    expect(summary.events).toBe(inPeriod.length);
    expect(summary.byActor).toEqual({ 'alice@ci-1': 1, 'bob@ci-1': 4 });
    expect(summary.byTarget).toEqual({ 'prod/app': 2, 'stage/app': 1, 'vault:db': 2 });
    expect(summary.applies).toEqual({ changes: 2, failed: 1, rolledBack: 1, failedSeqs: [inPeriod[0].seq] });
    expect(summary.drift).toMatchObject({ found: 1, byTarget: { 'stage/app': 1 } });
    expect(summary.vault).toEqual({ reads: 1, writes: 1, unlocks: 0, failedUnlocks: 0, readsByEntry: { 'vault:db': 1 }, readsByActor: { 'bob@ci-1': 1 } });
  });
});
