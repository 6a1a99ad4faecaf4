import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';
import { runCli } from '../support/cli.js';

const q = (text: string) => JSON.stringify(text);

// Cases where a simple model of REVOKE … CASCADE would differ from what PostgreSQL does.
describe.each(BACKENDS)('revoke cascades on %s', (backend) => {
  let scratch: Scratch;
  let file: string;
  const cli = (...args: string[]) => runCli(args, { cwd: scratch.dir, env: {} });
  const target = () => `version: 1\ntargets:\n  main:\n    engine: postgres\n    url: ${q(scratch.url)}\n`;
  const select = (role: string, option = false) =>
    `  - { to: ${q(role)}, privileges: [SELECT], on: { table: public.t }${option ? ', with_grant_option: true' : ''} }\n`;

  beforeEach(async () => {
    scratch = await createScratch(backend);
    file = path.join(scratch.dir, 'security.yaml');
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  it('cascade through an undeclared role', async () => {
    const [a, middle, c] = [scratch.role('a'), scratch.role('middle'), scratch.role('c')];
    const [qa, qm, qc] = [a, middle, c].map(quoteIdent);
    // owner → a → middle → c. The file does not declare middle.
    await scratch.sql(`CREATE ROLE ${qa}; CREATE ROLE ${qm}; CREATE ROLE ${qc}; CREATE TABLE public.t (id int);
      GRANT SELECT ON public.t TO ${qa} WITH GRANT OPTION;
      SET ROLE ${qa}; GRANT SELECT ON public.t TO ${qm} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${qm}; GRANT SELECT ON public.t TO ${qc}; RESET ROLE`);
    await writeFile(file, `${target()}roles:\n  ${q(a)}: {}\n  ${q(c)}: {}\ngrants:\n${select(a)}${select(c)}`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const [row] = await scratch.sql('SELECT has_table_privilege($1, $2, $3) AS allowed', [c, 'public.t', 'SELECT']);
    expect(row.allowed).toBe(true);
  });

  it('grantor keeps grant option through membership', async () => {
    const [member, group, reader] = [scratch.role('member'), scratch.role('group'), scratch.role('reader')];
    const [qm, qg, qr] = [member, group, reader].map(quoteIdent);
    // member passed SELECT on to reader and still has the grant option through group, so
    // revoking member's own grant option cascades nowhere.
    await scratch.sql(`CREATE ROLE ${qm}; CREATE ROLE ${qg}; CREATE ROLE ${qr}; GRANT ${qg} TO ${qm};
      CREATE TABLE public.t (id int);
      GRANT SELECT ON public.t TO ${qm} WITH GRANT OPTION; GRANT SELECT ON public.t TO ${qg} WITH GRANT OPTION;
      SET ROLE ${qm}; GRANT SELECT ON public.t TO ${qr}; RESET ROLE`);
    await writeFile(
      file,
      `${target()}roles:\n  ${q(member)}: { member_of: [${q(group)}] }\n  ${q(group)}: {}\n  ${q(reader)}: {}\ngrants:\n${select(member)}${select(group, true)}${select(reader)}`,
    );

    const planned = await cli('plan', '-f', file);
    expect(planned.stdout).not.toContain(`grant SELECT on table public.t to ${reader}`);
  });

  it('superuser grantor keeps grant option', async () => {
    const [admin, reader] = [scratch.role('admin'), scratch.role('reader')];
    const [qa, qr] = [admin, reader].map(quoteIdent);
    // A superuser has the owner's grant options, so revoking its own cascades nowhere.
    await scratch.sql(`CREATE ROLE ${qa}; CREATE ROLE ${qr}; CREATE TABLE public.t (id int);
      GRANT SELECT ON public.t TO ${qa} WITH GRANT OPTION;
      SET ROLE ${qa}; GRANT SELECT ON public.t TO ${qr}; RESET ROLE; ALTER ROLE ${qa} SUPERUSER`);
    await writeFile(file, `${target()}roles:\n  ${q(admin)}: { superuser: true }\n  ${q(reader)}: {}\ngrants:\n${select(admin)}${select(reader)}`);

    const planned = await cli('plan', '-f', file);
    expect(planned.stdout).toContain(`revoke grant option for SELECT on table public.t from ${admin}`);
    expect(planned.stdout).not.toContain(`grant SELECT on table public.t to ${reader}`);
  });

  it('declared middle role with undeclared downstream', async () => {
    const [z, y, x] = [scratch.role('z'), scratch.role('y'), scratch.role('x')];
    const [qz, qy, qx] = [z, y, x].map(quoteIdent);
    // owner → z → y → x. The file drops z's grant option, keeps y's and gives x nothing.
    await scratch.sql(`CREATE ROLE ${qz}; CREATE ROLE ${qy}; CREATE ROLE ${qx}; CREATE TABLE public.t (id int);
      GRANT SELECT ON public.t TO ${qz} WITH GRANT OPTION;
      SET ROLE ${qz}; GRANT SELECT ON public.t TO ${qy} WITH GRANT OPTION; RESET ROLE;
      SET ROLE ${qy}; GRANT SELECT ON public.t TO ${qx}; RESET ROLE`);
    await writeFile(file, `${target()}roles:\n  ${q(z)}: {}\n  ${q(y)}: {}\n  ${q(x)}: {}\ngrants:\n${select(z)}${select(y, true)}`);

    const applied = await cli('apply', '-f', file, '--auto-approve');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect((await cli('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
  });
});
