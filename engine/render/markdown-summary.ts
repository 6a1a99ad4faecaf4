import type { Diagnostic, Severity } from '../diagnostics.js';
import type { Plan } from '../plan/types.js';
import { bySeverity, countChanges } from './groups.js';
import { codeSpan, escapeText } from './markdown-escape.js';
import { plural } from './summary.js';

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

/**
 * Builds the summary table with one row per target. Cells use escapeText, not code spans,
 * because GFM splits table cells on `|` even inside code spans.
 */
export function summaryTable(plan: Plan): string[] {
  const rows = plan.targets.map((target) => {
    const counts = countChanges(target);
    const cells = [
      escapeText(target.name),
      escapeText(target.engine),
      counts.create,
      counts.update,
      counts.delete,
      diagnosticCounts(target.diagnostics),
    ];
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

/** Lists diagnostics errors first, each with its position and fix. */
export function diagnosticList(diagnostics: readonly Diagnostic[]): string[] {
  return bySeverity(diagnostics).flatMap(renderDiagnostic);
}
