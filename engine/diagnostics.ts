import type { SourcePosition } from './config/types.js';

export type Severity = 'error' | 'warning' | 'info';

/**
 * One problem found in a configuration, a plan or an apply. Commands collect diagnostics and
 * report them together; only the CLI entry point turns them into an exit code.
 */
export interface Diagnostic {
  severity: Severity;
  /** One line: what is wrong, naming the value. */
  summary: string;
  /** What to do about it, such as the closest valid key. */
  fix?: string;
  position?: SourcePosition;
}

/** An error that carries diagnostics up to the CLI, which prints them and exits with 1. */
export class DiagnosticError extends Error {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'DiagnosticError';
    this.diagnostics = diagnostics;
  }
}

/** Formats a diagnostic as `file:line:column: error: summary` followed by its fix. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = diagnostic.position
    ? `${diagnostic.position.file}:${diagnostic.position.line}:${diagnostic.position.column}: `
    : '';
  const fix = diagnostic.fix ? `\n  fix: ${diagnostic.fix}` : '';
  return `${where}${diagnostic.severity}: ${diagnostic.summary}${fix}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
