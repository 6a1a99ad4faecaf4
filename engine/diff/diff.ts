import type { Change } from './changes.js';
import { expandPrivileges, GrantExpander, type PrivilegeLists } from './expand.js';
import { diffDefaultPrivileges, diffGrants } from './grants.js';
import { diffMemberships } from './memberships.js';
import { diffRowLevelSecurity } from './rls.js';
import { diffRoleSettings } from './role-settings.js';
import { diffRoles, type PasswordStatus } from './roles.js';
import { RoleScope } from './scope.js';
import { diffServerSettings } from './server-settings.js';
import type { SourcedDiagnostic } from '../model/desired.js';
import type { ActualState, DefaultPrivilege, DesiredState, Grant, TargetScope } from '../model/types.js';

export interface DiffInput {
  target: string;
  desired: DesiredState;
  actual: ActualState;
  scope: TargetScope;
  /** Databases whose objects the target manages; the first is the url's database. */
  managedDatabases: string[];
  privileges: PrivilegeLists;
  /** Whether the server has INHERIT and SET options on memberships. */
  membershipOptions: boolean;
  /** For each existing declared role with a password: whether the stored verifier matches. */
  passwords: Map<string, PasswordStatus>;
  /** The time of planning, from which password expiry dates are computed. Default: now. */
  now?: Date;
}

export interface DiffResult {
  changes: Change[];
  diagnostics: SourcedDiagnostic[];
  /** Roles that exist, are not declared and are not ignored: listed once, as information. */
  unmanagedRoles: string[];
}

/**
 * Computes the changes that make `actual` match `desired`. A pure function: it reads no database
 * and no secret, so the same inputs always give the same changes in the same order.
 */
export function diff(input: DiffInput): DiffResult {
  const { target, desired, actual } = input;
  const scope = new RoleScope(desired, input.scope, RoleScope.systemRoleNames(actual.roles));
  const diagnostics: SourcedDiagnostic[] = [];

  const roles = diffRoles(target, scope, actual, input.passwords, input.managedDatabases, input.now ?? new Date());
  diagnostics.push(...roles.diagnostics);
  diagnostics.push(...checkGranteesExist(desired, actual));

  if (!input.membershipOptions) {
    for (const membership of desired.memberships) {
      if (membership.inherit !== null || membership.set !== null) {
        diagnostics.push({
          severity: 'error',
          summary: `the inherit and set options of a membership need PostgreSQL 16 or later, and this server is ${formatVersion(actual.serverVersion)}`,
          fix: `remove inherit and set from the membership of ${JSON.stringify(membership.member)} in ${JSON.stringify(membership.role)}`,
          source: membership.source,
        });
      }
    }
  }

  const memberships = diffMemberships(target, scope, desired.memberships, actual.memberships, input.membershipOptions);

  const privilegeChanges: Change[] = [];
  // Roles whose grant options a cascade simulation cannot follow: members of other roles, and
  // superusers, whom PostgreSQL treats as holding the owner's grant options.
  const opaqueGrantors = new Set([
    ...actual.memberships.map((membership) => membership.member),
    ...actual.roles.filter((role) => role.superuser).map((role) => role.name),
  ]);
  for (const database of actual.databases) {
    const grants: Grant[] = [];
    const expander = new GrantExpander(database, input.privileges);
    for (let index = 0; index < desired.grants.length; index++) {
      const grant = desired.grants[index];
      if (grant.database === database.name) expander.expand(grant, grants, diagnostics);
    }
    append(privilegeChanges, diffGrants(target, scope, grants, database, opaqueGrantors));

    const schemas = new Set(database.objects.filter((object) => object.kind === 'schema').map((object) => object.name));
    for (const entry of desired.defaultPrivileges) {
      if (entry.database === database.name && entry.schema !== null && !schemas.has(entry.schema)) {
        diagnostics.push({
          severity: 'error',
          summary: `schema ${JSON.stringify(entry.schema)} of default privileges for ${JSON.stringify(entry.forRole)} not found in database ${database.name}`,
          fix: 'create the schema first, or correct in_schema',
          source: entry.source,
        });
      }
    }
    const defaults = expandDefaultPrivileges(
      desired.defaultPrivileges.filter((each) => each.database === database.name),
      input.privileges,
      diagnostics,
    );
    append(privilegeChanges, diffDefaultPrivileges(target, scope, defaults, database.defaultPrivileges));

    const rls = diffRowLevelSecurity(
      target,
      desired.rlsTables.filter((each) => each.database === database.name),
      desired.policies.filter((each) => each.database === database.name),
      database,
    );
    privilegeChanges.push(...rls.changes);
    diagnostics.push(...rls.diagnostics);
  }

  const settings = diffRoleSettings(target, scope, desired.roleSettings, actual.roleSettings, input.managedDatabases);
  diagnostics.push(...settings.diagnostics);
  const serverSettings = diffServerSettings(target, desired.serverSettings, actual.server.settings);

  const inspected = new Set(actual.databases.map((database) => database.name));
  for (const items of [desired.grants, desired.defaultPrivileges, desired.rlsTables]) {
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      if (inspected.has(item.database)) continue;
      diagnostics.push({
        severity: 'error',
        summary: `database ${JSON.stringify(item.database)} is not managed by target ${JSON.stringify(target)}`,
        fix: `add ${item.database} to the target's databases list, or correct the entry's database`,
        source: item.source,
      });
    }
  }

  return {
    changes: [...roles.changes, ...settings.changes, ...memberships, ...privilegeChanges, ...serverSettings],
    diagnostics: dedupeDiagnostics(diagnostics),
    unmanagedRoles: roles.unmanagedRoles,
  };
}

/** Formats server_version_num (150004) as people write it (15.4). */
function formatVersion(versionNumber: number): string {
  return `${Math.floor(versionNumber / 10000)}.${versionNumber % 10000}`;
}

function expandDefaultPrivileges(
  entries: DefaultPrivilege[],
  lists: PrivilegeLists,
  diagnostics: SourcedDiagnostic[],
): DefaultPrivilege[] {
  const expanded: DefaultPrivilege[] = [];
  for (const entry of entries) {
    const privileges = expandPrivileges([entry.privilege], entry.objectType, lists);
    const invalid = privileges.filter((privilege) => !lists[entry.objectType].includes(privilege));
    if (invalid.length > 0) {
      diagnostics.push({
        severity: 'error',
        summary: `privilege ${invalid.join(', ')} does not apply to ${entry.objectType}`,
        fix: `use one of: ${lists[entry.objectType].join(', ')}, or ALL`,
        source: entry.source,
      });
      continue;
    }
    for (const privilege of privileges) expanded.push({ ...entry, privilege });
  }
  return expanded;
}

/** A grantee, member or owner must be declared, be PUBLIC, or already exist on the server. */
function checkGranteesExist(desired: DesiredState, actual: ActualState): SourcedDiagnostic[] {
  const known = new Set([...actual.roles.map((role) => role.name), ...desired.roles.map((role) => role.name), 'PUBLIC']);
  const diagnostics: SourcedDiagnostic[] = [];
  const check = (name: string, what: string, source?: SourcedDiagnostic['source']) => {
    if (!known.has(name)) {
      diagnostics.push({
        severity: 'error',
        summary: `role ${JSON.stringify(name)} (${what}) does not exist and is not declared`,
        fix: `declare it under roles, or correct the name`,
        source,
      });
    }
  };
  // Indexed loops over the grants and memberships, which number in the tens of thousands: diff
  // runs once per plan, much of it unoptimised, and unoptimised for-of loops allocate at every
  // step.
  for (let index = 0; index < desired.grants.length; index++) {
    const { grantees, source } = desired.grants[index];
    for (let granteeIndex = 0; granteeIndex < grantees.length; granteeIndex++) check(grantees[granteeIndex], 'grantee', source);
  }
  for (const entry of desired.defaultPrivileges) {
    check(entry.grantee, 'grantee', entry.source);
    check(entry.forRole, 'for_role', entry.source);
  }
  for (let index = 0; index < desired.memberships.length; index++) {
    const membership = desired.memberships[index];
    check(membership.role, 'member_of', membership.source);
  }
  for (const setting of desired.roleSettings) check(setting.role, 'role with a setting', setting.source);
  for (const policy of desired.policies) {
    for (const role of policy.roles) check(role, `role of policy ${policy.name}`, policy.source);
  }
  for (const absent of desired.absentRoles) {
    if (absent.reassignOwnedTo) check(absent.reassignOwnedTo, 'reassign_owned_to', absent.source);
  }
  return diagnostics;
}

function dedupeDiagnostics(diagnostics: SourcedDiagnostic[]): SourcedDiagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((diagnostic) => {
    const key = `${diagnostic.summary}\0${diagnostic.source?.file}\0${diagnostic.source?.path.join('.')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Appends one by one: push(...items) overflows the call stack at about 100,000 items. */
function append<T>(list: T[], items: readonly T[]): void {
  for (const item of items) list.push(item);
}
