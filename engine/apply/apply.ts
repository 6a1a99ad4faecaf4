import { formatDiagnostic } from '../diagnostics.js';
import { connectTarget, fingerprintScope, planTarget, type PlanContext } from '../plan/build.js';
import { fingerprint } from '../plan/fingerprint.js';
import type { Plan, TargetPlan } from '../plan/types.js';
import { ServerSettingError, type PlannedStatement, type ProviderSession } from '../provider.js';
import type { Change } from '../diff/changes.js';

/**
 * A plan whose changes differ from what the configuration and the unchanged live state produce
 * now: the plan file was edited, or security.yaml changed since the plan was made.
 */
export class PlanMismatchError extends Error {
  constructor(readonly target: string) {
    super(
      `the plan's changes for target ${target} are not the ones that security.yaml and the live state produce now, so the plan file was edited or the configuration changed since; nothing was applied\n  fix: run aishell plan --out again and review the new plan`,
    );
    this.name = 'PlanMismatchError';
  }
}

/** A target whose live state no longer matches the state its plan was computed from. */
export class StalePlanError extends Error {
  constructor(readonly target: string) {
    super(
      `target ${target} has changed since the plan was made, so the plan no longer describes what apply would do; nothing was applied\n  fix: run aishell plan again and review the new plan`,
    );
    this.name = 'StalePlanError';
  }
}

export interface AppliedTarget {
  target: string;
  changes: Change[];
  statements: { change: Change; statement: PlannedStatement }[];
  /** A server setting that failed after the transactions committed; the changes before it stay. */
  failure?: { address: string; message: string };
  /** Addresses that a plan made right after the commit still shows; empty when apply converged. */
  remaining: string[];
}

export interface ApplyHooks {
  /** Called after each target commits, with the statements that ran (secrets masked). */
  onTargetApplied?: (applied: AppliedTarget) => Promise<void> | void;
}

/**
 * Applies a plan. Every target with changes is locked and re-inspected first; if any target's
 * fingerprint differs from the plan's, nothing is applied anywhere. Then each target runs its
 * changes in one transaction per database.
 */
export async function applyPlan(context: PlanContext, plan: Plan, hooks: ApplyHooks = {}): Promise<AppliedTarget[]> {
  const pending = plan.targets.filter((target) => target.changes.length > 0);
  const sessions = new Map<string, ProviderSession>();
  const applied: AppliedTarget[] = [];

  try {
    for (const target of pending) {
      const session = await connectTarget(context, target.name);
      sessions.set(target.name, session);
      await session.lock();
      await checkFresh(context, target, session);
    }

    for (const target of pending) {
      const session = sessions.get(target.name)!;
      const changes = target.changes.map((planned) => planned.change);
      const statements: AppliedTarget['statements'] = [];
      try {
        await session.execute(
          changes,
          (ref) => context.secrets.resolve(ref, `password ${ref.kind}:${ref.name}`),
          (change, statement) => statements.push({ change, statement }),
        );
      } catch (error) {
        // The transactions committed before server settings run, so what ran is still recorded.
        if (error instanceof ServerSettingError) {
          const failure = { address: error.change.address, message: error.serverMessage };
          await hooks.onTargetApplied?.({ target: target.name, changes, statements, failure, remaining: [] });
        }
        throw error;
      }
      // The target is planned once more, so an apply that left differences reports them
      // instead of a success that the next plan would contradict.
      const after = await planTarget(context, target.name, session);
      const result = { target: target.name, changes, statements, remaining: after.plan.changes.map((change) => change.address) };
      applied.push(result);
      await hooks.onTargetApplied?.(result);
    }
  } finally {
    await Promise.allSettled([...sessions.values()].map((session) => session.close()));
  }
  return applied;
}

/**
 * Checks under the apply lock that a target's plan still holds.
 *
 * A plan that this process made moments ago from the same configuration and secrets can only
 * go stale through the live state, so a fresh fingerprint of that state decides. A plan file is
 * planned again: besides a changed fingerprint, changes that differ (an edited file, a changed
 * configuration) and errors that the fresh plan finds stop the apply too. A password resolved
 * now may differ from the one the plan file was checked with, and every password must meet
 * password_policy before anything runs.
 */
async function checkFresh(context: PlanContext, target: TargetPlan, session: ProviderSession): Promise<void> {
  const scope = fingerprintScope(target);
  if (scope) {
    const actual = await session.inspect();
    if (fingerprint(actual, scope.roles, scope.settings) !== target.fingerprint) throw new StalePlanError(target.name);
    return;
  }

  const current = await planTarget(context, target.name, session);
  if (current.plan.fingerprint !== target.fingerprint) throw new StalePlanError(target.name);
  if (comparable(current.plan.changes) !== comparable(target.changes)) throw new PlanMismatchError(target.name);
  const errors = current.plan.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`target ${target.name} has errors now, so nothing was applied:\n${errors.map(formatDiagnostic).join('\n')}`);
  }
}

/**
 * Serialises changes for comparison, leaving out what may differ between two plans of the same
 * state: where a change was declared, and why a password is set.
 */
function comparable(changes: TargetPlan['changes']): string {
  return JSON.stringify(
    changes.map(({ address, change }) => {
      const { source: _source, ...rest } = change as Change & { reason?: unknown };
      if (rest.kind === 'set_password') return { shown: address, ...rest, reason: undefined };
      return { shown: address, ...rest };
    }),
  );
}
