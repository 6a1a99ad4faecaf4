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
import { inspectRoleSettings, inspectRowLevelSecurity, inspectServerState } from './inspect-security.js';

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

/** The ACL columns that every object query returns; NULL where the object has no ACL entry. */
interface AclColumns {
  grantor: string | null;
  grantee: string | null;
  privilege_type: string | null;
  is_grantable: boolean | null;
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
 * Reads cluster-wide roles, memberships, role settings and server state through `primary`, then
 * each managed database through its own client. The number of queries is fixed whatever the
 * number of objects: at most eight for the cluster and nine per database.
 */
export async function inspect(
  server: ServerInfo,
  capabilities: PostgresCapabilities,
  primary: SqlClient,
  databases: Map<string, SqlClient>,
): Promise<ActualState> {
  const roleRows = await primary.query<RoleRow>(
    server.canReadPasswords ? catalog.ROLES_WITH_PASSWORD_QUERY : catalog.ROLES_QUERY,
  );
  const membershipRows = await primary.query<MembershipRow>(
    capabilities.membershipOptions ? catalog.MEMBERSHIPS_WITH_OPTIONS_QUERY : catalog.MEMBERSHIPS_QUERY,
  );

  const roleSettings = await inspectRoleSettings(primary);
  const serverState = await inspectServerState(primary, server);

  const states: DatabaseState[] = [];
  for (const [name, client] of databases) {
    states.push({ ...(await inspectDatabase(name, client)), ...(await inspectRowLevelSecurity(name, client)) });
  }

  return {
    serverVersion: server.version,
    currentUser: server.currentUser,
    roles: roleRows.map(toRole),
    memberships: membershipRows.map((row) => toMembership(row, capabilities.membershipOptions)),
    roleSettings,
    server: serverState,
    databases: states,
  };
}

async function inspectDatabase(
  name: string,
  client: SqlClient,
): Promise<Omit<DatabaseState, 'rlsTables' | 'policies' | 'extensions'>> {
  const databaseRows = await client.query<NamedObjectRow>(catalog.DATABASE_QUERY);
  const schemaRows = await client.query<NamedObjectRow>(catalog.SCHEMAS_QUERY);
  const relationRows = await client.query<RelationRow>(catalog.RELATIONS_QUERY);
  const columnRows = await client.query<ColumnRow>(catalog.COLUMNS_QUERY);
  const routineRows = await client.query<RoutineRow>(catalog.ROUTINES_QUERY);
  const defaultAclRows = await client.query<DefaultAclRow>(catalog.DEFAULT_PRIVILEGES_QUERY);

  const grants: Grant[] = [];
  const objects = new Map<string, CatalogObject>();
  const addGrant = (object: ObjectRef, row: AclColumns) => {
    if (row.grantee === null || row.privilege_type === null) return;
    grants.push({
      database: name,
      grantee: row.grantee,
      privilege: row.privilege_type,
      object,
      grantOption: row.is_grantable === true,
      grantor: row.grantor ?? undefined,
    });
  };
  const remember = (key: string, create: () => CatalogObject) => {
    if (!objects.has(key)) objects.set(key, create());
  };

  let owner = '';
  for (const row of databaseRows) {
    owner = row.owner;
    addGrant({ kind: 'database', schema: null, name: row.name }, row);
  }

  for (const row of schemaRows) {
    remember(`schema:${row.name}`, () => ({ kind: 'schema', schema: null, name: row.name, owner: row.owner }));
    addGrant({ kind: 'schema', schema: null, name: row.name }, row);
  }

  const columnsByTable = new Map<string, string[]>();
  for (const row of columnRows) {
    const key = `${row.schema}\0${row.table}`;
    const columns = columnsByTable.get(key) ?? [];
    if (!columns.includes(row.column)) columns.push(row.column);
    columnsByTable.set(key, columns);
    addGrant({ kind: 'column', schema: row.schema, name: row.table, column: row.column }, row);
  }

  for (const row of relationRows) {
    const isSequence = row.relkind === 'S';
    const kind = isSequence ? 'sequence' : 'table';
    remember(`${kind}:${row.schema}\0${row.name}`, () => ({
      kind,
      schema: row.schema,
      name: row.name,
      owner: row.owner,
      relationKind: isSequence ? undefined : RELATION_KINDS[row.relkind],
      columns: isSequence ? undefined : (columnsByTable.get(`${row.schema}\0${row.name}`) ?? []),
    }));
    addGrant({ kind, schema: row.schema, name: row.name }, row);
  }

  for (const row of routineRows) {
    remember(`function:${row.schema}\0${row.name}`, () => ({
      kind: 'function',
      schema: row.schema,
      name: row.name,
      routine: row.routine,
      owner: row.owner,
      routineKind: ROUTINE_KINDS[row.prokind] ?? 'function',
    }));
    addGrant({ kind: 'function', schema: row.schema, name: row.name, routine: row.routine }, row);
  }

  const defaultPrivileges: DefaultPrivilege[] = [];
  for (const row of defaultAclRows) {
    const objectType = DEFAULT_ACL_TYPES[row.object_type];
    if (!objectType || row.grantee === null || row.privilege_type === null) continue;
    defaultPrivileges.push({
      database: name,
      forRole: row.for_role,
      schema: row.schema,
      objectType,
      grantee: row.grantee,
      privilege: row.privilege_type,
      grantOption: row.is_grantable === true,
    });
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
