import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { codeBlock, codeSpan, escapeHtml, escapeText } from '../../engine/render/markdown-escape.js';
import { printable } from '../../engine/render/printable.js';

const parser = new MarkdownIt({ html: true });

/** Parses the first paragraph into tokens, as a pull-request page would. */
function paragraph(markdown: string) {
  const inline = parser.parse(markdown, {}).find((token) => token.type === 'inline');
  return inline?.children ?? [];
}

/** Returns the text a reader sees in a paragraph, with code spans as their content. */
function visibleText(markdown: string): string {
  return paragraph(markdown)
    .map((token) => token.content)
    .join('');
}

const HARD_NAMES = [
  'plain',
  'with space',
  '`leading',
  'trailing`',
  ' padded ',
  'a``b',
  '`',
  '*star* _under_ **bold**',
  '<b>html</b> &amp;',
  'pipe|name',
  '# heading',
  '- list',
  '1. ordered',
  '[link](http://x)',
  '~~strike~~',
  '$x^2$',
  'back\\slash',
];

describe('codeSpan', () => {
  it.each(HARD_NAMES)('keeps %j literal', (name) => {
    const tokens = paragraph(`see ${codeSpan(name)} here`);
    const spans = tokens.filter((token) => token.type === 'code_inline');

    expect(spans).toHaveLength(1);
    expect(spans[0].content).toBe(name);
  });

  it('keeps a name of spaces only', () => {
    const spans = paragraph(`x ${codeSpan('  ')} y`).filter((token) => token.type === 'code_inline');
    expect(spans.map((token) => token.content)).toEqual(['  ']);
  });

  it('turns a newline into a visible escape', () => {
    expect(codeSpan('a\nb')).toBe('`a\\nb`');
  });
});

describe('escapeText', () => {
  it.each(HARD_NAMES)('shows %j as written', (text) => {
    expect(visibleText(`x ${escapeText(text)} y`)).toBe(`x ${text} y`);
  });

  it.each(['- list', '+ list', '1. ordered', '2) ordered', '# heading', '> quote', '=', '<div>'])('keeps %j a paragraph at a line start', (text) => {
    const tokens = parser.parse(escapeText(text), {});
    expect(tokens.map((token) => token.type)).toEqual(['paragraph_open', 'inline', 'paragraph_close']);
    expect(tokens[1].content.length).toBeGreaterThan(0);
    expect(visibleText(escapeText(text))).toBe(text);
  });

  it('keeps a table cell whole', () => {
    const tokens = parser.parse(`| a | b |\n| --- | --- |\n| ${escapeText('x|y\\|z')} | 2 |\n`, {});
    const cells = tokens.filter((token) => token.type === 'inline').map((token) => token.children!.map((child) => child.content).join(''));
    expect(cells).toEqual(['a', 'b', 'x|y\\|z', '2']);
  });
});

describe('escapeHtml', () => {
  it('escapes markup characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});

describe('codeBlock', () => {
  it('uses a fence longer than any backtick run', () => {
    expect(codeBlock('sql', ['SELECT 1', 'SELECT "````"'])).toEqual(['`````sql', 'SELECT 1', 'SELECT "````"', '`````']);
  });

  it('uses three backticks for plain code', () => {
    expect(codeBlock('sql', ['SELECT 1'])).toEqual(['```sql', 'SELECT 1', '```']);
  });
});

describe('printable', () => {
  it.each([
    ['\u001b[31m', '\\x1b[31m'],
    ['a\nb\r\tc', 'a\\nb\\r\\tc'],
    ['\u009b2J', '\\x9b2J'],
    ['admin\u202egnp.exe', 'admin\\u202egnp.exe'],
    ['\u0000', '\\x00'],
    ['Grüße 日本', 'Grüße 日本'],
  ])('writes %j as %j', (input, expected) => {
    expect(printable(input)).toBe(expected);
  });
});
