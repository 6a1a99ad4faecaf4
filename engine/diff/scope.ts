import type { ActualRole, DesiredState, TargetScope } from '../model/types.js';
import { PUBLIC } from '../model/types.js';
import { globToRegExp } from '../glob.js';

/**
 * The set of roles a target manages. Declared roles are authoritative. Roles matching
 * ignore_roles and the server's own roles are never touched, even when declared.
 */
export class RoleScope {
  private readonly ignorePatterns: RegExp[];
  readonly managed: Set<string>;

  constructor(
    readonly desired: DesiredState,
    readonly scope: TargetScope,
    private readonly systemRoles: Set<string>,
  ) {
    this.ignorePatterns = scope.ignoreRoles.map((pattern) => globToRegExp(pattern));
    this.managed = new Set(desired.roles.map((role) => role.name).filter((name) => !this.isIgnored(name)));
  }

  isIgnored(name: string): boolean {
    return this.systemRoles.has(name) || this.ignorePatterns.some((pattern) => pattern.test(name));
  }

  /** Returns true when the privileges of `grantee` converge to the file. */
  managesGrantee(grantee: string): boolean {
    if (grantee === PUBLIC) return this.scope.managePublic;
    return this.managed.has(grantee);
  }

  static systemRoleNames(roles: ActualRole[]): Set<string> {
    return new Set(roles.filter((role) => role.system).map((role) => role.name));
  }
}
