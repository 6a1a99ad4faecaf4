import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActualState } from '../../engine/model/types.js';
import { postgresProvider } from '../../providers/postgres/index.js';
import { quoteIdent } from '../../providers/postgres/quote.js';
import { BACKENDS, createScratch, type Scratch } from '../support/backends.js';

/**
 * The provider reads each object's ACL as one JSON array. These tests compare what it inspects
 * with the server's own aclexplode rows, one per privilege, read here with a plain query.
 */
describe.each(BACKENDS)('ACLs inspected on %s', (backend) => {
  let scratch: Scratch;

  beforeEach(async () => {
    scratch = await createScratch(backend);
  });

  afterEach(async () => {
    await scratch.cleanup();
  });

  async function inspect(): Promise<ActualState> {
    const session = await postgresProvider.connect({ targetName: 'acl', url: scratch.url, baseDir: scratch.dir });
    try {
      return await session.inspect();
    } finally {
      await session.close();
    }
  }

  it('matches aclexplode for every object kind', async () => {
    // Names that need quoting in an ACL's text form, and JSON escapes in its JSON form.
    const odd = quoteIdent(scratch.role('o"dd, =/name é'));
    const plain = quoteIdent(scratch.role('plain'));
    await scratch.sql([
      `CREATE ROLE ${odd}`,
      `CREATE ROLE ${plain}`,
      'CREATE SCHEMA acl_s',
      'CREATE TABLE acl_s.t (id int, "Name" text)',
      'CREATE TABLE acl_s.bare (id int)',
      'CREATE SEQUENCE acl_s.q',
      "CREATE FUNCTION acl_s.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1'",
      `GRANT SELECT, INSERT ON acl_s.t TO ${odd} WITH GRANT OPTION`,
      `GRANT SELECT ON acl_s.t TO PUBLIC`,
      `GRANT UPDATE ("Name") ON acl_s.t TO ${plain}`,
      `GRANT USAGE ON SCHEMA acl_s TO ${odd}`,
      `GRANT USAGE, SELECT ON SEQUENCE acl_s.q TO ${plain}`,
      `REVOKE EXECUTE ON FUNCTION acl_s.f(integer) FROM PUBLIC`,
      `GRANT EXECUTE ON FUNCTION acl_s.f(integer) TO ${odd}`,
      // An ACL emptied of every entry: not even the owner has a privilege.
      'REVOKE ALL ON acl_s.bare FROM CURRENT_USER',
    ].join(';\n'));

    const state = await inspect();
    const roleNames = new Map((await scratch.sql('SELECT oid, rolname FROM pg_roles')).map((row) => [Number(row.oid), String(row.rolname)]));
    const owner = String((await scratch.sql('SELECT current_user AS name'))[0]!.name);
    const database = state.databases[0]!;
    const inspected = database.grants
      .filter((grant) => grant.object.kind === 'database' || grant.object.name === 'acl_s' || grant.object.schema === 'acl_s')
      .map((grant) => [grant.object.kind, grant.object.name, grant.object.column ?? '', grant.grantor ?? '', grant.grantee, grant.privilege, grant.grantOption].join('|'))
      .sort();

    const expected = (await scratch.sql(`
      SELECT 'database' AS kind, d.datname AS name, '' AS column, e.grantor, e.grantee, e.privilege_type, e.is_grantable
      FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) e WHERE d.datname = current_database()
      UNION ALL
      SELECT 'schema', n.nspname, '', e.grantor, e.grantee, e.privilege_type, e.is_grantable
      FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) e WHERE n.nspname = 'acl_s'
      UNION ALL
      SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, c.relname, '', e.grantor, e.grantee, e.privilege_type, e.is_grantable
      FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) e
      WHERE c.relnamespace = 'acl_s'::regnamespace AND c.relkind IN ('r', 'S')
      UNION ALL
      SELECT 'column', c.relname, a.attname, e.grantor, e.grantee, e.privilege_type, e.is_grantable
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, aclexplode(a.attacl) e
      WHERE c.relnamespace = 'acl_s'::regnamespace AND a.attnum > 0
      UNION ALL
      SELECT 'function', p.proname || '(' || oidvectortypes(p.proargtypes) || ')', '', e.grantor, e.grantee, e.privilege_type, e.is_grantable
      FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) e WHERE p.pronamespace = 'acl_s'::regnamespace`))
      .map((row) => {
        const name = (oid: unknown) => (Number(oid) === 0 ? 'PUBLIC' : roleNames.get(Number(oid)));
        return [row.kind, row.name, row.column, name(row.grantor), name(row.grantee), row.privilege_type, row.is_grantable].join('|');
      })
      .sort();

    expect(inspected).toEqual(expected);
    // Some of the cases above, checked one by one: the odd name with the grant option, PUBLIC,
    // a column, the table with an empty ACL, and the function without PUBLIC's EXECUTE.
    expect(inspected).toContain(`table|t||${owner}|${scratch.role('o"dd, =/name é')}|INSERT|true`);
    expect(inspected).toContain(`table|t||${owner}|PUBLIC|SELECT|false`);
    expect(inspected).toContain(`column|t|Name|${owner}|${scratch.role('plain')}|UPDATE|false`);
    expect(inspected.filter((line) => line.startsWith('table|bare|'))).toEqual([]);
    expect(inspected.filter((line) => line.startsWith('function|') && line.includes('|PUBLIC|'))).toEqual([]);
  });

  it('reads default privileges per schema and global', async () => {
    const grantee = scratch.role('reader');
    await scratch.sql([
      `CREATE ROLE ${quoteIdent(grantee)}`,
      'CREATE SCHEMA acl_d',
      `ALTER DEFAULT PRIVILEGES IN SCHEMA acl_d GRANT SELECT, UPDATE ON TABLES TO ${quoteIdent(grantee)} WITH GRANT OPTION`,
      `ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO ${quoteIdent(grantee)}`,
    ].join(';\n'));

    const state = await inspect();
    const defaults = state.databases[0]!.defaultPrivileges
      .filter((entry) => entry.grantee === grantee)
      .map((entry) => [entry.schema ?? '*', entry.objectType, entry.privilege, entry.grantOption].join('|'))
      .sort();
    expect(defaults).toEqual(['*|sequences|USAGE|false', 'acl_d|tables|SELECT|true', 'acl_d|tables|UPDATE|true']);
  });
});
