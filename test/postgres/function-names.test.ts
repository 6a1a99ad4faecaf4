import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

describe.each(BACKENDS)('function names on %s', (backend) => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch(backend);
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('quotes a name that holds SQL', async () => {
    const reader = scratch.role('reader');
    const intruder = scratch.role('intruder');
    // A function whose name closes the argument list and appends a statement of its own.
    const hostile = `a() TO public; ALTER ROLE ${quoteIdent(intruder)} SUPERUSER;--`;
    await scratch.sql(
      `CREATE ROLE ${quoteIdent(intruder)}; CREATE SCHEMA app;
       CREATE FUNCTION app.a() RETURNS int LANGUAGE sql AS 'SELECT 1';
       CREATE FUNCTION app.${quoteIdent(hostile)}() RETURNS int LANGUAGE sql AS 'SELECT 1';
       CREATE ROLE ${quoteIdent(reader)}; GRANT EXECUTE ON FUNCTION app.${quoteIdent(hostile)}() TO ${quoteIdent(reader)}`,
    );
    const file = path.join(scratch.dir, 'security.yaml');
    await writeFile(
      file,
      `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(reader)}: {}\ngrants:\n  - { to: ${q(reader)}, privileges: [EXECUTE], on: { function: "app.a()" } }\n`,
    );

    // Apply grants EXECUTE on app.a() and revokes it from the hostile function.
    const applied = await runCli(['apply', '-f', file, '--auto-approve', '--show-sql'], { cwd: scratch.dir, env: {} });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`REVOKE EXECUTE ON ROUTINE "app".${quoteIdent(hostile)}() FROM ${quoteIdent(reader)}`);

    const [row] = await scratch.sql('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [intruder]);
    expect(row.rolsuper).toBe(false);
    const [allowed] = await scratch.sql('SELECT has_function_privilege($1, $2, $3) AS allowed', [reader, 'app.a()', 'EXECUTE']);
    expect(allowed.allowed).toBe(true);
    expect((await runCli(['plan', '-f', file, '--detailed-exitcode'], { cwd: scratch.dir, env: {} })).code).toBe(0);
  });
});
