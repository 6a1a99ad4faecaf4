import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

describe.each(BACKENDS)('grants made by other roles on %s', (backend) => {
  let scratch: Scratch;
  let file: string;
  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: {} });

  beforeEach(async () => {
    scratch = await createScratch(backend);
    file = path.join(scratch.dir, 'security.yaml');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('revokes a privilege another role granted', async () => {
    const app = scratch.role('app');
    const reader = scratch.role('reader');
    await scratch.sql('CREATE TABLE public.t (id int)');
    await writeFile(
      file,
      `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(app)}: {}\n  ${q(reader)}: {}\ngrants:\n  - { to: ${q(app)}, privileges: [SELECT], on: { table: public.t }, with_grant_option: true }\n`,
    );
    expect((await cli('apply', '-f', file, '--auto-approve')).code).toBe(0);

    // The app role passes its privilege on, which the file does not declare.
    await scratch.sql(`SET ROLE ${quoteIdent(app)}; GRANT SELECT ON public.t TO ${quoteIdent(reader)}; RESET ROLE`);
    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [reader, 'public.t', 'SELECT']);
    expect(row.allowed).toBe(false);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('revokes a grant chain from its end', async () => {
    const first = scratch.role('first');
    const second = scratch.role('second');
    const third = scratch.role('third');
    const [a, b, c] = [first, second, third].map(quoteIdent);
    // owner → first → second → third, each passing SELECT and the schema's USAGE on.
    await scratch.sql(`CREATE ROLE ${a}; CREATE ROLE ${b}; CREATE ROLE ${c};
      CREATE SCHEMA chain; CREATE TABLE chain.t (id int);
      GRANT USAGE ON SCHEMA chain TO ${a} WITH GRANT OPTION; GRANT SELECT ON chain.t TO ${a} WITH GRANT OPTION;
      SET ROLE ${a}; GRANT USAGE ON SCHEMA chain TO ${b} WITH GRANT OPTION; GRANT SELECT ON chain.t TO ${b} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${b}; GRANT USAGE ON SCHEMA chain TO ${c}; GRANT SELECT ON chain.t TO ${c}; RESET ROLE`);
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(first)}: {}\n  ${q(second)}: {}\n  ${q(third)}: {}\n`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    for (const role of [first, second, third]) {
      const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [role, 'chain.t', 'SELECT']);
      expect(row.allowed).toBe(false);
    }
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('grants again what a cascade takes', async () => {
    const app = scratch.role('app');
    const reader = scratch.role('reader');
    // The file keeps the app's SELECT without its grant option, and the reader's SELECT, which
    // the app granted. Revoking the grant option with CASCADE also takes the reader's.
    await scratch.sql(`CREATE ROLE ${quoteIdent(app)}; CREATE ROLE ${quoteIdent(reader)}; CREATE TABLE public.t (id int);
      GRANT SELECT ON public.t TO ${quoteIdent(app)} WITH GRANT OPTION;
      SET ROLE ${quoteIdent(app)}; GRANT SELECT ON public.t TO ${quoteIdent(reader)}; RESET ROLE`);
    await writeFile(
      file,
      `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(app)}: {}\n  ${q(reader)}: {}\n` +
        `grants:\n  - { to: [${q(app)}, ${q(reader)}], privileges: [SELECT], on: { table: public.t } }\n`,
    );

    const planned = await cli('plan', '-f', file, '--no-color');
    expect(planned.stdout).toContain(`grant SELECT on table public.t to ${reader}`);
    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [reader, 'public.t', 'SELECT']);
    expect(row.allowed).toBe(true);
    const [option] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [app, 'public.t', 'SELECT WITH GRANT OPTION']);
    expect(option.allowed).toBe(false);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('removes a membership another role granted', async () => {
    const group = scratch.role('group');
    const member = scratch.role('member');
    const other = scratch.role('other');
    await scratch.sql(
      `CREATE ROLE ${quoteIdent(group)}; CREATE ROLE ${quoteIdent(member)}; CREATE ROLE ${quoteIdent(other)};
       GRANT ${quoteIdent(group)} TO ${quoteIdent(other)} WITH ADMIN OPTION;
       SET ROLE ${quoteIdent(other)}; GRANT ${quoteIdent(group)} TO ${quoteIdent(member)}; RESET ROLE`,
    );
    await writeFile(file, `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\nroles:\n  ${q(member)}: {}\n`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const [row] = await scratch.sql('SELECT pg_has_role($1, $2, $3) AS member', [member, group, 'MEMBER']);
    expect(row.member).toBe(false);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });
});
