import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPlan, StalePlanError } from '../../engine/apply/apply.js';
import { loadConfig } from '../../engine/config/load.js';
import { createPlan } from '../../engine/plan/create.js';
import type { PlanContext } from '../../engine/plan/build.js';
import { createSecretResolver } from '../../engine/secrets.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';

/**
 * apply without a plan file plans, then checks under the lock that the live state the plan read
 * is unchanged. These tests plan and apply in one process, as that command does.
 */
describe.each(BACKENDS)('apply of a plan made in-process on %s', (backend) => {
  let scratch: Scratch;
  let context: PlanContext;

  beforeEach(async () => {
    scratch = await createScratch(backend);
    await scratch.sql('CREATE SCHEMA app; CREATE TABLE app.orders (id int)');
    const file = path.join(scratch.dir, 'security.yaml');
    await writeFile(
      file,
      `version: 1
targets:
  main:
    engine: postgres
    url: ${JSON.stringify(scratch.url)}
roles:
  ${scratch.role('reader')}: {}
grants:
  - { to: ${scratch.role('reader')}, privileges: [USAGE], on: { schema: app } }
  - { to: ${scratch.role('reader')}, privileges: [SELECT], on: { tables: "app.*" } }
`,
    );
    const loaded = await loadConfig(file, { cwd: scratch.dir, env: {} });
    expect(loaded.diagnostics).toEqual([]);
    context = { config: loaded.config!, configPath: file, secrets: createSecretResolver({}) };
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  async function readerRoles(): Promise<number> {
    const [row] = await scratch.sql('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [scratch.role('reader')]);
    return row!.n as number;
  }

  it('applies when nothing changed since the plan', async () => {
    const plan = await createPlan(context, ['main']);
    const applied = await applyPlan(context, plan);

    expect(applied[0]!.remaining).toEqual([]);
    expect(await readerRoles()).toBe(1);
  });

  it('refuses a plan that a new table made stale', async () => {
    const plan = await createPlan(context, ['main']);
    // app.* now expands to a table that the plan does not grant on.
    await scratch.sql('CREATE TABLE app.invoices (id int)');

    await expect(applyPlan(context, plan)).rejects.toBeInstanceOf(StalePlanError);
    expect(await readerRoles()).toBe(0);
  });

  it('refuses a plan whose role changed out of band', async () => {
    const plan = await createPlan(context, ['main']);
    await scratch.sql(`CREATE ROLE "${scratch.role('reader')}"`);

    await expect(applyPlan(context, plan)).rejects.toBeInstanceOf(StalePlanError);
  });
});
