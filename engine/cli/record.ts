import type { AppliedTarget } from '../apply/apply.js';
import type { Change } from '../diff/changes.js';
import type { JsonObject, LedgerRecordInput } from '../ledger/types.js';
import type { Plan } from '../plan/types.js';

function ledgerTarget(target: string, change: Change): string {
  return change.database === null ? target : `${target}/${change.database}`;
}

/**
 * Builds one `apply.change` record per change of a target that committed, with its masked
 * statements. After a failed server setting, that change is `failed` and the ones that never ran
 * are `not-run`.
 */
export function appliedRecords(applied: AppliedTarget): LedgerRecordInput[] {
  const statements = new Map<Change, string[]>();
  for (const { change, statement } of applied.statements) {
    statements.set(change, [...(statements.get(change) ?? []), statement.sql]);
  }
  const records: LedgerRecordInput[] = applied.changes.map((change) => {
    const details: JsonObject = { change: change.kind, destructive: change.destructive, statements: statements.get(change) ?? [] };
    let outcome = 'ok';
    if (applied.failure?.address === change.address) {
      outcome = 'failed';
      details.error = applied.failure.message;
    } else if (applied.failure && !statements.has(change)) {
      outcome = 'not-run';
    }
    return { kind: 'apply.change', target: ledgerTarget(applied.target, change), address: change.address, details, outcome };
  });
  const summary: JsonObject = { changes: applied.changes.length };
  if (applied.failure) summary.error = applied.failure.message;
  records.push({ kind: 'apply.summary', target: applied.target, details: summary, outcome: applied.failure ? 'failed' : 'ok' });
  return records;
}

/**
 * Records a target whose apply failed: the failing change, and every other change of that target
 * as rolled back. `failedAddress` is null when the failure came before any statement ran.
 */
export function failedRecords(plan: Plan, target: string, failedAddress: string | null, message: string): LedgerRecordInput[] {
  const planned = plan.targets.find((each) => each.name === target)?.changes ?? [];
  const records: LedgerRecordInput[] = planned.map(({ change }) => {
    const failed = change.address === failedAddress;
    const details: JsonObject = failed ? { change: change.kind, error: message } : { change: change.kind };
    return { kind: 'apply.change', target: ledgerTarget(target, change), address: change.address, details, outcome: failed ? 'failed' : 'rolled-back' };
  });
  records.push({ kind: 'apply.summary', target, details: { changes: planned.length, error: message }, outcome: 'failed' });
  return records;
}

/** Builds one `plan.drift` record per target whose live state differs from the file. */
export function driftRecords(plan: Plan): LedgerRecordInput[] {
  return plan.targets
    .filter((target) => target.changes.length > 0)
    .map((target) => ({
      kind: 'plan.drift',
      target: target.name,
      details: { changes: target.changes.length, addresses: target.changes.slice(0, 1000).map((change) => change.address) },
      outcome: 'found',
    }));
}
