import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

describe('plan with hostile policy expressions', () => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch('postgres');
    await scratch.sql('CREATE TABLE public.t3 (id int); CREATE TABLE public.victim (id int)');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  // Each expression tries to end the temporary CREATE POLICY and run a statement of its own.
  const payloads = [
    'EXISTS (SELECT 1 AS é$a$ )) ; COMMIT; DROP TABLE public.victim; -- $a$)',
    "true)); COMMIT; DROP TABLE public.victim; --",
  ];

  for (const [index, expression] of payloads.entries()) {
    it(`runs nothing else for payload ${index + 1}`, async () => {
      const file = path.join(scratch.dir, 'security.yaml');
      await writeFile(
        file,
        `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nrow_level_security:\n  public.t3:\n    enabled: true\n    policies:\n      sneaky:\n        using: ${q(expression)}\n`,
      );
      const planned = await runCli(['plan', '-f', file], { cwd: scratch.dir, env: {} });
      expect(planned.code).toBe(1);

      const [victim] = await scratch.sql("SELECT to_regclass('public.victim') IS NOT NULL AS present");
      expect(victim.present).toBe(true);
      const [policies] = await scratch.sql("SELECT count(*)::int AS n FROM pg_policy WHERE polrelid = 'public.t3'::regclass");
      expect(policies.n).toBe(0);
    });
  }
});
