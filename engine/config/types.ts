/**
 * The typed form of security.yaml after loading, merging and schema validation.
 *
 * Field names follow the YAML file (snake_case) so that an error path such as
 * `roles.app_user.connection_limit` maps back to the file without translation. Values are as the
 * user wrote them: `${env:…}` and `${vault:…}` stay references until a statement needs them, and
 * privilege names are not yet upper-cased or expanded from ALL.
 */

/** A position in a source file, 1-based as editors show it. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** Origin of a value: the file and the key path inside that file's document. */
export interface SourceRef {
  file: string;
  path: readonly (string | number)[];
}

export type Engine = 'postgres' | 'mysql' | 'mariadb' | 'mongodb';

/** A secret written in the file: a reference, resolved only when a statement needs the value. */
export type SecretRef =
  | { kind: 'env'; name: string }
  | { kind: 'vault'; name: string };

export interface TargetConfig {
  engine: Engine;
  url: string;
  password?: SecretRef;
  databases?: string[];
  ignore_roles?: string[];
  drop_unmanaged_roles?: boolean;
  manage_public?: boolean;
}

export interface MembershipConfig {
  role: string;
  admin?: boolean;
  inherit?: boolean;
  set?: boolean;
}

export interface RoleConfig {
  state?: 'present' | 'absent';
  login?: boolean;
  password?: SecretRef;
  superuser?: boolean;
  createdb?: boolean;
  createrole?: boolean;
  replication?: boolean;
  bypassrls?: boolean;
  inherit?: boolean;
  connection_limit?: number;
  /** A date (2027-06-30), a timestamp with time zone, or `infinity`. */
  valid_until?: string;
  member_of?: MembershipConfig[];
  /** PostgreSQL: parameters set for the role in every database (ALTER ROLE … SET). */
  settings?: Record<string, string>;
  /** PostgreSQL: parameters set for the role in one database, by database name (ALTER ROLE … IN DATABASE … SET). */
  settings_in?: Record<string, Record<string, string>>;
  comment?: string;
  reassign_owned_to?: string;
  /** Target names this role applies to; absent means every target. */
  only?: string[];
  /** MySQL/MariaDB: host patterns of the account (`'name'@'host'`), one account per host. */
  hosts?: string[];
  /** MySQL/MariaDB: `REQUIRE SSL | X509 | NONE`. */
  require?: 'ssl' | 'x509' | 'none';
  /** MySQL/MariaDB: `MAX_USER_CONNECTIONS`; 0 means no limit. */
  max_user_connections?: number;
  /** MySQL/MariaDB: `PASSWORD EXPIRE INTERVAL N DAY`; 0 means the password never expires. */
  password_expire_days?: number;
  /** MySQL/MariaDB: roles activated at login (`SET DEFAULT ROLE`). */
  default_roles?: string[];
  /** MongoDB: the authentication database of the user. */
  db?: string;
}

/**
 * Exactly one selector is set. Plural selectors accept a list; `schema.*` in `tables`,
 * `sequences` or `functions` means every existing object of that kind in the schema.
 */
export interface GrantObjectConfig {
  database?: string;
  schema?: string;
  schemas?: string[];
  table?: string;
  tables?: string[];
  columns?: string[];
  sequence?: string;
  sequences?: string[];
  function?: string;
  functions?: string[];
  /** MySQL/MariaDB: privileges on `*.*`. */
  global?: true;
  /** MySQL/MariaDB: a stored procedure or function, `db.name`. */
  routine?: string;
  /** MongoDB: the cluster resource. */
  cluster?: true;
  /** MongoDB: a collection, `db.collection`. */
  collection?: string;
}

export interface GrantConfig {
  /** Role names, or PUBLIC. A single name in the file is normalised to a one-element list. */
  to: string[];
  privileges: string[];
  on: GrantObjectConfig;
  database?: string;
  with_grant_option?: boolean;
  only?: string[];
  source: SourceRef;
}

export type DefaultPrivilegeObjectType = 'tables' | 'sequences' | 'functions' | 'types' | 'schemas';

export interface DefaultPrivilegeConfig {
  for_role: string;
  in_schema?: string;
  on: DefaultPrivilegeObjectType;
  to: string[];
  privileges: string[];
  database?: string;
  with_grant_option?: boolean;
  only?: string[];
  source: SourceRef;
}

export interface PolicyConfig {
  command?: 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
  roles?: string[];
  permissive?: boolean;
  using?: string | null;
  with_check?: string | null;
}

export interface RlsTableConfig {
  enabled?: boolean;
  force?: boolean;
  database?: string;
  policies?: Record<string, PolicyConfig>;
}

export interface PasswordPolicyConfig {
  min_length?: number;
  require?: ('uppercase' | 'lowercase' | 'digits' | 'special')[];
  expiration_days?: number;
  history?: number;
  max_failed_logins?: number;
}

export interface AuditConfig {
  enabled?: boolean;
  operations?: string[];
  exclude_select?: boolean;
  roles?: string[];
  retention_days?: number;
}

export interface EncryptionConfig {
  require_tls?: boolean;
  min_tls_version?: string;
  password_encryption?: string;
}

export interface ComplianceConfig {
  profiles?: string[];
  fail_on?: string;
  waivers?: { check: string; reason: string; until?: string }[];
}

export interface CredentialConfig {
  /** `symbols: false` leaves punctuation out, for clients that mishandle it in URLs. */
  generate?: { length?: number; symbols?: boolean; [option: string]: unknown };
  rotate_every?: string;
}

export interface SecurityConfig {
  version: 1;
  targets: Record<string, TargetConfig>;
  roles: Record<string, RoleConfig>;
  grants: GrantConfig[];
  default_privileges: DefaultPrivilegeConfig[];
  row_level_security: Record<string, RlsTableConfig>;
  password_policy?: PasswordPolicyConfig;
  audit?: AuditConfig;
  encryption?: EncryptionConfig;
  compliance?: ComplianceConfig;
  vault?: {
    path?: string;
    /** Pins checked before any credential is used: the vault id and its key-slot fingerprint. */
    id?: string;
    slot_fingerprint?: string;
    /** Trusted unlock settings, never read from the vault file itself. */
    pkcs11_module?: string;
    aws_kms_endpoint?: string;
    gcp_kms_endpoint?: string;
  };
  credentials: Record<string, CredentialConfig>;
  ledger?: { path?: string; url?: string; retention_days?: number };
  /** Source of every role, target, policy and credential key, for messages that name a line. */
  sources: ConfigSources;
}

/**
 * Map from a dotted section key (`roles.app_user`, `targets.prod`, `row_level_security.public.orders`,
 * `credentials.app-user-password`) or a single-valued section name (`audit`) to where it was
 * declared. `locate` returns the line of the key, computed when first asked.
 */
export interface ConfigSources {
  locate(ref: SourceRef): SourcePosition;
  keys: Map<string, SourceRef>;
}
