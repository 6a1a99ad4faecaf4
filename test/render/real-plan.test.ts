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
    fixture = await writeFullConfig(scratch);

    // A role that the file marks absent, so that the drift plan drops it.
    legacy = scratch.role('legacy | `old`');
    await scratch.sql(`CREATE ROLE ${quoteIdent(legacy)}`);
    const yaml = await readFile(fixture.file, 'utf8');
    await writeFile(fixture.file, yaml.replace('\nroles:\n', `\nroles:\n  ${JSON.stringify(legacy)}: { state: absent }\n`));
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
