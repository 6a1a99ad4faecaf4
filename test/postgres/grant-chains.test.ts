import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

// Each revoke made by a grantor must run while the grantor still has the privilege and the
// schema's USAGE. Here the grantor loses them through a revoke other than one from itself.
describe.each(BACKENDS)('grant chain revokes on %s', (backend) => {
  let scratch: Scratch;
  let file: string;
  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: {} });
  const target = () => `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n`;

  beforeEach(async () => {
    scratch = await createScratch(backend);
    file = path.join(scratch.dir, 'security.yaml');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('revokes crossed chains on two objects', async () => {
    const [first, second, third] = ['first', 'second', 'third'].map((name) => scratch.role(name));
    const [a, b, c] = [first, second, third].map(quoteIdent);
    // Table t: owner → first → second → third. Sequence q: owner → third → second → first.
    // Each chain alone is revoked correctly. Together they form a cycle between the roles, though neither object's chain has one.
    await scratch.sql(`CREATE ROLE ${a}; CREATE ROLE ${b}; CREATE ROLE ${c};
      CREATE SCHEMA ch; CREATE TABLE ch.t (id int); CREATE SEQUENCE ch.q; GRANT USAGE ON SCHEMA ch TO PUBLIC;
      GRANT SELECT ON ch.t TO ${a} WITH GRANT OPTION;
      SET ROLE ${a}; GRANT SELECT ON ch.t TO ${b} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${b}; GRANT SELECT ON ch.t TO ${c} WITH GRANT OPTION; RESET ROLE;
      GRANT USAGE ON SEQUENCE ch.q TO ${c} WITH GRANT OPTION;
      SET ROLE ${c}; GRANT USAGE ON SEQUENCE ch.q TO ${b} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${b}; GRANT USAGE ON SEQUENCE ch.q TO ${a} WITH GRANT OPTION; RESET ROLE`);
    await writeFile(
      file,
      `${target()}roles:\n  ${q(first)}: {}\n  ${q(second)}: {}\n  ${q(third)}: {}\ngrants:\n  - { to: PUBLIC, privileges: [USAGE], on: { schema: ch } }\n`,
    );

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    for (const role of [first, second, third]) {
      const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [role, 'ch.t', 'SELECT']);
      expect(row.allowed).toBe(false);
    }
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('revokes below a kept middle grantor first', async () => {
    // By address alone, the revoke from a_middle would run first.
    const [top, middle, kept, bottom] = ['top', 'a_middle', 'kept', 'z_bottom'].map((name) => scratch.role(name));
    const [x, a, b, c] = [top, middle, kept, bottom].map(quoteIdent);
    // owner → top → middle → kept → bottom. The file keeps top's and kept's SELECT with the grant
    // option and drops middle's and bottom's. Revoking middle's takes kept's and bottom's with
    // CASCADE, so kept's revoke from bottom must run before it.
    await scratch.sql(`CREATE ROLE ${x}; CREATE ROLE ${a}; CREATE ROLE ${b}; CREATE ROLE ${c}; CREATE TABLE public.t (id int);
      GRANT SELECT ON public.t TO ${x} WITH GRANT OPTION;
      SET ROLE ${x}; GRANT SELECT ON public.t TO ${a} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${a}; GRANT SELECT ON public.t TO ${b} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${b}; GRANT SELECT ON public.t TO ${c}; RESET ROLE`);
    const keep = (role: string) => `  - { to: ${q(role)}, privileges: [SELECT], on: { table: public.t }, with_grant_option: true }\n`;
    await writeFile(file, `${target()}roles:\n${[top, middle, kept, bottom].map((role) => `  ${q(role)}: {}\n`).join('')}grants:\n${keep(top)}${keep(kept)}`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [bottom, 'public.t', 'SELECT WITH GRANT OPTION']);
    expect(row.allowed).toBe(false);
    const [option] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [kept, 'public.t', 'SELECT WITH GRANT OPTION']);
    expect(option.allowed).toBe(true);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('revokes a long chain with kept grantors', async () => {
    const names = ['y', 'x', 'a', 'b', 'c'];
    const roles = names.map((name) => scratch.role(name));
    const [y, x, a, b, c] = roles.map(quoteIdent);
    // owner → y → x → a → b → c. The file keeps y's and b's SELECT with the grant option. The
    // revoke from x (by y) takes a's, b's and c's with CASCADE, and the one from a (by x) takes
    // b's and c's, so b's revoke from c runs first, then x's from a, then y's from x.
    await scratch.sql(`${roles.map((role) => `CREATE ROLE ${quoteIdent(role)};`).join(' ')} CREATE TABLE public.t (id int);
      GRANT SELECT ON public.t TO ${y} WITH GRANT OPTION;
      SET ROLE ${y}; GRANT SELECT ON public.t TO ${x} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${x}; GRANT SELECT ON public.t TO ${a} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${a}; GRANT SELECT ON public.t TO ${b} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${b}; GRANT SELECT ON public.t TO ${c}; RESET ROLE`);
    const keep = (role: string) => `  - { to: ${q(role)}, privileges: [SELECT], on: { table: public.t }, with_grant_option: true }\n`;
    await writeFile(file, `${target()}roles:\n${roles.map((role) => `  ${q(role)}: {}\n`).join('')}grants:\n${keep(roles[0]!)}${keep(roles[3]!)}`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [roles[4], 'public.t', 'SELECT']);
    expect(row.allowed).toBe(false);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('revokes past a dropped middle grantor', async () => {
    const [first, second, third] = ['first', 'second', 'third'].map((name) => scratch.role(name));
    const [a, b, c] = [first, second, third].map(quoteIdent);
    // owner → first → second → third, and the file drops second. The plan revokes from first
    // (CASCADE removes what second holds) before second's revoke from third.
    await scratch.sql(`CREATE ROLE ${a}; CREATE ROLE ${b}; CREATE ROLE ${c};
      CREATE SCHEMA ch; CREATE TABLE ch.t (id int); GRANT USAGE ON SCHEMA ch TO PUBLIC;
      GRANT SELECT ON ch.t TO ${a} WITH GRANT OPTION;
      SET ROLE ${a}; GRANT SELECT ON ch.t TO ${b} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${b}; GRANT SELECT ON ch.t TO ${c}; RESET ROLE`);
    await writeFile(file, `${target()}roles:\n  ${q(first)}: {}\n  ${q(second)}: { state: absent }\n  ${q(third)}: {}\n`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    for (const role of [first, third]) {
      const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [role, 'ch.t', 'SELECT']);
      expect(row.allowed).toBe(false);
    }
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });

  it('revokes before PUBLIC loses schema USAGE', async () => {
    const [holder, reader] = ['holder', 'reader'].map((name) => scratch.role(name));
    const [h, r] = [holder, reader].map(quoteIdent);
    // holder keeps its sequence grant and reaches schema ch only through PUBLIC, which the file
    // revokes. "revoke USAGE on schema ch from PUBLIC" sorts before holder's sequence revoke.
    await scratch.sql(`CREATE ROLE ${h}; CREATE ROLE ${r};
      CREATE SCHEMA ch; CREATE SEQUENCE ch.q; GRANT USAGE ON SCHEMA ch TO PUBLIC;
      GRANT USAGE ON SEQUENCE ch.q TO ${h} WITH GRANT OPTION;
      SET ROLE ${h}; GRANT USAGE ON SEQUENCE ch.q TO ${r}; RESET ROLE`);
    await writeFile(
      file,
      `${target()}    manage_public: true\nroles:\n  ${q(holder)}: {}\n  ${q(reader)}: {}\ngrants:\n` +
        `  - { to: ${q(holder)}, privileges: [USAGE], on: { sequence: ch.q }, with_grant_option: true }\n` +
        `  - { to: PUBLIC, privileges: [CONNECT, TEMPORARY], on: { database: ${q(scratch.database)} } }\n` +
        `  - { to: PUBLIC, privileges: [EXECUTE], on: { functions: public.* } }\n`,
    );

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const [row] = await scratch.sql('SELECT has_sequence_privilege($1, $2, $3) AS allowed', [reader, 'ch.q', 'USAGE']);
    expect(row.allowed).toBe(false);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });
});
