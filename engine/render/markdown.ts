import type { Diagnostic, Severity } from '../diagnostics.js';
import { displayName } from '../model/names.js';
import type { Plan, TargetPlan } from '../plan/types.js';
import { bySeverity, countChanges } from './groups.js';
import { renderChangeGroups } from './markdown-changes.js';
import { codeSpan, escapeText } from './markdown-escape.js';
import { plural, summaryLines, unmanagedRolesSentence } from './summary.js';

const SEVERITY_NAMES: Record<Severity, [string, string]> = {
  error: ['error', 'errors'],
  warning: ['warning', 'warnings'],
  info: ['info', 'info'],
};

/** Counts diagnostics by severity in words, such as `1 error, 2 warnings`, or `none`. */
function diagnosticCounts(diagnostics: readonly Diagnostic[]): string {
  const parts: string[] = [];
  for (const severity of Object.keys(SEVERITY_NAMES) as Severity[]) {
    const count = diagnostics.filter((each) => each.severity === severity).length;
    if (count > 0) parts.push(plural(count, ...SEVERITY_NAMES[severity]));
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}

// Table cells use escapeText, not code spans: GFM splits cells on `|` even inside code spans.
function summaryTable(plan: Plan): string[] {
  const rows = plan.targets.map((target) => {
    const counts = countChanges(target);
    const cells = [escapeText(target.name), escapeText(target.engine), counts.create, counts.update, counts.delete, diagnosticCounts(target.diagnostics)];
    return `| ${cells.join(' | ')} |`;
  });
  return ['| Target | Engine | Create | Update | Delete | Diagnostics |', '| --- | --- | ---: | ---: | ---: | --- |', ...rows];
}

function renderDiagnostic(diagnostic: Diagnostic): string[] {
  const { position } = diagnostic;
  const where = position ? ` ${codeSpan(`${position.file}:${position.line}:${position.column}`)}` : '';
  const lines = [`- **${diagnostic.severity}**${where}: ${escapeText(diagnostic.summary)}`];
  if (diagnostic.fix) lines.push(`  - fix: ${escapeText(diagnostic.fix)}`);
  return lines;
}

function renderTarget(target: TargetPlan): string[] {
  const databases = target.databases.map((name) => codeSpan(displayName(name))).join(', ');
  const lines = ['', `### Target ${codeSpan(target.name)}`, '', `${escapeText(target.engine)} at ${codeSpan(target.url)}`];
  if (databases) lines[lines.length - 1] += `, databases ${databases}`;

  if (target.diagnostics.length > 0) lines.push('', '#### Diagnostics', '', ...bySeverity(target.diagnostics).flatMap(renderDiagnostic));

  const destructive = target.changes.filter((planned) => planned.destructive);
  const other = target.changes.filter((planned) => !planned.destructive);
  if (destructive.length > 0) {
    lines.push('', `#### ⚠️ Destructive changes (${destructive.length})`, ...renderChangeGroups(destructive));
  }
  if (other.length > 0) {
    const heading = destructive.length > 0 ? 'Other changes' : 'Changes';
    lines.push('', `#### ${heading} (${other.length})`, ...renderChangeGroups(other));
  }
  if (target.changes.length === 0) lines.push('', 'No changes for this target.');

  if (target.unmanagedRoles.length > 0) {
    lines.push('', `${unmanagedRolesSentence(target.unmanagedRoles, (name) => codeSpan(displayName(name)))}.`);
  }
  return lines;
}

/**
 * Renders a plan for a pull-request comment: a title, a summary table with one row per target,
 * then per target its diagnostics, its destructive changes under a warning heading, its other
 * changes, and the SQL of each group collapsed. Groups of more than 20 changes are collapsed too.
 */
// NOTE: GitHub rejects comments longer than 65,536 characters; a plan of a few hundred changes
// can exceed that, and this renderer does not cut it short.
export function renderMarkdown(plan: Plan): string {
  const summary = summaryLines(plan).map((line) => (line.kind === 'changes' ? `**${line.text}**` : line.text));
  const lines = ['## aishell plan', '', ...summary.flatMap((line, index) => (index === 0 ? [line] : ['', line]))];
  if (plan.targets.length > 0) lines.push('', ...summaryTable(plan));
  for (const target of plan.targets) lines.push(...renderTarget(target));
  return `${lines.join('\n')}\n`;
}
