import type { Plan } from '../plan/types.js';
import { countErrors } from './groups.js';

/** Unmanaged role names shown before the list is cut short with "and N more". */
export const UNMANAGED_ROLES_SHOWN = 10;

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** One closing line of a plan; `kind` lets each format choose its emphasis. */
export interface SummaryLine {
  kind: 'no_changes' | 'changes' | 'errors';
  text: string;
}

/**
 * Builds the closing lines of a plan: the change counts in Terraform's words, or that nothing changes,
 * and a reminder when errors were found, because a target with errors may be missing changes.
 */
export function summaryLines(plan: Plan): SummaryLine[] {
  const { create, update, delete: destroy } = plan.summary;
  const errors = countErrors(plan.targets);
  const found = `${plural(errors, 'error')} ${errors === 1 ? 'was' : 'were'} found`;
  const fix = errors === 1 ? 'Fix it and plan again.' : 'Fix them and plan again.';

  const credentials = plan.credentials?.length ?? 0;
  if (create + update + destroy === 0) {
    if (errors === 0 && credentials > 0) {
      return [{ kind: 'changes', text: `The databases match the configuration; apply changes ${plural(credentials, 'vault credential')}.` }];
    }
    if (errors === 0) return [{ kind: 'no_changes', text: 'No changes. The databases match the configuration.' }];
    return [{ kind: 'errors', text: `No changes are planned, but ${found}. ${fix}` }];
  }

  const lines: SummaryLine[] = [{ kind: 'changes', text: `Plan: ${create} to add, ${update} to change, ${destroy} to destroy.` }];
  if (errors > 0) lines.push({ kind: 'errors', text: `${found}, so the plan may be incomplete. ${fix}` });
  return lines;
}

/**
 * Builds the one line that lists roles the file does not declare. `formatName` shows one name in the
 * output format; long lists end with "and N more".
 */
export function unmanagedRolesSentence(roles: readonly string[], formatName: (name: string) => string): string {
  const shown = roles.slice(0, UNMANAGED_ROLES_SHOWN).map(formatName);
  const hidden = roles.length - shown.length;
  const list = hidden > 0 ? `${shown.join(', ')} and ${hidden} more` : shown.join(', ');
  const verb = roles.length === 1 ? 'role exists that the file does not declare and is' : 'roles exist that the file does not declare and are';
  return `${roles.length} ${verb} left alone: ${list}`;
}
