/**
 * Turns the merged YAML into SecurityConfig: single names become one-element lists, membership
 * names become { role }, missing sections become empty, and every entry gets its source.
 *
 * It runs even when the schema reported errors, so that the semantic checks can report their
 * problems in the same run. A value of the wrong type is then left out rather than trusted.
 */
import type { MergedDocument, SourcedEntry } from './merge.js';
import { isMapping, SINGLETON_SECTIONS } from './merge.js';
import type {
  AuditConfig,
  ComplianceConfig,
  ConfigSources,
  CredentialConfig,
  DefaultPrivilegeConfig,
  DefaultPrivilegeObjectType,
  EncryptionConfig,
  Engine,
  GrantConfig,
  GrantObjectConfig,
  MembershipConfig,
  PasswordPolicyConfig,
  PolicyConfig,
  RlsTableConfig,
  RoleConfig,
  SecretRef,
  SecurityConfig,
  SourceRef,
  TargetConfig,
} from './types.js';

type Raw = Record<string, unknown>;

type Converter = (value: unknown) => unknown;

/** Keys of a section with the converters of their values, in the order the normalised object lists them. */
interface FieldTable {
  fields: readonly (readonly [string, Converter])[];
  /** The position of each key in `fields`. */
  positions: ReadonlyMap<string, number>;
}

function fieldTable(converters: Record<string, Converter>): FieldTable {
  const fields = Object.entries(converters);
  // pick() marks the keys present in the bits of a 32-bit integer.
  if (fields.length > 31) throw new Error(`a field table lists ${fields.length} keys, more than 31`);
  return { fields, positions: new Map(fields.map(([key], position) => [key, position])) };
}

export function normalizeConfig(merged: MergedDocument, locate: ConfigSources['locate']): SecurityConfig {
  const keys = new Map<string, SourceRef>();

  const targets = normalizeMap(merged.maps.targets, 'targets', keys, normalizeTarget);
  const roles = normalizeMap(merged.maps.roles, 'roles', keys, normalizeRole);
  const row_level_security = normalizeMap(merged.maps.row_level_security, 'row_level_security', keys, normalizeRlsTable);
  const credentials = normalizeMap(merged.maps.credentials, 'credentials', keys, normalizeCredential);

  const singleton = (name: string): Raw | undefined => {
    const value = merged.singletons.get(name)?.value;
    return isMapping(value) ? value : undefined;
  };

  const config: SecurityConfig = {
    version: 1,
    targets,
    roles,
    grants: merged.lists.grants.map(normalizeGrant),
    default_privileges: merged.lists.default_privileges.map(normalizeDefaultPrivilege),
    row_level_security,
    credentials,
    sources: { keys, locate },
  };

  for (const section of SINGLETON_SECTIONS) {
    const entry = merged.singletons.get(section);
    if (entry) keys.set(section, entry.source);
  }

  const passwordPolicy = singleton('password_policy');
  if (passwordPolicy) config.password_policy = normalizePasswordPolicy(passwordPolicy);
  const audit = singleton('audit');
  if (audit) config.audit = normalizeAudit(audit);
  const encryption = singleton('encryption');
  if (encryption) config.encryption = pick<EncryptionConfig>(encryption, ENCRYPTION_FIELDS);
  const compliance = singleton('compliance');
  if (compliance) config.compliance = normalizeCompliance(compliance);
  const vault = singleton('vault');
  if (vault) {
    config.vault = pick<NonNullable<SecurityConfig['vault']>>(vault, VAULT_FIELDS);
  }
  const ledger = singleton('ledger');
  if (ledger) config.ledger = pick<NonNullable<SecurityConfig['ledger']>>(ledger, LEDGER_FIELDS);

  return config;
}

/** Builds a null-prototype record, so that role names such as `constructor` are plain keys. */
function normalizeMap<T>(
  entries: Map<string, SourcedEntry>,
  section: string,
  keys: Map<string, SourceRef>,
  normalize: (raw: Raw) => T,
): Record<string, T> {
  const result = Object.create(null) as Record<string, T>;
  for (const [name, entry] of entries) {
    result[name] = normalize(isMapping(entry.value) ? entry.value : {});
    keys.set(`${section}.${name}`, entry.source);
  }
  return result;
}

function normalizeTarget(raw: Raw): TargetConfig {
  const target = pick<Omit<TargetConfig, 'engine' | 'url' | 'password'> & { url?: string }>(raw, TARGET_FIELDS);
  const password = secret(raw.password);
  return { engine: raw.engine as Engine, url: target.url ?? '', ...target, ...(password ? { password } : {}) };
}

function normalizeRole(raw: Raw): RoleConfig {
  const role = pick<RoleConfig>(raw, ROLE_FIELDS);

  const password = secret(raw.password);
  if (password) role.password = password;

  const memberships = normalizeMemberships(raw.member_of);
  if (memberships) role.member_of = memberships;

  if (isMapping(raw.settings)) role.settings = normalizeSettings(raw.settings);
  if (isMapping(raw.settings_in)) {
    const byDatabase = Object.create(null) as Record<string, Record<string, string>>;
    for (const [database, settings] of Object.entries(raw.settings_in)) {
      if (isMapping(settings)) byDatabase[database] = normalizeSettings(settings);
    }
    role.settings_in = byDatabase;
  }
  return role;
}

/** Parameter values as text: `30s`, `64MB`, `on`; YAML numbers and booleans are written as text. */
function normalizeSettings(raw: Raw): Record<string, string> {
  const settings = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'boolean') settings[name] = value ? 'on' : 'off';
    else if (typeof value === 'string' || typeof value === 'number') settings[name] = String(value);
  }
  return settings;
}

function normalizeMemberships(raw: unknown): MembershipConfig[] | undefined {
  if (raw === undefined) return undefined;
  const items = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  const memberships: MembershipConfig[] = [];
  for (const item of items) {
    if (typeof item === 'string') {
      memberships.push({ role: item });
    } else if (isMapping(item) && typeof item.role === 'string') {
      memberships.push(pick<MembershipConfig>(item, MEMBERSHIP_FIELDS, { role: item.role }));
    }
  }
  return memberships;
}

function normalizeGrant(entry: SourcedEntry): GrantConfig {
  const raw = isMapping(entry.value) ? entry.value : {};
  const grant = pick<GrantConfig>(raw, GRANT_FIELDS, {
    to: list(raw.to) ?? [],
    privileges: list(raw.privileges) ?? [],
    on: normalizeGrantObject(raw.on),
  });
  grant.source = entry.source;
  return grant;
}

function normalizeGrantObject(raw: unknown): GrantObjectConfig {
  if (!isMapping(raw)) return {};
  const on = pick<GrantObjectConfig>(raw, GRANT_OBJECT_FIELDS);
  if (raw.global === true) on.global = true;
  if (raw.cluster === true) on.cluster = true;
  return on;
}

function normalizeDefaultPrivilege(entry: SourcedEntry): DefaultPrivilegeConfig {
  const raw = isMapping(entry.value) ? entry.value : {};
  const defaultPrivilege = pick<DefaultPrivilegeConfig>(raw, DEFAULT_PRIVILEGE_FIELDS, {
    for_role: text(raw.for_role) ?? '',
    on: raw.on as DefaultPrivilegeObjectType,
    to: list(raw.to) ?? [],
    privileges: list(raw.privileges) ?? [],
  });
  defaultPrivilege.source = entry.source;
  return defaultPrivilege;
}

function normalizeRlsTable(raw: Raw): RlsTableConfig {
  const table = pick<RlsTableConfig>(raw, RLS_TABLE_FIELDS);
  if (isMapping(raw.policies)) {
    const policies = Object.create(null) as Record<string, PolicyConfig>;
    for (const [name, policy] of Object.entries(raw.policies)) {
      policies[name] = isMapping(policy) ? normalizePolicy(policy) : {};
    }
    table.policies = policies;
  }
  return table;
}

function normalizePolicy(raw: Raw): PolicyConfig {
  const policy = pick<PolicyConfig>(raw, POLICY_FIELDS);
  for (const key of ['using', 'with_check'] as const) {
    const value = raw[key];
    if (typeof value === 'string' || value === null) policy[key] = value;
  }
  return policy;
}

function normalizePasswordPolicy(raw: Raw): PasswordPolicyConfig {
  return pick<PasswordPolicyConfig>(raw, PASSWORD_POLICY_FIELDS);
}

function normalizeAudit(raw: Raw): AuditConfig {
  return pick<AuditConfig>(raw, AUDIT_FIELDS);
}

function normalizeCompliance(raw: Raw): ComplianceConfig {
  const compliance = pick<ComplianceConfig>(raw, COMPLIANCE_FIELDS);
  if (Array.isArray(raw.waivers)) {
    compliance.waivers = raw.waivers.filter(isMapping).map((waiver) =>
      pick<NonNullable<ComplianceConfig['waivers']>[number]>(waiver, WAIVER_FIELDS, { check: text(waiver.check) ?? '', reason: text(waiver.reason) ?? '' }),
    );
  }
  return compliance;
}

function normalizeCredential(raw: Raw): CredentialConfig {
  const credential = pick<CredentialConfig>(raw, CREDENTIAL_FIELDS);
  if (isMapping(raw.generate)) credential.generate = pick<NonNullable<CredentialConfig['generate']>>(raw.generate, GENERATE_FIELDS);
  return credential;
}

/**
 * Copies the keys whose values convert into `result`, after the keys it already has, in the order
 * of the table. Keys that are absent or of the wrong type are left out. The converters decide the
 * value types, so `T` must list the same keys with matching types.
 */
function pick<T extends object>(raw: Raw, table: FieldTable, result: Raw = {}): T {
  // A mapping sets few of the keys that its table lists (a role often 2 of 19), so the keys of the
  // mapping are looked up in the table rather than each key of the table in the mapping.
  let present = 0;
  for (const key in raw) {
    const position = table.positions.get(key);
    if (position !== undefined) present |= 1 << position;
  }

  for (let position = 0; present !== 0; position++, present >>>= 1) {
    if ((present & 1) === 0) continue;
    const [key, convert] = table.fields[position]!;
    const value = convert(raw[key]);
    if (value !== undefined) result[key] = value;
  }
  return result as T;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function bool(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

function integer(value: unknown): number | undefined {
  return Number.isInteger(value) ? (value as number) : undefined;
}

/**
 * Returns a name or a list of names as a list, leaving out entries that are not strings. A list of
 * only strings, the usual case, is returned as it is rather than copied, because the parsed
 * document is not used after normalisation and no two places of it share a list.
 */
function list(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return undefined;
  if (value.every((item) => typeof item === 'string')) return value as string[];
  return value.filter((item): item is string => typeof item === 'string');
}

/** Returns the SecretRef made by resolveReferences. A plain string (a schema error) is never kept. */
function secret(value: unknown): SecretRef | undefined {
  if (!isMapping(value)) return undefined;
  const { kind, name } = value as { kind?: unknown; name?: unknown };
  return (kind === 'env' || kind === 'vault') && typeof name === 'string' ? { kind, name } : undefined;
}

// Built once, because the loader normalises every role and grant, up to hundreds of thousands per file.
const TARGET_FIELDS: FieldTable = fieldTable({ url: text, databases: list, ignore_roles: list, drop_unmanaged_roles: bool, manage_public: bool });

const ROLE_FIELDS: FieldTable = fieldTable({
  state: text,
  login: bool,
  superuser: bool,
  createdb: bool,
  createrole: bool,
  replication: bool,
  bypassrls: bool,
  inherit: bool,
  connection_limit: integer,
  valid_until: text,
  comment: text,
  reassign_owned_to: text,
  only: list,
  hosts: list,
  require: text,
  max_user_connections: integer,
  password_expire_days: integer,
  default_roles: list,
  db: text,
});

const MEMBERSHIP_FIELDS: FieldTable = fieldTable({ admin: bool, inherit: bool, set: bool });

const GRANT_FIELDS: FieldTable = fieldTable({ database: text, with_grant_option: bool, only: list });

const GRANT_OBJECT_FIELDS: FieldTable = fieldTable({
  database: text,
  schema: text,
  schemas: list,
  table: text,
  tables: list,
  columns: list,
  sequence: text,
  sequences: list,
  function: text,
  functions: list,
  routine: text,
  collection: text,
});

const DEFAULT_PRIVILEGE_FIELDS: FieldTable = fieldTable({ in_schema: text, database: text, with_grant_option: bool, only: list });

const RLS_TABLE_FIELDS: FieldTable = fieldTable({ enabled: bool, force: bool, database: text });

const POLICY_FIELDS: FieldTable = fieldTable({ command: text, roles: list, permissive: bool });

const PASSWORD_POLICY_FIELDS: FieldTable = fieldTable({
  min_length: integer,
  require: list,
  expiration_days: integer,
  history: integer,
  max_failed_logins: integer,
});

const AUDIT_FIELDS: FieldTable = fieldTable({ enabled: bool, operations: list, exclude_select: bool, roles: list, retention_days: integer });

const ENCRYPTION_FIELDS: FieldTable = fieldTable({ require_tls: bool, min_tls_version: text, password_encryption: text });

const COMPLIANCE_FIELDS: FieldTable = fieldTable({ profiles: list, fail_on: text });

const WAIVER_FIELDS: FieldTable = fieldTable({ until: text });

const CREDENTIAL_FIELDS: FieldTable = fieldTable({ rotate_every: text });

const GENERATE_FIELDS: FieldTable = fieldTable({ length: integer, symbols: bool });

const VAULT_FIELDS: FieldTable = fieldTable({
  path: text,
  id: text,
  slot_fingerprint: text,
  pkcs11_module: text,
  aws_kms_endpoint: text,
  gcp_kms_endpoint: text,
});

const LEDGER_FIELDS: FieldTable = fieldTable({ path: text, url: text, retention_days: integer });
