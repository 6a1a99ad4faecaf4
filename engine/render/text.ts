import { displayName } from '../model/names.js';
import type { Diagnostic } from '../diagnostics.js';
import type { Plan, TargetPlan } from '../plan/types.js';
import { painter, type Paint, type Style } from './ansi.js';
import { credentialLines } from './credentials.js';
import { AFTER_COMMIT_HEADING, bySeverity, groupByDatabase } from './groups.js';
import { printable } from './printable.js';
import { summaryLines, unmanagedRolesSentence, type SummaryLine } from './summary.js';
import { renderTextChange } from './text-change.js';

export interface TextOptions {
  /** Whether symbols, severities and headings get ANSI colours. The CLI sets it when stdout is a terminal and NO_COLOR is unset. */
  color: boolean;
  /** Whether the statements of each change are printed under it. */
  showSql: boolean;
}

const SUMMARY_STYLE: Record<SummaryLine['kind'], Style> = { no_changes: 'green', changes: 'bold', errors: 'red' };

const SEVERITY_STYLE: Record<Diagnostic['severity'], Style> = { error: 'red', warning: 'yellow', info: 'cyan' };

function renderDiagnostic(diagnostic: Diagnostic, paint: Paint): string[] {
  const position = diagnostic.position
    ? `${printable(diagnostic.position.file)}:${diagnostic.position.line}:${diagnostic.position.column}: `
    : '';
  const severity = paint(SEVERITY_STYLE[diagnostic.severity] ?? 'bold', diagnostic.severity);
  const lines = [`${position}${severity}: ${printable(diagnostic.summary)}`];
  if (diagnostic.fix) lines.push(`  fix: ${printable(diagnostic.fix)}`);
  return lines;
}

/** Renders the section of one target: header, diagnostics, changes by database, unmanaged roles. */
function renderTarget(target: TargetPlan, paint: Paint, showSql: boolean): string[] {
  const lines = [paint('bold', `Target ${printable(target.name)} (${printable(target.engine)})`), `url: ${printable(target.url)}`];
  if (target.databases.length > 0) lines.push(`databases: ${target.databases.map((name) => printable(displayName(name))).join(', ')}`);

  const diagnostics = bySeverity(target.diagnostics);
  if (diagnostics.length > 0) {
    lines.push('');
    for (const diagnostic of diagnostics) lines.push(...renderDiagnostic(diagnostic, paint));
  }

  for (const group of groupByDatabase(target.changes)) {
    const heading = group.afterCommit
      ? `${AFTER_COMMIT_HEADING}:`
      : group.database === null
        ? 'Cluster-wide:'
        : `Database ${printable(displayName(group.database))}:`;
    lines.push('', paint('bold', heading));
    for (const planned of group.changes) lines.push(...renderTextChange(planned, paint, showSql));
  }
  if (target.changes.length === 0) lines.push('', 'No changes for this target.');

  if (target.unmanagedRoles.length > 0) {
    lines.push('', unmanagedRolesSentence(target.unmanagedRoles, (name) => printable(displayName(name))));
  }
  return lines;
}

/**
 * Renders a plan for a terminal in the style of `terraform plan`: one section per target, each
 * change as `+`, `~` or `-` with its address, destructive changes tagged `(destructive)`, and a
 * closing summary line. Passwords appear only as their source, such as `(from env:APP_PW)`.
 */
export function renderText(plan: Plan, options: TextOptions): string {
  const paint = painter(options.color);
  const lines: string[] = [];
  const credentials = plan.credentials ?? [];
  if (credentials.length > 0) {
    lines.push(paint('bold', 'Vault credentials:'), ...credentialLines(credentials, printable).map((line) => `  ${line}`), '');
  }
  for (const target of plan.targets) {
    // A loop, not push(...lines): spreading the lines of 100,000 changes overflows the call stack.
    for (const line of renderTarget(target, paint, options.showSql)) lines.push(line);
    lines.push('');
  }

  for (const line of summaryLines(plan)) lines.push(paint(SUMMARY_STYLE[line.kind], line.text));
  return `${lines.join('\n')}\n`;
}
