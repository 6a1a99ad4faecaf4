import type { PlannedChange } from '../plan/types.js';
import type { Paint, Style } from './ansi.js';
import { changeDetails } from './details.js';
import { printable } from './printable.js';
import { statementLines } from './statements.js';

const SYMBOL_STYLE: Record<PlannedChange['symbol'], Style> = { '+': 'green', '~': 'yellow', '-': 'red' };

/** Marks a destructive change in words, so that it is visible without colour too. */
export const DESTRUCTIVE_TAG = '(destructive)';

/**
 * Renders one change as Terraform does: `  + address`, its details indented under it as
 * `label: value` or `label: before -> after`, and with `showSql` its statements.
 */
export function renderTextChange(planned: PlannedChange, paint: Paint, showSql: boolean): string[] {
  const symbol = paint(SYMBOL_STYLE[planned.symbol] ?? 'bold', planned.symbol);
  const tag = planned.destructive ? ` ${paint('red', DESTRUCTIVE_TAG)}` : '';
  const lines = [`  ${symbol} ${printable(planned.address)}${tag}`];

  for (const detail of changeDetails(planned.change)) {
    const value = detail.before === undefined ? printable(detail.value) : `${printable(detail.before)} -> ${printable(detail.value)}`;
    lines.push(`      ${detail.label}: ${value}`);
  }

  if (showSql && planned.statements.length > 0) {
    lines.push('      sql:');
    for (const line of statementLines(planned)) lines.push(`        ${printable(line)}`);
  }
  return lines;
}
