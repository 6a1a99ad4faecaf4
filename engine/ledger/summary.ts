import { actorIdentity } from './actor.js';
import { isEntryRead, operationOf } from './filter.js';
import type { LedgerRecord } from './types.js';

/** Counts for `audit summary`: who did what to which target, and what went wrong. */
export interface LedgerSummary {
  since: string;
  until: string;
  /** Records in the period, the ledger's own bookkeeping records excluded. */
  events: number;
  byActor: Record<string, number>;
  byOperation: Record<string, number>;
  byTarget: Record<string, number>;
  byKind: Record<string, number>;
  applies: { changes: number; failed: number; rolledBack: number; failedSeqs: number[] };
  drift: { found: number; byTarget: Record<string, number>; seqs: number[] };
  /** `reads` counts reads of entries only. Unlocks and listings are counted apart. */
  vault: {
    reads: number;
    writes: number;
    unlocks: number;
    failedUnlocks: number;
    readsByEntry: Record<string, number>;
    readsByActor: Record<string, number>;
  };
}

const FAILED = new Set(['failed', 'error']);

export function summarize(records: Iterable<LedgerRecord>, since: Date, until: Date): LedgerSummary {
  const summary: LedgerSummary = {
    since: since.toISOString(),
    until: until.toISOString(),
    events: 0,
    byActor: {},
    byOperation: {},
    byTarget: {},
    byKind: {},
    applies: { changes: 0, failed: 0, rolledBack: 0, failedSeqs: [] },
    drift: { found: 0, byTarget: {}, seqs: [] },
    vault: { reads: 0, writes: 0, unlocks: 0, failedUnlocks: 0, readsByEntry: {}, readsByActor: {} },
  };

  for (const record of records) {
    const time = Date.parse(record.time);
    if (time < since.getTime() || time > until.getTime() || record.kind.startsWith('ledger.')) {
      continue;
    }

    const actor = actorIdentity(record.actor);
    summary.events += 1;
    increment(summary.byActor, actor);
    increment(summary.byOperation, operationOf(record));
    increment(summary.byKind, record.kind);
    if (record.target) {
      increment(summary.byTarget, record.target);
    }

    switch (record.kind) {
      case 'apply.change':
        summary.applies.changes += 1;
        if (FAILED.has(record.outcome ?? '')) {
          summary.applies.failed += 1;
          summary.applies.failedSeqs.push(record.seq);
        } else if (record.outcome === 'rolled-back') {
          summary.applies.rolledBack += 1;
        }
        break;
      case 'plan.drift':
        summary.drift.found += 1;
        summary.drift.seqs.push(record.seq);
        increment(summary.drift.byTarget, record.target ?? '(none)');
        break;
      case 'vault.read':
        if (isEntryRead(record)) {
          summary.vault.reads += 1;
          increment(summary.vault.readsByEntry, record.target ?? `vault:${String(record.details.entry)}`);
          increment(summary.vault.readsByActor, actor);
        } else if (record.details.operation === 'unlock') {
          summary.vault.unlocks += 1;
        } else if (record.details.operation === 'unlock-failed') {
          summary.vault.failedUnlocks += 1;
        }
        break;
      case 'vault.write':
        summary.vault.writes += 1;
        break;
      default:
        break;
    }
  }
  return summary;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
