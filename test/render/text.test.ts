import { describe, expect, it } from 'vitest';
import { renderText } from '../../engine/render/text.js';
import { everyKindOfChange, fullPlan, plan, QUIRKY_ROLE, target } from './plans.js';

const ESC = '\u001b';
const plain = { color: false, showSql: false };

describe('renderText', () => {
  it('renders every change kind line by line', () => {
    const lines = renderText(fullPlan(), plain).split('\n');

    expect(lines).toEqual([
      'Target prod (postgres)',
      'url: postgres://admin:***@db.internal:5432/app',
      'databases: app, reporting',
      '',
      'security.yaml:12:5: error: table public.missing does not exist in database app',
      '  fix: create the table or remove the grant',
      'warning: role "legacy" is declared but matches ignore_roles, so it is not managed',
      '  fix: remove it from ignore_roles',
      'info: the connecting role cannot read pg_authid',
      '',
      'Cluster-wide:',
      `  + prod: create role "o'brien smith"`,
      '      login: true',
      '      connection_limit: 5',
      '      password: (from env:APP_PW)',
      '  ~ prod: alter role readonly',
      '      login: false -> true',
      '      connection_limit: unlimited -> 10',
      '      valid_until: infinity -> 2027-06-30T00:00:00Z',
      '      comment: (none) -> "read `only` | \\"reports\\""',
      '  ~ prod: set password of role app_user',
      '      password: (from env:APP_PW)',
      '      reason: the stored password differs from the declared one',
      '  ~ prod: set password of role batch',
      '      password: (from vault:batch-password)',
      '      reason: the role has no password',
      `  - prod: revoke role readers from "${QUIRKY_ROLE}" (destructive)`,
      `  + prod: grant role readers to "o'brien smith"`,
      '      admin option: true',
      '      inherit: true',
      '  - prod: drop role old_app (destructive)',
      '      reassign owned objects to: the connecting role',
      '      in databases: app, reporting',
      '',
      'Database app:',
      `  - prod/app: default privileges for app_owner in schema public: revoke SELECT on tables from "${QUIRKY_ROLE}" (destructive)`,
      `  - prod/app: revoke DELETE on table public.orders from "${QUIRKY_ROLE}" (destructive)`,
      '      granted by: owner_role',
      '  + prod/app: grant SELECT on table public.orders to readonly',
      '      with grant option: true',
      '  + prod/app: default privileges for app_owner in schema public: grant SELECT on tables to readonly',
      '',
      '3 roles exist that the file does not declare and are left alone: alice, bob, "Carol Admin"',
      '',
      'Plan: 4 to add, 3 to change, 4 to destroy.',
      '1 error was found, so the plan may be incomplete. Fix it and plan again.',
      '',
    ]);
  });

  it('prints no escape codes without colour', () => {
    expect(renderText(fullPlan(), plain)).not.toContain(ESC);
  });

  it('colours symbols, tags and severities with colour', () => {
    const lines = renderText(fullPlan(), { color: true, showSql: false }).split('\n');

    expect(lines[0]).toBe(`${ESC}[1mTarget prod (postgres)${ESC}[0m`);
    expect(lines).toContain(`security.yaml:12:5: ${ESC}[31merror${ESC}[0m: table public.missing does not exist in database app`);
    expect(lines).toContain(`${ESC}[33mwarning${ESC}[0m: role "legacy" is declared but matches ignore_roles, so it is not managed`);
    expect(lines).toContain(`  ${ESC}[32m+${ESC}[0m prod: create role "o'brien smith"`);
    expect(lines).toContain(`  ${ESC}[33m~${ESC}[0m prod: alter role readonly`);
    expect(lines).toContain(`  ${ESC}[31m-${ESC}[0m prod: drop role old_app ${ESC}[31m(destructive)${ESC}[0m`);
    expect(lines).toContain(`${ESC}[1mPlan: 4 to add, 3 to change, 4 to destroy.${ESC}[0m`);
  });

  it('indents statements under each change with SQL', () => {
    const lines = renderText(fullPlan(), { color: false, showSql: true }).split('\n');
    const at = (line: string) => lines.indexOf(line);

    const setPassword = at('  ~ prod: set password of role app_user');
    expect(lines.slice(setPassword + 1, setPassword + 5)).toEqual([
      '      password: (from env:APP_PW)',
      '      reason: the stored password differs from the declared one',
      '      sql:',
      `        ALTER ROLE "app_user" WITH PASSWORD <secret from env:APP_PW>;`,
    ]);

    const drop = at('  - prod: drop role old_app (destructive)');
    expect(lines.slice(drop + 3, drop + 12)).toEqual([
      '      sql:',
      '        -- in database app',
      '        REASSIGN OWNED BY "old_app" TO CURRENT_USER;',
      '        DROP OWNED BY "old_app";',
      '        -- in database reporting',
      '        REASSIGN OWNED BY "old_app" TO CURRENT_USER;',
      '        DROP OWNED BY "old_app";',
      '        -- cluster-wide',
      '        DROP ROLE "old_app";',
    ]);

    const revoke = at(`  - prod/app: revoke DELETE on table public.orders from "${QUIRKY_ROLE}" (destructive)`);
    expect(lines.slice(revoke + 1, revoke + 6)).toEqual([
      '      granted by: owner_role',
      '      sql:',
      '        SET ROLE "owner_role";',
      `        REVOKE DELETE ON TABLE "public"."orders" FROM "${QUIRKY_ROLE}" CASCADE;`,
      '        RESET ROLE;',
    ]);
  });

  it('prints no statements without SQL', () => {
    const output = renderText(fullPlan(), plain);
    expect(output).not.toContain('sql:');
    expect(output).not.toContain('ALTER ROLE');
  });

  it('shows a vault password only as its source', () => {
    const output = renderText(fullPlan(), { color: false, showSql: true });
    expect(output).toContain('      password: (from vault:batch-password)');
    expect(output).toContain(`        ALTER ROLE "batch" WITH PASSWORD <secret from vault:batch-password>;`);
  });

  it('reports an empty plan as no changes', () => {
    const output = renderText(plan([target('prod', [])]), plain);
    expect(output.split('\n').slice(-4)).toEqual(['No changes for this target.', '', 'No changes. The databases match the configuration.', '']);
  });

  it('does not call a plan with errors clean', () => {
    const failed = target('staging', [], {
      databases: [],
      serverVersion: 0,
      fingerprint: '',
      diagnostics: [{ severity: 'error', summary: 'target staging: connection refused' }],
    });
    const lines = renderText(plan([failed]), plain).split('\n');

    expect(lines).toContain('error: target staging: connection refused');
    expect(lines).not.toContain('databases: ');
    expect(lines.at(-2)).toBe('No changes are planned, but 1 error was found. Fix it and plan again.');
  });

  it('separates targets and sums them in the summary', () => {
    const [create] = everyKindOfChange();
    const output = renderText(plan([target('prod', [create]), target('staging', [])]), plain);
    const lines = output.split('\n');

    expect(lines.filter((line) => line.startsWith('Target '))).toEqual(['Target prod (postgres)', 'Target staging (postgres)']);
    expect(lines[lines.indexOf('Target staging (postgres)') - 1]).toBe('');
    expect(lines.at(-2)).toBe('Plan: 1 to add, 0 to change, 0 to destroy.');
  });

  it('cuts a long list of unmanaged roles short', () => {
    const names = Array.from({ length: 14 }, (_, i) => `role_${i}`);
    const output = renderText(plan([target('prod', [], { unmanagedRoles: names })]), plain);

    expect(output).toContain(
      '14 roles exist that the file does not declare and are left alone: role_0, role_1, role_2, role_3, role_4, role_5, role_6, role_7, role_8, role_9 and 4 more\n',
    );
  });

  it('names a single unmanaged role in the singular', () => {
    const output = renderText(plan([target('prod', [], { unmanagedRoles: ['legacy'] })]), plain);
    expect(output).toContain('1 role exists that the file does not declare and is left alone: legacy\n');
  });

  it('escapes control characters in names', () => {
    const hostile = `evil${ESC}[2J\nPlan: 0 to add`;
    const output = renderText(plan([target('prod', [], { unmanagedRoles: [hostile] })]), { color: false, showSql: true });

    expect(output).not.toContain(ESC);
    expect(output).toContain('"evil\\x1b[2J\\nPlan: 0 to add"');
    expect(output.split('\n').filter((line) => line.startsWith('Plan:'))).toEqual([]);
  });
});
