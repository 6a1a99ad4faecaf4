/**
 * Checks that a declared policy expression is one SQL expression before it is placed inside
 * `USING (…)`, and returns the problem or null. String literals, quoted identifiers, dollar quotes
 * and comments are skipped the way PostgreSQL's lexer reads them. A `;`, or a `)` that would close
 * the surrounding parenthesis, is rejected, so an expression can never end the statement or add
 * clauses to it. The server parses what passes and reports any other syntax error itself.
 */
export function checkExpressionText(text: string): string | null {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    const next = text[i + 1];

    if (char === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      if (end < 0) return 'the expression ends inside a -- comment';
      i = end + 1;
    } else if (char === '/' && next === '*') {
      const end = skipBlockComment(text, i);
      if (end < 0) return 'the expression has an unterminated /* comment';
      i = end;
    } else if (char === "'") {
      const escaped = i > 0 && /[eE]/.test(text[i - 1]) && (i < 2 || !/[A-Za-z0-9_]/.test(text[i - 2]));
      const end = skipQuoted(text, i, "'", escaped);
      if (end < 0) return 'the expression has an unterminated string literal';
      i = end;
    } else if (char === '"') {
      const end = skipQuoted(text, i, '"', false);
      if (end < 0) return 'the expression has an unterminated quoted identifier';
      i = end;
    } else if (char === '$' && (i === 0 || !/[A-Za-z0-9_$]/.test(text[i - 1]))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        if (end < 0) return 'the expression has an unterminated dollar-quoted string';
        i = end + tag[0].length;
      } else {
        i++;
      }
    } else if (char === '(') {
      depth++;
      i++;
    } else if (char === ')') {
      depth--;
      if (depth < 0) return 'the expression has a ")" without a matching "("';
      i++;
    } else if (char === ';') {
      return 'the expression contains ";"; a policy expression is one SQL expression, not statements';
    } else {
      i++;
    }
  }
  if (depth > 0) return 'the expression has a "(" without a matching ")"';
  if (text.trim() === '') return 'the expression is empty';
  return null;
}

/** Returns the index after the closing quote, or -1. A doubled quote is an escaped quote. */
function skipQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    if (backslashEscapes && text[i] === '\\') {
      i += 2;
    } else if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return -1;
}

/** Block comments nest in PostgreSQL. Returns the index after the closing `*\/`, or -1. */
function skipBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}
