import type { Diagnostic, Severity } from '../diagnostics.js';
import type { PlannedChange, PlanSummary, TargetPlan } from '../plan/types.js';

/**
 * The changes of one target that run in one database, or the cluster-wide ones (database null).
 * `afterCommit` marks the separate last step of server settings, which apply runs after every
 * transaction has committed and follows with a configuration reload.
 */
export interface ChangeGroup {
  database: string | null;
  changes: PlannedChange[];
  afterCommit?: true;
}

/** Heading words of the server settings step, shared by the text and Markdown plans. */
export const AFTER_COMMIT_HEADING = 'Server settings (ALTER SYSTEM after the transactions commit, then a configuration reload)';

/**
 * Groups changes by the database they run in, cluster-wide changes first and then databases in
 * the order their first change appears, and server settings last as their own step. Within a
 * group the plan's order is kept, because it is the order apply runs them in.
 */
export function groupByDatabase(changes: readonly PlannedChange[]): ChangeGroup[] {
  const groups = new Map<string | null, PlannedChange[]>();
  groups.set(null, []);
  const afterCommit: PlannedChange[] = [];
  for (const planned of changes) {
    if (planned.statements.length > 0 && planned.statements.every((statement) => statement.outsideTransaction)) {
      afterCommit.push(planned);
      continue;
    }
    const database = planned.change.database;
    const group = groups.get(database) ?? [];
    group.push(planned);
    groups.set(database, group);
  }
  const grouped: ChangeGroup[] = [...groups].map(([database, each]) => ({ database, changes: each }));
  if (afterCommit.length > 0) grouped.push({ database: null, changes: afterCommit, afterCommit: true });
  return grouped.filter((group) => group.changes.length > 0);
}

/** Counts the changes of one target by action. */
export function countChanges(target: TargetPlan): PlanSummary {
  const counts: PlanSummary = { create: 0, update: 0, delete: 0 };
  for (const planned of target.changes) counts[planned.action] += 1;
  return counts;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Sorts diagnostics errors first, then warnings, then information, keeping their order otherwise. */
export function bySeverity(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

export function countErrors(targets: readonly TargetPlan[]): number {
  let errors = 0;
  for (const target of targets) errors += target.diagnostics.filter((each) => each.severity === 'error').length;
  return errors;
}
