import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresProvider } from '../../providers/postgres/index.js';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';

/**
 * Creates `count` roles, each with a table, a sequence, a function, grants, default privileges,
 * a role setting, and row-level security with a policy on its table.
 */
async function populate(scratch: Scratch, count: number): Promise<void> {
  const statements = ['CREATE SCHEMA IF NOT EXISTS s'];
  for (let i = 0; i < count; i++) {
    const role = quoteIdent(scratch.role(`r${i}`));
    statements.push(
      `CREATE ROLE ${role}`,
      `CREATE TABLE s.t${i} (id int, name text)`,
      `CREATE SEQUENCE s.q${i}`,
      `CREATE FUNCTION s.f${i}(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
      `GRANT SELECT ON s.t${i} TO ${role}`,
      `GRANT UPDATE (name) ON s.t${i} TO ${role}`,
      `GRANT USAGE ON SEQUENCE s.q${i} TO ${role}`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO ${role}`,
      `ALTER ROLE ${role} SET work_mem = '${i + 1}MB'`,
      `ALTER TABLE s.t${i} ENABLE ROW LEVEL SECURITY`,
      `CREATE POLICY p${i} ON s.t${i} TO ${role} USING (id > ${i}) WITH CHECK (name <> current_user)`,
    );
    if (i > 0) statements.push(`GRANT ${quoteIdent(scratch.role(`r${i - 1}`))} TO ${role}`);
  }
  await scratch.sql(statements.join(';\n'));
}

async function countInspectQueries(
  scratch: Scratch,
): Promise<{ queries: number; roles: number; grants: number; policies: number; settings: number }> {
  const session = await postgresProvider.connect({ targetName: 'count', url: scratch.url, baseDir: scratch.dir });
  try {
    const before = session.queryCount;
    const state = await session.inspect();
    return {
      queries: session.queryCount - before,
      // Roles are cluster-wide and other tests create them too, so only this test's are counted.
      roles: state.roles.filter((role) => role.name.startsWith(scratch.role(''))).length,
      grants: state.databases.reduce((sum, database) => sum + database.grants.length, 0),
      policies: state.databases.reduce((sum, database) => sum + database.policies.length, 0),
      settings: state.roleSettings.filter((setting) => setting.role.startsWith(scratch.role(''))).length,
    };
  } finally {
    await session.close();
  }
}

describe.each(BACKENDS)('inspect on %s', (backend) => {
  let small: Scratch;
  let large: Scratch;

  beforeEach(async () => {
    small = await createScratch(backend);
    large = await createScratch(backend);
  });

  afterEach(async () => {
    await small.cleanup();
    await large.cleanup();
  });

  it('sends the same number of queries at two sizes', async () => {
    await populate(small, 3);
    await populate(large, 60);

    const few = await countInspectQueries(small);
    const many = await countInspectQueries(large);
    expect(many.grants).toBeGreaterThan(few.grants + 100);
    expect(few.roles).toBe(3);
    expect(many.roles).toBe(60);
    expect(few.policies).toBe(3);
    expect(many.policies).toBe(60);
    expect(many.settings).toBe(60);
    expect(many.queries).toBe(few.queries);
  });
});
