import { displayName } from '../model/names.js';
import type { Plan, TargetPlan } from '../plan/types.js';
import { credentialLines } from './credentials.js';
import { renderChangeGroups } from './markdown-changes.js';
import { codeSpan, escapeText } from './markdown-escape.js';
import { diagnosticList, summaryTable } from './markdown-summary.js';
import { summaryLines, unmanagedRolesSentence } from './summary.js';

/** GitHub rejects a comment body longer than this with "Body is too long (maximum is 65536 characters)". */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface MarkdownOptions {
  /** Maximum output length in UTF-16 code units before detail is left out; defaults to GitHub's comment limit. */
  maxLength?: number;
}

/**
 * How much of each target a rendering shows. A plan too long for one comment is rendered again
 * with less: first without SQL, then with only the destructive changes, then with counts only.
 */
const DETAIL_LEVELS = ['full', 'no_sql', 'destructive_only', 'counts_only'] as const;
type Detail = (typeof DETAIL_LEVELS)[number];

const LEFT_OUT: Record<Detail, string | null> = {
  full: null,
  no_sql: 'The SQL is left out so that this comment fits the size limit. Run `aishell plan --show-sql` to see it.',
  destructive_only: 'Only the destructive changes are listed so that this comment fits the size limit. Run `aishell plan` to see every change.',
  counts_only: 'The changes are left out so that this comment fits the size limit. Run `aishell plan` to see them.',
};

function renderTarget(target: TargetPlan, detail: Detail): string[] {
  const lines = ['', `### Target ${codeSpan(target.name)}`, ''];
  const databases = target.databases.map((name) => codeSpan(displayName(name))).join(', ');
  lines.push(`${escapeText(target.engine)} at ${codeSpan(target.url)}${databases ? `, databases ${databases}` : ''}`);

  if (target.diagnostics.length > 0) lines.push('', '#### Diagnostics', '', ...diagnosticList(target.diagnostics));

  const withSql = detail === 'full';
  const destructive = target.changes.filter((planned) => planned.destructive);
  const other = target.changes.filter((planned) => !planned.destructive);
  if (destructive.length > 0 && detail !== 'counts_only') {
    lines.push('', `#### ⚠️ Destructive changes (${destructive.length})`, ...renderChangeGroups(destructive, withSql));
  }
  if (other.length > 0 && (detail === 'full' || detail === 'no_sql')) {
    const heading = destructive.length > 0 ? 'Other changes' : 'Changes';
    lines.push('', `#### ${heading} (${other.length})`, ...renderChangeGroups(other, withSql));
  }
  if (target.changes.length === 0) lines.push('', 'No changes for this target.');

  if (target.unmanagedRoles.length > 0) {
    lines.push('', `${unmanagedRolesSentence(target.unmanagedRoles, (name) => codeSpan(displayName(name)))}.`);
  }
  return lines;
}

function renderAtDetail(plan: Plan, detail: Detail): string {
  const lines = ['## aishell plan'];
  for (const line of summaryLines(plan)) lines.push('', line.kind === 'changes' ? `**${line.text}**` : line.text);

  const leftOut = LEFT_OUT[detail];
  if (leftOut) lines.push('', `> ${leftOut}`);

  if (plan.targets.length > 0) lines.push('', ...summaryTable(plan));
  const credentials = plan.credentials ?? [];
  if (credentials.length > 0) {
    lines.push('', '### Vault credentials', '', ...credentialLines(credentials, codeSpan).map((line) => `- ${line}`));
  }
  for (const target of plan.targets) lines.push(...renderTarget(target, detail));
  return `${lines.join('\n')}\n`;
}

/**
 * Renders a plan for a pull-request comment: a title, the summary and a table with one row per
 * target. Each target follows with its diagnostics, its destructive changes under a warning
 * heading, then its other changes, grouped by database with the SQL of each group collapsed.
 * Groups of more than 20 changes are collapsed too. A plan longer than `maxLength` is shown with
 * less detail.
 */
// NOTE: the counts-only form grows with the number of targets and unmanaged roles, so a plan of
// thousands of targets can still exceed the limit.
export function renderMarkdown(plan: Plan, options: MarkdownOptions = {}): string {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_LIMIT;
  let rendered = '';
  for (const detail of DETAIL_LEVELS) {
    rendered = renderAtDetail(plan, detail);
    if (rendered.length <= maxLength) return rendered;
  }
  return rendered;
}
