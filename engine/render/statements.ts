import { displayName } from '../model/names.js';
import type { PlannedChange } from '../plan/types.js';

/** Ends a statement with a semicolon, so that a block of statements reads as runnable SQL. */
export function terminated(sql: string): string {
  return /;\s*$/.test(sql) ? sql : `${sql};`;
}

/**
 * Returns the SQL lines of a change, not yet escaped. A comment such as `-- in database app` marks
 * each switch to another database (REASSIGN OWNED of a dropped role runs in each database), and
 * `-- cluster-wide` marks the return to the target's own connection.
 */
export function statementLines(planned: PlannedChange): string[] {
  const lines: string[] = [];
  let current = planned.change.database;
  for (const statement of planned.statements) {
    if (statement.database !== current) {
      lines.push(statement.database === null ? '-- cluster-wide' : `-- in database ${displayName(statement.database)}`);
      current = statement.database;
    }
    lines.push(...terminated(statement.sql).split(/\r?\n/));
  }
  return lines;
}
