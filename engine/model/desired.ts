import type { Diagnostic } from '../diagnostics.js';
import type { GrantObjectConfig, SecurityConfig, SourceRef } from '../config/types.js';
import { parseFunctionSignature, parseQualifiedName } from './names.js';
import { buildRowLevelSecurity } from './desired-rls.js';
import { buildRoleSettings } from './desired-settings.js';
import {
  ROLE_ATTRIBUTE_DEFAULTS,
  type DesiredGrant,
  type DesiredRole,
  type DesiredState,
  type Membership,
  type ObjectSelector,
} from './types.js';

/** A diagnostic that still points at a key path; the engine turns it into a file position. */
export interface SourcedDiagnostic extends Omit<Diagnostic, 'position'> {
  source?: SourceRef;
}

/**
 * Builds what the file declares for one target. `primaryDatabase` is the database of the target's
 * url, used for grants that do not name one.
 */
export function buildDesiredState(
  config: SecurityConfig,
  targetName: string,
  primaryDatabase: string,
): { desired: DesiredState; diagnostics: SourcedDiagnostic[] } {
  const diagnostics: SourcedDiagnostic[] = [];
  const appliesHere = (only?: string[]) => !only || only.includes(targetName);

  const desired: DesiredState = {
    roles: [],
    absentRoles: [],
    memberships: [],
    grants: [],
    defaultPrivileges: [],
    rlsTables: [],
    policies: [],
    roleSettings: [],
    serverSettings: [],
  };
  const expiryDays = config.password_policy?.expiration_days;
  // Tens of thousands of grants name a handful of privileges, and toUpperCase returns a new
  // string each time, so each name is upper-cased once.
  const upperCased = new Map<string, string>();
  const upperCase = (privilege: string) => {
    let name = upperCased.get(privilege);
    if (name === undefined) {
      name = privilege.toUpperCase();
      upperCased.set(privilege, name);
    }
    return name;
  };

  // The loops over roles and grants are indexed: a plan builds the desired state once, much of it
  // before V8 optimises the code, and unoptimised for-of loops and destructured entries allocate
  // at every step.
  const roleNames = Object.keys(config.roles);
  for (let roleIndex = 0; roleIndex < roleNames.length; roleIndex++) {
    const name = roleNames[roleIndex];
    const role = config.roles[name];
    if (!appliesHere(role.only)) continue;
    const source = config.sources.keys.get(`roles.${name}`);

    if (role.state === 'absent') {
      desired.absentRoles.push({ name, reassignOwnedTo: role.reassign_owned_to ?? null, source });
      continue;
    }

    const desiredRole = toDesiredRole(name, role, source);
    if (expiryDays !== undefined && role.password && role.valid_until === undefined) desiredRole.passwordExpiryDays = expiryDays;
    desired.roles.push(desiredRole);
    if (role.settings !== undefined || role.settings_in !== undefined) desired.roleSettings.push(...buildRoleSettings(name, role, source));
    const memberOf = role.member_of ?? [];
    for (let membershipIndex = 0; membershipIndex < memberOf.length; membershipIndex++) {
      const membership = memberOf[membershipIndex];
      desired.memberships.push({
        role: membership.role,
        member: name,
        admin: membership.admin ?? false,
        inherit: membership.inherit ?? null,
        set: membership.set ?? null,
        source,
      } satisfies Membership & { source?: SourceRef });
    }
  }

  for (let grantIndex = 0; grantIndex < config.grants.length; grantIndex++) {
    const grant = config.grants[grantIndex];
    if (!appliesHere(grant.only)) continue;

    const selectors = splitListSelectors(grant.on);
    for (let selectorIndex = 0; selectorIndex < selectors.length; selectorIndex++) {
      const selector = toSelector(selectors[selectorIndex]);
      if ('error' in selector) {
        diagnostics.push({ severity: 'error', summary: selector.error, fix: selector.fix, source: grant.source });
        continue;
      }
      desired.grants.push({
        database: grant.database ?? (selector.kind === 'database' ? selector.name : primaryDatabase),
        grantees: grant.to,
        privileges: grant.privileges.map(upperCase),
        selector,
        grantOption: grant.with_grant_option ?? false,
        source: grant.source,
      } satisfies DesiredGrant);
    }
  }

  for (const entry of config.default_privileges) {
    if (!appliesHere(entry.only)) continue;
    for (const grantee of entry.to) {
      for (const privilege of entry.privileges) {
        desired.defaultPrivileges.push({
          database: entry.database ?? primaryDatabase,
          forRole: entry.for_role,
          schema: entry.in_schema ?? null,
          objectType: entry.on,
          grantee,
          privilege: privilege.toUpperCase(),
          grantOption: entry.with_grant_option ?? false,
          source: entry.source,
        });
      }
    }
  }

  const rls = buildRowLevelSecurity(config, primaryDatabase);
  desired.rlsTables.push(...rls.tables);
  desired.policies.push(...rls.policies);
  diagnostics.push(...rls.diagnostics);

  return { desired, diagnostics };
}

function toDesiredRole(name: string, role: SecurityConfig['roles'][string], source?: SourceRef): DesiredRole {
  return {
    name,
    login: role.login ?? ROLE_ATTRIBUTE_DEFAULTS.login,
    superuser: role.superuser ?? ROLE_ATTRIBUTE_DEFAULTS.superuser,
    createdb: role.createdb ?? ROLE_ATTRIBUTE_DEFAULTS.createdb,
    createrole: role.createrole ?? ROLE_ATTRIBUTE_DEFAULTS.createrole,
    replication: role.replication ?? ROLE_ATTRIBUTE_DEFAULTS.replication,
    bypassrls: role.bypassrls ?? ROLE_ATTRIBUTE_DEFAULTS.bypassrls,
    inherit: role.inherit ?? ROLE_ATTRIBUTE_DEFAULTS.inherit,
    connectionLimit: role.connection_limit ?? ROLE_ATTRIBUTE_DEFAULTS.connectionLimit,
    validUntil: normaliseValidUntil(role.valid_until),
    comment: role.comment ?? null,
    password: role.password,
    source,
  };
}

/**
 * Normalises `valid_until` to the form inspect reads: UTC, second precision. A bare date means
 * midnight UTC, because the provider's sessions run with TimeZone set to UTC.
 */
export function normaliseValidUntil(value: string | undefined): string | null {
  if (value === undefined || value === 'infinity') return null;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) return value;
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

type SelectorResult = ObjectSelector | { error: string; fix?: string };

function toSelector(on: GrantObjectConfig): SelectorResult {
  if (on.database !== undefined) return { kind: 'database', name: on.database };
  if (on.schema !== undefined) return { kind: 'schema', name: on.schema };

  const table = on.table ?? on.tables?.[0];
  if (table !== undefined) return relationSelector('table', table, on.columns);
  const sequence = on.sequence ?? on.sequences?.[0];
  if (sequence !== undefined) return relationSelector('sequence', sequence);

  const routine = on.function ?? on.functions?.[0];
  if (routine !== undefined) {
    if (/\.\*$/.test(routine.trim())) return relationSelector('function', routine);
    const signature = parseFunctionSignature(routine);
    if (!signature) {
      return {
        error: `invalid function "${routine}"`,
        fix: 'write the schema, the name and the argument types, such as public.calculate_total(integer)',
      };
    }
    return { kind: 'function', ...signature };
  }
  return { error: 'the grant names no object', fix: 'add one of: database, schema, table, tables, sequence, sequences, function, functions' };
}

function relationSelector(kind: 'table' | 'sequence' | 'function', text: string, columns?: string[]): SelectorResult {
  const name = parseQualifiedName(text);
  if (!name) return { error: `invalid ${kind} name "${text}"`, fix: `write schema.name or schema.*` };
  if (kind === 'table' && columns && name.name === '*') {
    return {
      error: `columns cannot be combined with ${text}: a column grant names one table`,
      fix: 'list the tables (tables: [schema.a, schema.b]) or grant on whole tables without columns',
    };
  }
  if (kind === 'table') return columns ? { kind, ...name, columns } : { kind, ...name };
  return { kind, ...name } as ObjectSelector;
}

/**
 * Expands a grant config whose selector is a list (`tables: [a, b]`) into one config per entry,
 * so that each entry becomes its own selector.
 */
export function splitListSelectors(on: GrantObjectConfig): GrantObjectConfig[] {
  if (on.schemas) return on.schemas.map((schema) => ({ schema }));
  if (on.tables && on.tables.length > 1) return on.tables.map((table) => ({ table, columns: on.columns }));
  if (on.sequences && on.sequences.length > 1) return on.sequences.map((sequence) => ({ sequence }));
  if (on.functions && on.functions.length > 1) return on.functions.map((fn) => ({ function: fn }));
  return [on];
}
