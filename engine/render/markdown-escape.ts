import { printable } from './printable.js';

/**
 * Escaping for GitHub Flavored Markdown. Names come from the database and the file, so any of
 * them may contain `|`, `*`, backticks, `<` or a newline. Each helper keeps such a name literal.
 */

/**
 * Characters with a meaning inside a line of GitHub Markdown: emphasis, code, links, HTML, tables,
 * entities, strikethrough and math. A backslash may escape any ASCII punctuation in CommonMark.
 */
const INLINE_SPECIAL = /[\\`*_[\]<>|#~&$]/g;

/** Line starts that would open a list, a heading underline or an ordered list item. */
const BLOCK_START = /^([-+=]|\d+(?=[.)]))/;

function longestRun(text: string, char: string): number {
  let longest = 0;
  let current = 0;
  for (const each of text) {
    current = each === char ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}

/**
 * Escapes text for a paragraph, list item or table cell, so that it shows literally. `|` is
 * escaped too, which keeps a table cell from splitting.
 */
// NOTE: an `@name` in the text still mentions a GitHub user; only code spans and blocks avoid that.
export function escapeText(text: string): string {
  const escaped = printable(text).replace(INLINE_SPECIAL, '\\$&');
  return escaped.replace(BLOCK_START, (start) => (/^\d/.test(start) ? `${start}\\` : `\\${start}`));
}

/**
 * Wraps text in a code span whose backtick fence is longer than any backtick run inside it, with
 * the one-space padding CommonMark strips again when the text starts or ends with a backtick or
 * a space. Not for table cells: GFM splits cells on `|` even inside code spans.
 */
export function codeSpan(text: string): string {
  const content = printable(text);
  const fence = '`'.repeat(longestRun(content, '`') + 1);
  const allSpaces = /^ *$/.test(content);
  const pad = !allSpaces && /^[ `]|[ `]$/.test(content) ? ' ' : '';
  return `${fence}${pad}${content}${pad}${fence}`;
}

/** Escapes text for HTML content, such as the summary of a details element. */
export function escapeHtml(text: string): string {
  return printable(text).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Builds a fenced code block whose fence is longer than any backtick run in the code. */
export function codeBlock(language: string, lines: readonly string[]): string[] {
  const code = lines.map(printable);
  const fence = '`'.repeat(Math.max(3, ...code.map((line) => longestRun(line, '`') + 1)));
  return [`${fence}${language}`, ...code, fence];
}

/** Wraps Markdown lines in a collapsed details element, with blank lines between them and the HTML. */
export function collapsed(summary: string, body: readonly string[]): string[] {
  return [`<details><summary>${escapeHtml(summary)}</summary>`, '', ...body, '', '</details>'];
}
