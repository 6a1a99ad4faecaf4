import type { AlterRole, Change, CreateRole, DropRole, SetPassword } from './changes.js';
import { roleAddress } from './addresses.js';
import type { RoleScope } from './scope.js';
import type { SourcedDiagnostic } from '../model/desired.js';
import type { ActualRole, ActualState, DesiredRole, RoleAttributes } from '../model/types.js';

/** Result of checking a declared password against the stored verifier, computed before diff. */
export type PasswordStatus = 'match' | 'differs' | 'missing' | 'not_scram' | 'unknown' | 'rotate';

const ATTRIBUTES: (keyof RoleAttributes)[] = [
  'login',
  'superuser',
  'createdb',
  'createrole',
  'replication',
  'bypassrls',
  'inherit',
  'connectionLimit',
  'validUntil',
  'comment',
];

export function diffRoles(
  target: string,
  scope: RoleScope,
  actual: ActualState,
  passwords: Map<string, PasswordStatus>,
  managedDatabases: string[],
  now: Date,
): { changes: Change[]; diagnostics: SourcedDiagnostic[]; unmanagedRoles: string[] } {
  const changes: Change[] = [];
  const diagnostics: SourcedDiagnostic[] = [];
  const existing = new Map(actual.roles.map((role) => [role.name, role]));

  for (const role of scope.desired.roles) {
    if (scope.isIgnored(role.name)) {
      diagnostics.push({
        severity: 'warning',
        summary: `role ${JSON.stringify(role.name)} is declared but is a system role or matches ignore_roles, so it is not managed`,
        fix: 'remove the role from the file or from ignore_roles',
        source: role.source,
      });
      continue;
    }

    const current = existing.get(role.name);
    const expiry = role.passwordExpiryDays === undefined ? undefined : expiryDate(now, role.passwordExpiryDays);
    if (!current) {
      changes.push({
        kind: 'create_role',
        address: roleAddress(target, 'create', role.name),
        database: null,
        destructive: false,
        role: expiry === undefined ? role : { ...role, validUntil: expiry },
        password: role.password,
        source: role.source,
      } satisfies CreateRole);
      continue;
    }

    const alter = diffAttributes(target, role, current);
    if (alter) changes.push(alter);
    if (alter && role.name === actual.currentUser) {
      const lockout = lockoutReason(alter.after);
      if (lockout) {
        diagnostics.push({
          severity: 'error',
          summary: `the plan ${lockout} of ${JSON.stringify(role.name)}, the role aishell connects as, which would lock aishell out`,
          fix: 'connect as another role to change this one, or keep its current attributes in the file',
          source: role.source,
        });
      }
    }

    const status = role.password ? passwords.get(role.name) : undefined;
    if (role.password && status && status !== 'match' && status !== 'unknown') {
      changes.push({
        kind: 'set_password',
        address: roleAddress(target, 'set password of', role.name),
        database: null,
        destructive: false,
        role: role.name,
        password: role.password,
        reason: status,
        ...(expiry === undefined ? {} : { validUntil: expiry }),
        source: role.source,
      } satisfies SetPassword);
    }
  }

  for (const absent of scope.desired.absentRoles) {
    if (!existing.has(absent.name) || scope.isIgnored(absent.name)) continue;
    if (absent.name === actual.currentUser) {
      diagnostics.push({
        severity: 'error',
        summary: `role ${JSON.stringify(absent.name)} is the role aishell connects as, and cannot drop itself`,
        fix: 'connect as another role to drop this one',
        source: absent.source,
      });
      continue;
    }
    changes.push(dropRole(target, absent.name, absent.reassignOwnedTo, managedDatabases, absent.source));
  }

  const declared = new Set([...scope.desired.roles, ...scope.desired.absentRoles].map((role) => role.name));
  const unmanagedRoles = actual.roles
    .filter((role) => !declared.has(role.name) && !scope.isIgnored(role.name) && role.name !== actual.currentUser)
    .map((role) => role.name);

  if (scope.scope.dropUnmanagedRoles) {
    for (const name of unmanagedRoles) changes.push(dropRole(target, name, null, managedDatabases));
  }

  return { changes, diagnostics, unmanagedRoles: scope.scope.dropUnmanagedRoles ? [] : unmanagedRoles };
}

/**
 * Computes the expiry that password_policy.expiration_days gives a password set at `now`:
 * midnight UTC of the day `days` later, so plans made on the same day agree.
 */
export function expiryDate(now: Date, days: number): string {
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days);
  return new Date(day).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function diffAttributes(target: string, desired: DesiredRole, current: ActualRole): AlterRole | null {
  // Most roles match, so the before and after records are made only for a role that differs.
  if (!ATTRIBUTES.some((attribute) => differs(attribute, desired, current))) return null;

  const before: Partial<RoleAttributes> = {};
  const after: Partial<RoleAttributes> = {};
  for (const attribute of ATTRIBUTES) {
    if (differs(attribute, desired, current)) {
      (before as Record<string, unknown>)[attribute] = current[attribute];
      (after as Record<string, unknown>)[attribute] = desired[attribute];
    }
  }
  return {
    kind: 'alter_role',
    address: roleAddress(target, 'alter', desired.name),
    database: null,
    destructive: false,
    role: desired.name,
    before,
    after,
  };
}

function differs(attribute: keyof RoleAttributes, desired: DesiredRole, current: ActualRole): boolean {
  // The password policy sets the expiry whenever aishell sets the password. Between rotations
  // the stored expiry is kept, and the plan reports it when it lies beyond the policy.
  if (attribute === 'validUntil' && desired.passwordExpiryDays !== undefined) return false;
  return desired[attribute] !== current[attribute];
}

function dropRole(
  target: string,
  role: string,
  reassignOwnedTo: string | null,
  databases: string[],
  source?: DropRole['source'],
): DropRole {
  return {
    kind: 'drop_role',
    address: roleAddress(target, 'drop', role),
    database: null,
    destructive: true,
    role,
    reassignOwnedTo,
    databases,
    source,
  };
}

/** Says which change would take away the connecting role's own access, or null. */
function lockoutReason(after: Partial<RoleAttributes>): string | null {
  if (after.login === false) return 'removes LOGIN';
  if (after.superuser === false) return 'removes SUPERUSER';
  if (after.connectionLimit === 0) return 'sets CONNECTION LIMIT 0';
  if (after.validUntil && Date.parse(after.validUntil) <= Date.now()) return 'sets VALID UNTIL in the past';
  return null;
}
