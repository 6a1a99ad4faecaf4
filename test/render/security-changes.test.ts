import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../engine/render/markdown.js';
import { renderText } from '../../engine/render/text.js';
import { plan, securityChanges, target } from './plans.js';

describe('row-level security and settings in the text plan', () => {
  it('renders each kind with its details', () => {
    const lines = renderText(plan([target('prod', securityChanges())]), { color: false, showSql: false }).split('\n');
    const start = lines.indexOf('Cluster-wide:');
    expect(lines.slice(start)).toEqual([
      'Cluster-wide:',
      '  - prod: reset work_mem of role app_user in database app',
      '      work_mem: 64MB -> (not set)',
      '  ~ prod: set statement_timeout of role app_user',
      '      statement_timeout: (not set) -> 30s',
      '',
      'Database app:',
      '  - prod/app: drop policy legacy on table public.orders (destructive)',
      '      command: SELECT',
      '      roles: PUBLIC',
      '  ~ prod/app: alter row level security of table public.orders',
      '      enabled: false -> true',
      '      force: false -> true',
      '  ~ prod/app: alter policy shared_orders on table public.orders',
      '      roles: sales_rep -> manager, sales_rep',
      '  + prod/app: create policy own_orders on table public.orders',
      '      command: SELECT',
      '      roles: sales_rep',
      '      permissive: true',
      "      using: (user_id = (current_setting('app.user_id'::text))::integer)",
      '      with_check: (none)',
      '',
      'Server settings (ALTER SYSTEM after the transactions commit, then a configuration reload):',
      "  ~ prod: set pgaudit.log = 'role, ddl' (server, needs reload)",
      '      pgaudit.log: none -> role, ddl',
      '      takes effect: at the configuration reload after apply',
      "  ~ prod: set shared_preload_libraries = 'pg_stat_statements, pgaudit' (server, needs restart)",
      '      shared_preload_libraries: pg_stat_statements -> pg_stat_statements, pgaudit',
      '      takes effect: after a server restart, which aishell does not do',
      '',
      'Plan: 1 to add, 5 to change, 2 to destroy.',
      '',
    ]);
  });

  it('shows the statements of each kind', () => {
    const output = renderText(plan([target('prod', securityChanges())]), { color: false, showSql: true });
    expect(output).toContain('ALTER TABLE "public"."orders" ENABLE ROW LEVEL SECURITY;');
    expect(output).toContain('ALTER TABLE "public"."orders" FORCE ROW LEVEL SECURITY;');
    expect(output).toContain(
      `CREATE POLICY "own_orders" ON "public"."orders" AS PERMISSIVE FOR SELECT TO "sales_rep" USING ((user_id = (current_setting('app.user_id'::text))::integer));`,
    );
    expect(output).toContain('ALTER POLICY "shared_orders" ON "public"."orders" TO "manager", "sales_rep";');
    expect(output).toContain('DROP POLICY "legacy" ON "public"."orders";');
    expect(output).toContain(`ALTER ROLE "app_user" SET "statement_timeout" = '30s';`);
    expect(output).toContain('ALTER ROLE "app_user" IN DATABASE "app" RESET "work_mem";');
    expect(output).toContain(`ALTER SYSTEM SET "pgaudit"."log" = 'role, ddl';`);
    expect(output).toContain(`ALTER SYSTEM SET "shared_preload_libraries" = 'pg_stat_statements', 'pgaudit';`);
  });

  it('puts server settings in their own Markdown step', () => {
    const markdown = renderMarkdown(plan([target('prod', securityChanges())]));
    const step = markdown.indexOf('**Server settings (ALTER SYSTEM after the transactions commit, then a configuration reload)**');
    expect(step).toBeGreaterThan(markdown.indexOf('**Database `app`**'));
    expect(markdown.indexOf("prod: set pgaudit.log = 'role, ddl' (server, needs reload)")).toBeGreaterThan(step);
  });
});
