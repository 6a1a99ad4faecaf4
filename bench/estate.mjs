/**
 * A realistic security estate at a given scale: the SQL that creates its schemas, tables and
 * sequences, and the security.yaml that declares its roles, memberships and privileges.
 *
 * At scale 1 it has 10,000 roles (one object owner, 499 group roles, 9,500 login roles), about
 * 19,500 memberships, and 1,000 tables with 1,000 sequences in 20 schemas. It declares 100,000
 * schema, table, column and sequence privileges, counted as the catalog counts them: one per
 * grantee, object and privilege. CONNECT on the database and default privileges come on top.
 * Every count grows linearly with the scale, so scale 0.1 is the same estate at one tenth.
 */

/** Counts at scale 1, each multiplied by the scale. */
const FULL = { schemas: 20, groups: 499, logins: 9_500 };
const TABLES_PER_SCHEMA = 50;

/** Privilege rows per object, fixed at every scale so the total grows with the object count. */
const SCHEMA_GRANTEES = 500;
const TABLE_READER_GROUPS = 10;
const TABLE_WRITER_GROUPS = 5;
const TABLE_WRITER_LOGINS = 10;
const COLUMN_READER_LOGINS = 5;
const SEQUENCE_USERS = 5;

const WRITE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

/**
 * Builds the estate. `prefix` starts every role name, because roles are cluster-wide and the
 * server is shared. `url` and `database` are the target's connection url and database.
 */
export function buildEstate({ scale, prefix, url, database }) {
  const schemaCount = Math.max(1, Math.round(FULL.schemas * scale));
  const groupCount = Math.max(10, Math.round(FULL.groups * scale));
  const loginCount = Math.max(10, Math.round(FULL.logins * scale));

  const owner = `${prefix}owner`;
  const groups = Array.from({ length: groupCount }, (_, index) => `${prefix}group_${index}`);
  const logins = Array.from({ length: loginCount }, (_, index) => `${prefix}user_${index}`);
  const everyone = [...groups, ...logins];
  const schemas = Array.from({ length: schemaCount }, (_, index) => `${prefix}s${index}`);
  const tables = schemas.flatMap((schema) =>
    Array.from({ length: TABLES_PER_SCHEMA }, (_, index) => ({ schema, name: `t${index}` })),
  );

  const counts = { roles: 1 + groupCount + loginCount, memberships: 0, schemas: schemaCount, tables: tables.length, sequences: tables.length, privileges: 0, databasePrivileges: 0, defaultPrivileges: 0 };
  const lines = ['version: 1', 'targets:', '  bench:', '    engine: postgres', `    url: ${quote(url)}`, 'roles:'];

  lines.push(`  ${owner}:`, '    comment: owns every table of the estate');
  groups.forEach((group, index) => {
    lines.push(`  ${group}:`, `    comment: group ${index}`);
    // The first ten groups are departments; every other group belongs to one of them.
    if (index >= 10) {
      lines.push(`    member_of: [${groups[index % 10]}]`);
      counts.memberships += 1;
    }
  });
  logins.forEach((login, index) => {
    const first = groups[index % groupCount];
    const second = groups[(index * 7 + 3) % groupCount];
    const memberOf = first === second ? [first] : [first, second];
    lines.push(`  ${login}:`, '    login: true', `    member_of: [${memberOf.join(', ')}]`);
    if (index % 10 === 0) lines.push('    connection_limit: 5');
    if (index % 25 === 0) lines.push('    valid_until: "2031-01-01"');
    counts.memberships += memberOf.length;
  });

  lines.push('grants:');
  const grant = (to, privileges, on) => {
    const grantees = Array.isArray(to) ? `[${to.join(', ')}]` : to;
    lines.push(`  - to: ${grantees}`, `    privileges: [${privileges.join(', ')}]`, `    on: ${on}`);
  };
  let cursor = 0;
  const nextRoles = (list, count) => Array.from({ length: count }, () => list[cursor++ % list.length]);
  const distinct = (list, count) => [...new Set(nextRoles(list, count))];

  grant(groups, ['CONNECT'], `{ database: ${database} }`);
  counts.databasePrivileges += groups.length;

  for (const schema of schemas) {
    const grantees = distinct(everyone, SCHEMA_GRANTEES);
    for (let start = 0; start < grantees.length; start += 10) grant(grantees.slice(start, start + 10), ['USAGE'], `{ schema: ${schema} }`);
    counts.privileges += grantees.length;
  }

  for (const table of tables) {
    const qualified = `${table.schema}.${table.name}`;
    const readers = distinct(groups, TABLE_READER_GROUPS);
    grant(readers, ['SELECT'], `{ table: ${qualified} }`);
    counts.privileges += readers.length;

    for (const writer of distinct(groups, TABLE_WRITER_GROUPS)) {
      grant(writer, WRITE, `{ table: ${qualified} }`);
      counts.privileges += WRITE.length;
    }
    for (const writer of distinct(logins, TABLE_WRITER_LOGINS)) {
      grant(writer, WRITE, `{ table: ${qualified} }`);
      counts.privileges += WRITE.length;
    }
    for (const reader of distinct(logins, COLUMN_READER_LOGINS)) {
      grant(reader, ['SELECT'], `{ table: ${qualified}, columns: [name, amount] }`);
      counts.privileges += 2;
    }
    for (const user of distinct(everyone, SEQUENCE_USERS)) {
      grant(user, ['USAGE', 'SELECT'], `{ sequence: ${table.schema}.${table.name}_id_seq }`);
      counts.privileges += 2;
    }
  }

  lines.push('default_privileges:');
  schemas.forEach((schema, index) => {
    const readers = groups.slice(index % 10, (index % 10) + 5);
    lines.push(`  - for_role: ${owner}`, `    in_schema: ${schema}`, '    on: tables', `    to: [${readers.join(', ')}]`, '    privileges: [SELECT]');
    lines.push(`  - for_role: ${owner}`, `    in_schema: ${schema}`, '    on: sequences', `    to: ${readers[0]}`, '    privileges: [USAGE]');
    counts.defaultPrivileges += readers.length + 1;
  });

  return {
    owner,
    prefix,
    counts,
    setupSql: setupSql(owner, schemas),
    yaml: `${lines.join('\n')}\n`,
  };
}

/**
 * Builds the SQL that creates the objects the privileges are on. The owner role exists before
 * any apply, as the owner of an application's tables does. Every other role is for apply to create.
 */
function setupSql(owner, schemas) {
  const statements = [`CREATE ROLE ${ident(owner)} NOLOGIN`, `COMMENT ON ROLE ${ident(owner)} IS 'owns every table of the estate'`];
  for (const schema of schemas) statements.push(`CREATE SCHEMA ${ident(schema)} AUTHORIZATION ${ident(owner)}`);
  statements.push(`SET ROLE ${ident(owner)}`);
  for (const schema of schemas) {
    for (let index = 0; index < TABLES_PER_SCHEMA; index++) {
      statements.push(
        `CREATE TABLE ${ident(schema)}.t${index} (id bigserial PRIMARY KEY, account_id bigint, name text, amount numeric, created_at timestamptz, note text)`,
      );
    }
  }
  statements.push('RESET ROLE');
  return `${statements.join(';\n')};\n`;
}

/** Quotes a generated identifier. The generator makes only names of [a-z0-9_], and rejects anything else. */
function ident(name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected generated name ${name}`);
  return `"${name}"`;
}

function quote(text) {
  return JSON.stringify(text);
}
