import type { SecretRef, SourceRef } from '../config/types.js';

/**
 * The normalised model shared by desired and actual state. Values are canonical before they are
 * compared: privilege names upper-case and expanded from ALL, identifiers exactly as the server
 * stores them, timestamps in UTC. `diff` compares two values of these types and needs no database.
 */

/** Grantee name of the pseudo-role that every role is a member of. */
export const PUBLIC = 'PUBLIC';

export interface RoleAttributes {
  login: boolean;
  superuser: boolean;
  createdb: boolean;
  createrole: boolean;
  replication: boolean;
  bypassrls: boolean;
  inherit: boolean;
  /** -1 means unlimited. */
  connectionLimit: number;
  /** ISO 8601 in UTC, or null for no expiry (`infinity`). */
  validUntil: string | null;
  comment: string | null;
}

export const ROLE_ATTRIBUTE_DEFAULTS: RoleAttributes = {
  login: false,
  superuser: false,
  createdb: false,
  createrole: false,
  replication: false,
  bypassrls: false,
  inherit: true,
  connectionLimit: -1,
  validUntil: null,
  comment: null,
};

/**
 * The known state of a role's stored password. `scram` keeps the verifier, so that a declared
 * password can be checked against it without being set again. `unreadable` means the connecting
 * role may not read pg_authid.
 */
export type StoredPassword =
  | { kind: 'none' }
  | { kind: 'scram'; verifier: string }
  | { kind: 'md5' }
  | { kind: 'other' }
  | { kind: 'unreadable' };

export interface ActualRole extends RoleAttributes {
  name: string;
  password: StoredPassword;
  /** Roles created by the server itself (pg_*), never managed. */
  system: boolean;
}

export interface DesiredRole extends RoleAttributes {
  name: string;
  password?: SecretRef;
  /**
   * Set when password_policy.expiration_days governs the role's expiry: the role declares a
   * password and no valid_until. Then valid_until is not compared, and each password aishell sets
   * gets VALID UNTIL this many days later.
   */
  passwordExpiryDays?: number;
  source?: SourceRef;
}

/** `member` is a member of `role` (GRANT role TO member). */
export interface Membership {
  role: string;
  member: string;
  admin: boolean;
  /** PostgreSQL 16+ only; null where the server has no such option. */
  inherit: boolean | null;
  set: boolean | null;
  /**
   * Actual state on PostgreSQL 16+ only: who granted it. Such a server keeps one membership per
   * grantor, and a revoke must name the grantor (GRANTED BY) to remove another role's grant.
   */
  grantor?: string;
}

export type GrantObjectKind = 'database' | 'schema' | 'table' | 'column' | 'sequence' | 'function';

/**
 * The object a privilege is on. `schema` and `name` are as stored by the server; a column object
 * also names its table, and a function's `name` is its signature `name(argtypes)`.
 */
export interface ObjectRef {
  kind: GrantObjectKind;
  schema: string | null;
  name: string;
  column?: string;
  /**
   * A function's bare name, without its argument list. Statements quote this name and append the
   * argument types, because a function name may itself contain parentheses.
   */
  routine?: string;
}

/** One privilege held by one grantee on one object: the unit of grant and revoke. */
export interface Grant {
  database: string;
  grantee: string;
  privilege: string;
  object: ObjectRef;
  grantOption: boolean;
  /** Actual state only: the role that granted it. A revoke names it when it is not the owner. */
  grantor?: string;
  source?: SourceRef;
}

export type DefaultObjectType = 'tables' | 'sequences' | 'functions' | 'types' | 'schemas';

/** One entry of ALTER DEFAULT PRIVILEGES: objects `forRole` creates later in `schema` (null: any). */
export interface DefaultPrivilege {
  database: string;
  forRole: string;
  schema: string | null;
  objectType: DefaultObjectType;
  grantee: string;
  privilege: string;
  grantOption: boolean;
  source?: SourceRef;
}

export type RelationKind = 'table' | 'view' | 'materialized view' | 'foreign table' | 'partitioned table';

/** An object that exists in a database, as the server lists it: what `schema.*` expands to. */
export interface CatalogObject {
  kind: 'schema' | 'table' | 'sequence' | 'function';
  schema: string | null;
  name: string;
  owner: string;
  relationKind?: RelationKind;
  /** Function or procedure: the keyword used in GRANT … ON ROUTINE is the same for both. */
  routineKind?: 'function' | 'procedure' | 'aggregate';
  /** A function's bare name; `name` is its signature `name(argtypes)`. */
  routine?: string;
  columns?: string[];
}

/** Row-level security switches of one table (ALTER TABLE … ENABLE / FORCE ROW LEVEL SECURITY). */
export interface RlsTable {
  database: string;
  schema: string;
  table: string;
  enabled: boolean;
  /** Policies apply to the table's owner too. */
  force: boolean;
  source?: SourceRef;
}

export type PolicyCommand = 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * One row-level security policy. `roles` is sorted and holds PUBLIC when the policy names no
 * role. `using` and `withCheck` are expressions as the server deparses them (pg_get_expr), so a
 * declared expression is compared only after the server has parsed and printed it.
 */
export interface Policy {
  database: string;
  schema: string;
  table: string;
  name: string;
  command: PolicyCommand;
  roles: string[];
  /** true: PERMISSIVE (policies combine with OR); false: RESTRICTIVE (combine with AND). */
  permissive: boolean;
  using: string | null;
  withCheck: string | null;
  source?: SourceRef;
}

/**
 * A configuration parameter set for a role (ALTER ROLE … [IN DATABASE …] SET). `database` null
 * means every database. `value` is the text the server stores in pg_db_role_setting.
 */
export interface RoleSetting {
  role: string;
  database: string | null;
  name: string;
  value: string;
  source?: SourceRef;
}

/**
 * A server configuration parameter that aishell sets with ALTER SYSTEM. `value` is in the form
 * the provider compares: a list parameter (`list`) is written `a, b`. `needsRestart` is true when
 * the server reads the parameter only at start, so a reload does not make it take effect.
 */
export interface ServerSetting {
  name: string;
  value: string;
  list: boolean;
  needsRestart: boolean;
  source?: SourceRef;
}

/** A server parameter as inspected: the value configured now and the value the server runs with. */
export interface ActualServerSetting {
  name: string;
  /** The value in the configuration files (what a reload or restart would use); null: unset. */
  configured: string | null;
  /** The value the running server uses; null when the server does not know the parameter. */
  running: string | null;
  /** The configured value differs from the running one and needs a restart. */
  pendingRestart: boolean;
}

/** One line of the server's client authentication file (pg_hba.conf). */
export interface HbaRule {
  line: number;
  /** local, host, hostssl, hostnossl, hostgssenc, hostnogssenc. */
  type: string;
  databases: string[];
  users: string[];
  address: string | null;
  method: string | null;
  error: string | null;
}

/** Server-wide state that the audit and encryption sections are compared with. */
export interface ServerState {
  /** True for an embedded database (PGlite): no network, no server configuration to change. */
  embedded: boolean;
  /**
   * Whether the connecting role is a superuser. PostgreSQL hides some settings from other roles
   * and lets only superusers run ALTER SYSTEM unless a parameter was granted.
   */
  superuser: boolean;
  settings: ActualServerSetting[];
  /** Extensions whose packages are installed on the server (pg_available_extensions). */
  availableExtensions: string[];
  /** null when the connecting role may not read the file or the server has none. */
  hbaRules: HbaRule[] | null;
}

/** The inspected state of one database of a target. */
export interface DatabaseState {
  name: string;
  owner: string;
  grants: Grant[];
  defaultPrivileges: DefaultPrivilege[];
  objects: CatalogObject[];
  /** Row-level security switches of every user table. */
  rlsTables: RlsTable[];
  policies: Policy[];
  /** Extensions created in this database. */
  extensions: string[];
}

/** The inspected state of one target: cluster-wide roles and each managed database. */
export interface ActualState {
  serverVersion: number;
  /** The role the session connected as. */
  currentUser: string;
  roles: ActualRole[];
  memberships: Membership[];
  /** Settings of roles, for every database and for the managed ones; not ALTER DATABASE settings. */
  roleSettings: RoleSetting[];
  server: ServerState;
  databases: DatabaseState[];
}

/** The declared state of one target, before `schema.*` and ALL are expanded. */
export interface DesiredState {
  roles: DesiredRole[];
  absentRoles: { name: string; reassignOwnedTo: string | null; source?: SourceRef }[];
  memberships: (Membership & { source?: SourceRef })[];
  grants: DesiredGrant[];
  defaultPrivileges: DefaultPrivilege[];
  rlsTables: RlsTable[];
  policies: Policy[];
  roleSettings: RoleSetting[];
  /** Server parameters that the audit and encryption sections map to, from the provider. */
  serverSettings: ServerSetting[];
}

/**
 * A declared grant whose object may still be a pattern (`public.*`) and whose privileges may
 * still include ALL. Diff expands it against the objects that exist.
 */
export interface DesiredGrant {
  database: string;
  grantees: string[];
  privileges: string[];
  selector: ObjectSelector;
  grantOption: boolean;
  source?: SourceRef;
}

export type ObjectSelector =
  | { kind: 'database'; name: string }
  | { kind: 'schema'; name: string }
  | { kind: 'table'; schema: string; name: string; columns?: string[] }
  | { kind: 'table'; schema: string; name: '*' }
  | { kind: 'sequence'; schema: string; name: string }
  | { kind: 'function'; schema: string; name: string };

/** Scope rules of one target that diff applies. */
export interface TargetScope {
  ignoreRoles: string[];
  dropUnmanagedRoles: boolean;
  managePublic: boolean;
}
