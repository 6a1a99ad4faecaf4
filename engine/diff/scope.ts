import type { ActualRole, DesiredState, TargetScope } from '../model/types.js';
import { PUBLIC } from '../model/types.js';

/** Turns an ignore_roles pattern (`legacy_*`, `tmp_?`) into an anchored regular expression. */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * Which roles a target manages. Declared roles are authoritative; roles matching ignore_roles and
 * the server's own roles are never touched, even when declared.
 */
export class RoleScope {
  private readonly ignorePatterns: RegExp[];
  readonly managed: Set<string>;

  constructor(
    readonly desired: DesiredState,
    readonly scope: TargetScope,
    private readonly systemRoles: Set<string>,
  ) {
    this.ignorePatterns = scope.ignoreRoles.map(globToRegExp);
    this.managed = new Set(desired.roles.map((role) => role.name).filter((name) => !this.isIgnored(name)));
  }

  isIgnored(name: string): boolean {
    return this.systemRoles.has(name) || this.ignorePatterns.some((pattern) => pattern.test(name));
  }

  /** True when the privileges that `grantee` holds converge to the file. */
  managesGrantee(grantee: string): boolean {
    if (grantee === PUBLIC) return this.scope.managePublic;
    return this.managed.has(grantee);
  }

  static systemRoleNames(roles: ActualRole[]): Set<string> {
    return new Set(roles.filter((role) => role.system).map((role) => role.name));
  }
}
