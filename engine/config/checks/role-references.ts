/**
 * Checks every place that names a role: grants, default privileges, memberships,
 * reassign_owned_to, policies and audit roles.
 *
 * A name that is not declared is a warning, because it may be a role that exists on the server
 * and stays unmanaged. Each such name gets one warning, at its first use, with the number of
 * other uses. A name declared with `state: absent` is an error, because the plan would drop the
 * role that the reference needs.
 */
import { suggestionFix } from '../suggest.js';
import type { SourceRef } from '../types.js';
import { at, CheckContext, isPublic } from './context.js';

interface RoleUse {
  name: string;
  ref: SourceRef;
  /** The declaration that uses the name, such as `grants[3]` or `role "app_user"`. */
  user: string;
  /** PUBLIC is allowed here (grantees, policy roles). */
  allowsPublic: boolean;
  /** CURRENT_USER, CURRENT_ROLE and SESSION_USER are allowed here (policy roles). */
  allowsCurrentUser?: boolean;
}

const CURRENT_USER_NAMES = new Set(['current_user', 'current_role', 'session_user']);

export function checkRoleReferences(context: CheckContext): void {
  const unknown = new Map<string, { first: RoleUse; count: number }>();

  for (const use of roleUses(context)) {
    if (isPublic(use.name)) {
      if (!use.allowsPublic) {
        context.error(`${use.user} names PUBLIC, which is not a role here`, use.ref, 'name a role', true);
      }
      continue;
    }
    if (use.allowsCurrentUser && CURRENT_USER_NAMES.has(use.name.toLowerCase())) continue;

    const role = Object.hasOwn(context.config.roles, use.name) ? context.config.roles[use.name] : undefined;
    if (!role) {
      const seen = unknown.get(use.name);
      if (seen) seen.count++;
      else unknown.set(use.name, { first: use, count: 1 });
      continue;
    }
    if (role.state === 'absent') {
      context.error(
        `${use.user} names role "${use.name}", which is declared with state: absent`,
        use.ref,
        `remove the reference, or set the state of role "${use.name}" to present`,
        true,
      );
    }
  }

  const declared = Object.keys(context.config.roles);
  for (const [name, { first, count }] of unknown) {
    const others = count > 1 ? ` and ${count - 1} more place${count > 2 ? 's' : ''}` : '';
    context.warning(
      `role "${name}" is not declared in roles (used by ${first.user}${others}); aishell will not manage it`,
      first.ref,
      closestFix(name, declared),
      true,
    );
  }
}

function closestFix(name: string, declared: readonly string[]): string {
  const fix = suggestionFix(name, declared, 'roles');
  return fix.startsWith('did you mean')
    ? fix
    : 'declare it under roles: to manage it; a role that exists only on the server is used as it is';
}

function* roleUses(context: CheckContext): Generator<RoleUse> {
  const { config } = context;

  for (const [index, grant] of config.grants.entries()) {
    for (const [position, name] of grant.to.entries()) {
      yield { name, ref: at(grant.source, 'to', position), user: `grants[${index}]`, allowsPublic: true };
    }
  }

  for (const [index, entry] of config.default_privileges.entries()) {
    const user = `default_privileges[${index}]`;
    if (entry.for_role !== '') yield { name: entry.for_role, ref: at(entry.source, 'for_role'), user, allowsPublic: false };
    for (const [position, name] of entry.to.entries()) {
      yield { name, ref: at(entry.source, 'to', position), user, allowsPublic: true };
    }
  }

  for (const [roleName, role] of Object.entries(config.roles)) {
    const source = context.source('roles', roleName);
    const user = `role "${roleName}"`;
    for (const [position, membership] of (role.member_of ?? []).entries()) {
      // A membership in itself is reported by the membership checks.
      if (membership.role === roleName) continue;
      yield { name: membership.role, ref: at(source, 'member_of', position), user, allowsPublic: false };
    }
    if (role.reassign_owned_to !== undefined && role.reassign_owned_to !== roleName) {
      yield { name: role.reassign_owned_to, ref: at(source, 'reassign_owned_to'), user, allowsPublic: false };
    }
  }

  for (const [table, rls] of Object.entries(config.row_level_security)) {
    const source = context.source('row_level_security', table);
    for (const [policyName, policy] of Object.entries(rls.policies ?? {})) {
      for (const [position, name] of (policy.roles ?? []).entries()) {
        yield {
          name,
          ref: at(source, 'policies', policyName, 'roles', position),
          user: `policy "${policyName}" of table "${table}"`,
          allowsPublic: true,
          allowsCurrentUser: true,
        };
      }
    }
  }

  for (const [position, name] of (config.audit?.roles ?? []).entries()) {
    yield { name, ref: at(context.sectionSource('audit'), 'roles', position), user: 'audit', allowsPublic: false };
  }
}
