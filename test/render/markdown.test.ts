import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../engine/diff/changes.js';
import { grantAddress } from '../../engine/diff/addresses.js';
import type { Grant } from '../../engine/model/types.js';
import { GITHUB_COMMENT_LIMIT, renderMarkdown } from '../../engine/render/markdown.js';
import { everyKindOfChange, fullPlan, plan, QUIRKY_ROLE, target } from './plans.js';

// markdown-it follows CommonMark and GitHub's table extension, so the checks below read the
// comment the way a pull-request page does.
const parser = new MarkdownIt({ html: true });

type Token = ReturnType<MarkdownIt['parse']>[number];

function parse(markdown: string): Token[] {
  return parser.parse(markdown, {});
}

function inlineTokens(tokens: Token[]): Token[] {
  return tokens.flatMap((token) => token.children ?? []);
}

function codeSpans(tokens: Token[]): string[] {
  return inlineTokens(tokens)
    .filter((token) => token.type === 'code_inline')
    .map((token) => token.content);
}

/** Collects the rendered text of each table body cell, row by row. */
function tableRows(tokens: Token[]): string[][] {
  const rows: string[][] = [];
  let inBody = false;
  for (const token of tokens) {
    if (token.type === 'tbody_open') inBody = true;
    if (token.type === 'tbody_close') inBody = false;
    if (inBody && token.type === 'tr_open') rows.push([]);
    if (inBody && token.type === 'inline') {
      rows.at(-1)!.push((token.children ?? []).map((child) => child.content).join(''));
    }
  }
  return rows;
}

function headings(tokens: Token[]): string[] {
  return tokens.flatMap((token, index) => (token.type === 'heading_open' ? [`${token.tag} ${tokens[index + 1].content}`] : []));
}

function grantTo(grantee: string, table: string): Change {
  const grant: Grant = { database: 'app', grantee, privilege: 'SELECT', object: { kind: 'table', schema: 'public', name: table }, grantOption: false };
  return { kind: 'grant', address: grantAddress('prod', grant, 'grant'), database: 'app', destructive: false, grant };
}

describe('renderMarkdown', () => {
  it('starts with a title and the summary', () => {
    const lines = renderMarkdown(fullPlan()).split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '## aishell plan',
      '',
      '**Plan: 4 to add, 3 to change, 4 to destroy.**',
      '',
      '1 error was found, so the plan may be incomplete. Fix it and plan again.',
    ]);
  });

  it('has one table row per target', () => {
    const [create] = everyKindOfChange();
    const odd = target('eu|west *2*', [], { diagnostics: [{ severity: 'warning', summary: 'w' }, { severity: 'warning', summary: 'v' }] });
    const rows = tableRows(parse(renderMarkdown(plan([...fullPlan().targets, odd, target('dev', [create])]))));

    expect(rows).toEqual([
      ['prod', 'postgres', '4', '3', '4', '1 error, 1 warning, 1 info'],
      ['eu|west *2*', 'postgres', '0', '0', '0', '2 warnings'],
      ['dev', 'postgres', '1', '0', '0', 'none'],
    ]);
  });

  it('puts destructive changes first under a warning', () => {
    const tokens = parse(renderMarkdown(fullPlan()));
    expect(headings(tokens)).toEqual(['h2 aishell plan', 'h3 Target `prod`', 'h4 Diagnostics', 'h4 ⚠️ Destructive changes (4)', 'h4 Other changes (7)']);

    const spans = codeSpans(tokens);
    const destructive = everyKindOfChange().filter((change) => change.destructive);
    const firstOther = spans.indexOf(`prod: create role "o'brien smith"`);
    for (const change of destructive) {
      expect(spans.indexOf(change.address)).toBeGreaterThan(-1);
      expect(spans.indexOf(change.address)).toBeLessThan(firstOther);
    }
  });

  it('keeps every address literal in a code span', () => {
    const spans = codeSpans(parse(renderMarkdown(fullPlan())));
    for (const change of everyKindOfChange()) expect(spans).toContain(change.address);
    expect(spans.filter((span) => span.includes(QUIRKY_ROLE))).toHaveLength(3);
  });

  it('renders no HTML from names', () => {
    const html = parser.render(renderMarkdown(fullPlan()));
    expect(html).not.toContain('<b>');
    expect(html).not.toMatch(/<em>|<strong>x/);
    expect(html).toContain('&lt;b&gt;');
  });

  it('shows attribute changes as before and after', () => {
    const markdown = renderMarkdown(fullPlan());
    expect(markdown).toContain('  - login: `false` → `true`\n');
    expect(markdown).toContain('  - comment: `(none)` → ``"read `only` | \\"reports\\""``\n');
  });

  it('shows reasons as text, not code', () => {
    const markdown = renderMarkdown(fullPlan());
    expect(markdown).toContain('  - reason: the stored password differs from the declared one\n');
    expect(markdown).toContain('  - reassign owned objects to: the connecting role\n');
  });

  it('shows a password only as its source', () => {
    const tokens = parse(renderMarkdown(fullPlan()));
    const sql = tokens.filter((token) => token.type === 'fence').map((token) => token.content).join('');

    expect(codeSpans(tokens)).toContain('(from env:APP_PW)');
    expect(codeSpans(tokens)).toContain('(from vault:batch-password)');
    expect(sql).toContain(`ALTER ROLE "app_user" WITH PASSWORD <secret from env:APP_PW>;\n`);
    expect(sql).toContain(`ALTER ROLE "batch" WITH PASSWORD <secret from vault:batch-password>;\n`);
  });

  it('collapses the SQL of each group in details', () => {
    const tokens = parse(renderMarkdown(fullPlan()));
    const summaries = tokens.filter((token) => token.type === 'html_block').map((token) => token.content.trim());
    expect(summaries).toEqual([
      '<details><summary>SQL (6 statements)</summary>',
      '</details>',
      '<details><summary>SQL (4 statements)</summary>',
      '</details>',
      '<details><summary>SQL (6 statements)</summary>',
      '</details>',
      '<details><summary>SQL (2 statements)</summary>',
      '</details>',
    ]);

    const fences = tokens.filter((token) => token.type === 'fence');
    expect(fences.map((fence) => fence.info)).toEqual(['sql', 'sql', 'sql', 'sql']);
    expect(fences[0].content.split('\n').slice(0, 2)).toEqual([
      `-- prod: revoke role readers from "${QUIRKY_ROLE}"`,
      `REVOKE "readers" FROM "${QUIRKY_ROLE}";`,
    ]);
  });

  it('fences SQL that holds backticks', () => {
    const change = grantTo('```', 'orders');
    const fences = parse(renderMarkdown(plan([target('prod', [change])]))).filter((token) => token.type === 'fence');
    expect(fences).toHaveLength(1);
    expect(fences[0].content).toBe(`-- ${change.address}\nGRANT SELECT ON TABLE "public"."orders" TO "\`\`\`";\n`);
  });

  it('collapses a group of more than 20 changes', () => {
    const many = Array.from({ length: 21 }, (_, i) => grantTo('readonly', `t${String(i).padStart(2, '0')}`));
    const markdown = renderMarkdown(plan([target('prod', many)]));
    expect(markdown).toContain('<details><summary>Show 21 changes</summary>\n\n- `+` `prod/app: grant SELECT on table public.t00 to readonly`\n');
  });

  it('leaves a group of 20 changes open', () => {
    const twenty = Array.from({ length: 20 }, (_, i) => grantTo('readonly', `t${String(i).padStart(2, '0')}`));
    const markdown = renderMarkdown(plan([target('prod', twenty)]));
    expect(markdown).not.toContain('<summary>Show');
    expect(markdown).toContain('**Database `app`**\n\n- `+` `prod/app: grant SELECT on table public.t00 to readonly`\n');
  });

  it('lists diagnostics with escaped text', () => {
    const diagnostics = [
      { severity: 'error' as const, summary: 'role *admin* <script>alert(1)</script> | x', fix: 'use `quotes`', position: { file: 'security.yaml', line: 3, column: 7 } },
    ];
    const markdown = renderMarkdown(plan([target('prod', [], { diagnostics })]));
    const html = parser.render(markdown);

    expect(markdown).toContain('- **error** `security.yaml:3:7`: role \\*admin\\* \\<script\\>alert(1)\\</script\\> \\| x\n');
    expect(html).toContain('role *admin* &lt;script&gt;alert(1)&lt;/script&gt; | x');
    expect(html).toContain('fix: use `quotes`');
    expect(html).not.toContain('<script>');
  });

  it('lists unmanaged roles in code spans', () => {
    const markdown = renderMarkdown(plan([target('prod', [], { unmanagedRoles: ['alice', 'b`ob'] })]));
    const paragraph = parse(markdown).find((token) => token.type === 'inline' && token.content.startsWith('2 roles'));

    expect(paragraph?.content).toBe('2 roles exist that the file does not declare and are left alone: `alice`, ``"b`ob"``.');
    expect(codeSpans([paragraph!])).toEqual(['alice', '"b`ob"']);
  });

  it('reports an empty plan as no changes', () => {
    const markdown = renderMarkdown(plan([target('prod', [])]));
    expect(markdown.split('\n').slice(0, 3)).toEqual(['## aishell plan', '', 'No changes. The databases match the configuration.']);
    expect(markdown).toContain('\nNo changes for this target.\n');
    expect(markdown).not.toContain('<details>');
  });

  describe('size limit', () => {
    const full = renderMarkdown(fullPlan(), { maxLength: Infinity });
    const noSql = renderMarkdown(fullPlan(), { maxLength: full.length - 1 });
    const destructiveOnly = renderMarkdown(fullPlan(), { maxLength: noSql.length - 1 });
    const countsOnly = renderMarkdown(fullPlan(), { maxLength: destructiveOnly.length - 1 });

    it('keeps everything within the limit', () => {
      expect(renderMarkdown(fullPlan(), { maxLength: full.length })).toBe(full);
      expect(full).not.toContain('size limit');
    });

    it('leaves out SQL first', () => {
      expect(noSql).toContain('\n> The SQL is left out so that this comment fits the size limit. Run `aishell plan --show-sql` to see it.\n');
      expect(noSql).not.toContain('<details>');
      expect(noSql).toContain('#### Other changes (7)');
      expect(noSql.length).toBeLessThan(full.length);
    });

    it('then lists only destructive changes', () => {
      expect(destructiveOnly).toContain('> Only the destructive changes are listed');
      expect(destructiveOnly).toContain('#### ⚠️ Destructive changes (4)');
      expect(destructiveOnly).not.toContain('Other changes');
      expect(codeSpans(parse(destructiveOnly))).toContain('prod: drop role old_app');
    });

    it('then keeps only the counts', () => {
      expect(countsOnly).toContain('> The changes are left out');
      expect(countsOnly).not.toContain('Destructive changes');
      expect(tableRows(parse(countsOnly))).toEqual(tableRows(parse(full)));
      expect(countsOnly).toContain('#### Diagnostics');
    });

    it('fits a large plan in a GitHub comment', () => {
      const grants = Array.from({ length: 600 }, (_, i) => grantTo(`reporting_role_${i}`, `a_rather_long_table_name_${i}`));
      const markdown = renderMarkdown(plan([target('prod', grants)]));

      expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
      expect(markdown).toContain('> The SQL is left out');
      expect(markdown).toContain('<details><summary>Show 600 changes</summary>');
    });
  });
});
