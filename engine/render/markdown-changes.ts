import { displayName } from '../model/names.js';
import type { PlannedChange } from '../plan/types.js';
import { changeDetails } from './details.js';
import { AFTER_COMMIT_HEADING, groupByDatabase, type ChangeGroup } from './groups.js';
import { codeBlock, codeSpan, collapsed, escapeText } from './markdown-escape.js';
import { plural } from './summary.js';
import { statementLines } from './statements.js';

/** Groups with more changes than this are collapsed, so a large plan stays scannable. */
export const COLLAPSE_AFTER = 20;

function renderChange(planned: PlannedChange): string[] {
  const lines = [`- ${codeSpan(planned.symbol)} ${codeSpan(planned.address)}`];
  for (const detail of changeDetails(planned.change)) {
    const show = detail.prose ? escapeText : codeSpan;
    const value = detail.before === undefined ? show(detail.value) : `${show(detail.before)} → ${show(detail.value)}`;
    lines.push(`  - ${detail.label}: ${value}`);
  }
  return lines;
}

/** Collects the statements of a group in one SQL block, each change introduced by its address as a comment. */
function renderSql(group: ChangeGroup): string[] {
  const sql: string[] = [];
  let statements = 0;
  for (const planned of group.changes) {
    if (planned.statements.length === 0) continue;
    statements += planned.statements.length;
    // Addresses are one line: printable() in codeBlock turns any newline in a name into `\n`.
    sql.push(`-- ${planned.address}`, ...statementLines(planned));
  }
  if (statements === 0) return [];
  return ['', ...collapsed(`SQL (${plural(statements, 'statement')})`, codeBlock('sql', sql))];
}

function renderGroup(group: ChangeGroup, withSql: boolean): string[] {
  const heading = group.afterCommit
    ? `**${AFTER_COMMIT_HEADING}**`
    : group.database === null
      ? '**Cluster-wide**'
      : `**Database ${codeSpan(displayName(group.database))}**`;
  const list = group.changes.flatMap(renderChange);
  const body = group.changes.length > COLLAPSE_AFTER ? collapsed(`Show ${plural(group.changes.length, 'change')}`, list) : list;
  return ['', heading, '', ...body, ...(withSql ? renderSql(group) : [])];
}

/** Renders changes grouped by database, cluster-wide first, with each group's SQL collapsed when `withSql` is set. */
export function renderChangeGroups(changes: readonly PlannedChange[], withSql: boolean): string[] {
  return groupByDatabase(changes).flatMap((group) => renderGroup(group, withSql));
}
