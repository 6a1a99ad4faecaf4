import { readFile, writeFile } from 'node:fs/promises';
import MarkdownIt from 'markdown-it';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANGE_SYMBOL } from '../../engine/diff/changes.js';
import type { Plan } from '../../engine/plan/types.js';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { SCHEMA_SQL, writeFullConfig, type Fixture } from '../postgres/fixture.js';
import { planValidator } from './validate.js';

const PASSWORD = 'Render-Test-4-password';

/** Row-level security for the fixture's app.orders, so that the plans hold the policy kinds too. */
const ROW_LEVEL_SECURITY = `row_level_security:
  app.orders:
    policies:
      own_orders:
        command: SELECT
        using: "id > 0"
`;
const validate = planValidator();

/**
 * Plans made by the CLI against the real PostgreSQL server: a first plan that creates everything,
 * then, after apply and out-of-band drift, a plan that changes and removes, so that between them
 * every change kind is rendered from real inspection.
 */
describe('plans rendered from PostgreSQL', () => {
  let scratch: Scratch;
  let fixture: Fixture;
  let legacy: string;

  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: { APP_PW: PASSWORD } });
  const plan = (...args: string[]) => cli('plan', '-f', fixture.file, ...args);

  beforeEach(async () => {
    scratch = await createScratch('postgres');
    for (const statement of SCHEMA_SQL) await scratch.sql(statement);
    fixture = await writeFullConfig(scratch, ROW_LEVEL_SECURITY);

    // A role that the file marks absent, so that the drift plan drops it.
    legacy = scratch.role('legacy | `old`');
    await scratch.sql(`CREATE ROLE ${quoteIdent(legacy)}`);
    const yaml = await readFile(fixture.file, 'utf8');
    const withSettings = yaml.replace(`  ${JSON.stringify(fixture.roles.readonly)}: {}`, `  ${JSON.stringify(fixture.roles.readonly)}: { settings: { statement_timeout: 30s } }`);
    await writeFile(fixture.file, withSettings.replace('\nroles:\n', `\nroles:\n  ${JSON.stringify(legacy)}: { state: absent }\n`));
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  async function driftedPlans(): Promise<{ first: string; drift: string }> {
    const first = await plan('--format', 'json');
    expect(first.stderr).toBe('');
    expect((await cli('apply', '-f', fixture.file, '--auto-approve')).code).toBe(0);

    const { readonly, developer, appUser, appOwner, sales } = Object.fromEntries(
      Object.entries(fixture.roles).map(([key, name]) => [key, quoteIdent(name)]),
    );
    await scratch.sql(`GRANT DELETE ON app.orders TO ${readonly}`);
    await scratch.sql(`ALTER ROLE ${appUser} CONNECTION LIMIT 5 PASSWORD 'not-the-declared-one'`);
    await scratch.sql(`REVOKE ADMIN OPTION FOR ${developer} FROM ${appUser}`);
    await scratch.sql(`GRANT ${readonly} TO ${sales}`);
    await scratch.sql(`ALTER DEFAULT PRIVILEGES FOR ROLE ${appOwner} IN SCHEMA app GRANT INSERT ON TABLES TO ${readonly}`);
    await scratch.sql(`ALTER POLICY own_orders ON app.orders USING (id > 1)`);
    await scratch.sql(`CREATE POLICY added_by_hand ON app.orders USING (true)`);
    await scratch.sql('ALTER TABLE app.orders DISABLE ROW LEVEL SECURITY');
    await scratch.sql(`ALTER ROLE ${readonly} SET work_mem = '1MB'`);
    // Planned only, never applied: md5 on the shared server would affect every other test.
    await writeFile(fixture.file, `${await readFile(fixture.file, 'utf8')}encryption:\n  password_encryption: md5\n`);

    const drift = await plan('--format', 'json');
    expect(drift.stderr).toBe('');
    return { first: first.stdout, drift: drift.stdout };
  }

  it('match the schema and hold every change kind', async () => {
    const { first, drift } = await driftedPlans();
    const plans = [JSON.parse(first) as Plan, JSON.parse(drift) as Plan];

    for (const each of plans) {
      const result = validate(each);
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    }

    const kinds = new Set(plans.flatMap((each) => each.targets[0].changes.map((planned) => planned.change.kind)));
    expect([...kinds].sort()).toEqual(Object.keys(CHANGE_SYMBOL).sort());
    expect(first).not.toContain(PASSWORD);
    expect(drift).not.toContain('not-the-declared-one');
  });

  it('show the same changes in text and Markdown', async () => {
    await driftedPlans();
    const json = JSON.parse((await plan('--format', 'json')).stdout) as Plan;
    const text = (await plan('--show-sql')).stdout;
    const markdown = (await plan('--format', 'markdown')).stdout;
    const spans = new MarkdownIt()
      .parse(markdown, {})
      .flatMap((token) => token.children ?? [])
      .filter((token) => token.type === 'code_inline')
      .map((token) => token.content);

    const changes = json.targets[0].changes;
    expect(changes.length).toBeGreaterThan(0);
    for (const planned of changes) {
      const tag = planned.destructive ? ' (destructive)' : '';
      expect(text).toContain(`  ${planned.symbol} ${planned.address}${tag}\n`);
      expect(spans).toContain(planned.address);
    }
    expect(text).toContain(`Plan: ${json.summary.create} to add, ${json.summary.update} to change, ${json.summary.delete} to destroy.`);
    expect(text).toContain(`ALTER ROLE ${quoteIdent(fixture.roles.appUser)} WITH PASSWORD <secret from env:APP_PW>;`);
    expect(markdown).toContain(`**Plan: ${json.summary.create} to add, ${json.summary.update} to change, ${json.summary.delete} to destroy.**`);
  });
});
