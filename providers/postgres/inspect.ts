import type {
  ActualRole,
  ActualState,
  CatalogObject,
  DatabaseState,
  DefaultObjectType,
  DefaultPrivilege,
  Grant,
  Membership,
  ObjectRef,
  RelationKind,
  StoredPassword,
} from '../../engine/model/types.js';
import type { PostgresCapabilities } from './capabilities.js';
import * as catalog from './catalog.js';
import type { SqlClient } from './client.js';
import { RLS_QUERIES, serverStateQueries, toRoleSettings, toRowLevelSecurity, toServerState } from './inspect-security.js';

/** Raw rows as the catalog queries return them, typed apart from the model. */
interface ServerRow {
  version: number;
  current_user: string;
  superuser: boolean;
  can_read_authid: boolean;
  can_read_file_settings: boolean;
  can_read_hba: boolean;
}

interface RoleRow {
  oid: number;
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
  valid_until: string | null;
  comment: string | null;
  password: string | null;
  password_unreadable?: boolean;
}

interface MembershipRow {
  role: string;
  member: string;
  admin_option: boolean;
  inherit_option?: boolean;
  set_option?: boolean;
  grantor?: string;
}

/** One entry of an object's ACL, as catalog.ts's `acl` column lists it. */
type AclEntry = [grantor: string, grantee: string, privilege: string, grantable: 'true' | 'false'];

/** The ACL column that every object query returns, NULL where the object has no ACL entry. */
interface AclColumns {
  acl: AclEntry[] | null;
}

interface NamedObjectRow extends AclColumns {
  name: string;
  owner: string;
}

interface RelationRow extends AclColumns {
  schema: string;
  name: string;
  relkind: string;
  owner: string;
}

interface ColumnRow extends AclColumns {
  schema: string;
  table: string;
  column: string;
}

interface RoutineRow extends AclColumns {
  schema: string;
  name: string;
  routine: string;
  prokind: string;
  owner: string;
}

interface DefaultAclRow extends AclColumns {
  for_role: string;
  schema: string | null;
  object_type: string;
}

/** The bootstrap superuser created by initdb always has this OID. */
const BOOTSTRAP_SUPERUSER_OID = 10;

const RELATION_KINDS: Record<string, RelationKind> = {
  r: 'table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  p: 'partitioned table',
};

/** pg_proc.prokind codes; `f` and `w` (window functions) are both granted as functions. */
const ROUTINE_KINDS: Record<string, CatalogObject['routineKind']> = { p: 'procedure', a: 'aggregate' };

const DEFAULT_ACL_TYPES: Record<string, DefaultObjectType> = {
  r: 'tables',
  S: 'sequences',
  f: 'functions',
  T: 'types',
  n: 'schemas',
};

export interface ServerInfo {
  version: number;
  currentUser: string;
  superuser: boolean;
  canReadPasswords: boolean;
  canReadFileSettings: boolean;
  canReadHba: boolean;
  /** An embedded PGlite database rather than a server. */
  embedded: boolean;
}

export async function inspectServer(client: SqlClient, embedded: boolean): Promise<ServerInfo> {
  const [row] = await client.query<ServerRow>(catalog.SERVER_QUERY);
  return {
    version: Number(row.version),
    currentUser: row.current_user,
    superuser: row.superuser,
    canReadPasswords: row.can_read_authid,
    canReadFileSettings: row.can_read_file_settings,
    canReadHba: row.can_read_hba,
    embedded,
  };
}

/**
 * Reads cluster-wide roles, memberships, role settings and server state through `primary`, and
 * each managed database through its own client. Every connection gets its catalog queries in one
 * batch, so the inspection costs one round trip per database whatever the number of objects, and
 * the databases are read at the same time.
 */
export async function inspect(
  server: ServerInfo,
  capabilities: PostgresCapabilities,
  primary: SqlClient,
  databases: Map<string, SqlClient>,
): Promise<ActualState> {
  const cluster = {
    roles: server.canReadPasswords ? catalog.ROLES_WITH_PASSWORD_QUERY : catalog.ROLES_QUERY,
    memberships: capabilities.membershipOptions ? catalog.MEMBERSHIPS_WITH_OPTIONS_QUERY : catalog.MEMBERSHIPS_QUERY,
    roleSettings: catalog.ROLE_SETTINGS_QUERY,
    ...serverStateQueries(server),
  };

  // The primary connection carries the cluster queries in front of its database's, in one batch.
  const batches = new Map<SqlClient, { key: string; sql: string }[]>([[primary, named('', cluster)]]);
  for (const [name, client] of databases) {
    const queries = named(`${name}\0`, { ...DATABASE_QUERIES, ...RLS_QUERIES });
    batches.set(client, [...(batches.get(client) ?? []), ...queries]);
  }
  const rows = new Map<string, unknown[]>();
  await Promise.all([...batches].map(async ([client, queries]) => {
    const results = await client.queryBatch(queries.map((query) => query.sql));
    queries.forEach((query, index) => rows.set(query.key, results[index] ?? []));
  }));

  // Only the keys a batch contained are filled in, so a query left out (pg_hba without access) stays absent.
  const take = <Keys extends string>(prefix: string, keys: Partial<Record<Keys, unknown>>): Record<Keys, unknown[]> =>
    Object.fromEntries(Object.keys(keys).map((key) => [key, rows.get(`${prefix}${key}`) ?? []])) as Record<Keys, unknown[]>;
  const clusterRows = take('', cluster);

  const states: DatabaseState[] = [];
  for (const name of databases.keys()) {
    states.push({
      ...toDatabaseState(name, take(`${name}\0`, DATABASE_QUERIES)),
      ...toRowLevelSecurity(name, take(`${name}\0`, RLS_QUERIES)),
    });
  }

  return {
    serverVersion: server.version,
    currentUser: server.currentUser,
    roles: (clusterRows.roles as RoleRow[]).map(toRole),
    memberships: (clusterRows.memberships as MembershipRow[]).map((row) => toMembership(row, capabilities.membershipOptions)),
    roleSettings: toRoleSettings(clusterRows.roleSettings),
    server: toServerState(server, clusterRows),
    databases: states,
  };
}

/** Gives each query of a batch a key that is unique across the batches of one inspection. */
function named(prefix: string, queries: Record<string, string | undefined>): { key: string; sql: string }[] {
  return Object.entries(queries).flatMap(([key, sql]) => (sql === undefined ? [] : [{ key: `${prefix}${key}`, sql }]));
}

/** The queries of one database's privileges, objects and default privileges. */
const DATABASE_QUERIES = {
  database: catalog.DATABASE_QUERY,
  schemas: catalog.SCHEMAS_QUERY,
  relations: catalog.RELATIONS_QUERY,
  columns: catalog.COLUMNS_QUERY,
  routines: catalog.ROUTINES_QUERY,
  defaultAcls: catalog.DEFAULT_PRIVILEGES_QUERY,
};

function toDatabaseState(
  name: string,
  rows: Record<keyof typeof DATABASE_QUERIES, unknown[]>,
): Omit<DatabaseState, 'rlsTables' | 'policies' | 'extensions'> {
  const databaseRows = rows.database as NamedObjectRow[];
  const schemaRows = rows.schemas as NamedObjectRow[];
  const relationRows = rows.relations as RelationRow[];
  const columnRows = rows.columns as ColumnRow[];
  const routineRows = rows.routines as RoutineRow[];
  const defaultAclRows = rows.defaultAcls as DefaultAclRow[];

  const grants: Grant[] = [];
  const objects = new Map<string, CatalogObject>();
  // The grants of one object share its ObjectRef, which nothing changes after inspection.
  const addGrants = (object: ObjectRef, row: AclColumns) => {
    if (row.acl === null) return;
    for (const [grantor, grantee, privilege, grantable] of row.acl) {
      grants.push({ database: name, grantee, privilege, object, grantOption: grantable === 'true', grantor });
    }
  };

  let owner = '';
  for (const row of databaseRows) {
    owner = row.owner;
    addGrants({ kind: 'database', schema: null, name: row.name }, row);
  }

  for (const row of schemaRows) {
    const key = `schema:${row.name}`;
    if (!objects.has(key)) objects.set(key, { kind: 'schema', schema: null, name: row.name, owner: row.owner });
    addGrants({ kind: 'schema', schema: null, name: row.name }, row);
  }

  const columnsByTable = new Map<string, string[]>();
  for (const row of columnRows) {
    const key = `${row.schema}\0${row.table}`;
    const columns = columnsByTable.get(key) ?? [];
    columns.push(row.column);
    columnsByTable.set(key, columns);
    addGrants({ kind: 'column', schema: row.schema, name: row.table, column: row.column }, row);
  }

  for (const row of relationRows) {
    const isSequence = row.relkind === 'S';
    const kind = isSequence ? 'sequence' : 'table';
    const key = `${kind}:${row.schema}\0${row.name}`;
    if (!objects.has(key)) {
      objects.set(key, {
        kind,
        schema: row.schema,
        name: row.name,
        owner: row.owner,
        relationKind: isSequence ? undefined : RELATION_KINDS[row.relkind],
        columns: isSequence ? undefined : (columnsByTable.get(`${row.schema}\0${row.name}`) ?? []),
      });
    }
    addGrants({ kind, schema: row.schema, name: row.name }, row);
  }

  for (const row of routineRows) {
    const key = `function:${row.schema}\0${row.name}`;
    if (!objects.has(key)) {
      objects.set(key, {
        kind: 'function',
        schema: row.schema,
        name: row.name,
        routine: row.routine,
        owner: row.owner,
        routineKind: ROUTINE_KINDS[row.prokind] ?? 'function',
      });
    }
    addGrants({ kind: 'function', schema: row.schema, name: row.name, routine: row.routine }, row);
  }

  const defaultPrivileges: DefaultPrivilege[] = [];
  for (const row of defaultAclRows) {
    const objectType = DEFAULT_ACL_TYPES[row.object_type];
    if (!objectType || row.acl === null) continue;
    for (const [, grantee, privilege, grantable] of row.acl) {
      defaultPrivileges.push({ database: name, forRole: row.for_role, schema: row.schema, objectType, grantee, privilege, grantOption: grantable === 'true' });
    }
  }

  return { name, owner, grants, defaultPrivileges, objects: [...objects.values()] };
}

function toRole(row: RoleRow): ActualRole {
  return {
    name: row.rolname,
    login: row.rolcanlogin,
    superuser: row.rolsuper,
    createdb: row.rolcreatedb,
    createrole: row.rolcreaterole,
    replication: row.rolreplication,
    bypassrls: row.rolbypassrls,
    inherit: row.rolinherit,
    connectionLimit: Number(row.rolconnlimit),
    validUntil: row.valid_until,
    comment: row.comment,
    password: toStoredPassword(row),
    system: row.rolname.startsWith('pg_') || Number(row.oid) === BOOTSTRAP_SUPERUSER_OID,
  };
}

function toStoredPassword(row: RoleRow): StoredPassword {
  if (row.password_unreadable) return { kind: 'unreadable' };
  if (row.password === null) return { kind: 'none' };
  if (row.password.startsWith('SCRAM-SHA-256$')) return { kind: 'scram', verifier: row.password };
  if (row.password.startsWith('md5')) return { kind: 'md5' };
  return { kind: 'other' };
}

function toMembership(row: MembershipRow, withOptions: boolean): Membership {
  return {
    role: row.role,
    member: row.member,
    admin: row.admin_option,
    inherit: withOptions ? (row.inherit_option ?? null) : null,
    set: withOptions ? (row.set_option ?? null) : null,
    ...(withOptions && row.grantor ? { grantor: row.grantor } : {}),
  };
}
