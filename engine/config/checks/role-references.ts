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

/** The place of a role name and the declaration it belongs to, built only for a use that is reported. */
interface RoleUse {
  ref: SourceRef;
  /** The declaration that uses the name, such as `grants[3]` or `role "app_user"`. */
  user: string;
}

/** The names that a place accepts besides declared roles. */
interface Allowed {
  /** PUBLIC is allowed here (grantees, policy roles). */
  public: boolean;
  /** CURRENT_USER, CURRENT_ROLE and SESSION_USER are allowed here (policy roles). */
  currentUser: boolean;
}

const ROLES_ONLY: Allowed = { public: false, currentUser: false };
const GRANTEES: Allowed = { public: true, currentUser: false };
const POLICY_ROLES: Allowed = { public: true, currentUser: true };

const CURRENT_USER_NAMES = new Set(['current_user', 'current_role', 'session_user']);

export function checkRoleReferences(context: CheckContext): void {
  const { roles } = context.config;
  const unknown = new Map<string, { first: RoleUse; count: number }>();

  // `describe` runs only for a use that is reported, because a large configuration names roles
  // hundreds of thousands of times and nearly every use is fine.
  const check = (name: string, allowed: Allowed, describe: () => RoleUse): void => {
    if (isPublic(name)) {
      if (!allowed.public) {
        const use = describe();
        context.error(`${use.user} names PUBLIC, which is not a role here`, use.ref, 'name a role', true);
      }
      return;
    }
    if (allowed.currentUser && CURRENT_USER_NAMES.has(name.toLowerCase())) return;

    const role = Object.hasOwn(roles, name) ? roles[name] : undefined;
    if (!role) {
      const seen = unknown.get(name);
      if (seen) seen.count++;
      else unknown.set(name, { first: describe(), count: 1 });
      return;
    }
    if (role.state === 'absent') {
      const use = describe();
      context.error(
        `${use.user} names role "${name}", which is declared with state: absent`,
        use.ref,
        `remove the reference, or set the state of role "${name}" to present`,
        true,
      );
    }
  };

  visitRoleUses(context, check);

  const declared = unknown.size > 0 ? Object.keys(roles) : [];
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

type RoleUseVisitor = (name: string, allowed: Allowed, describe: () => RoleUse) => void;

/** Calls `visit` for every role name in the configuration, in the order of the sections. */
function visitRoleUses(context: CheckContext, visit: RoleUseVisitor): void {
  const { config } = context;

  config.grants.forEach((grant, index) => {
    grant.to.forEach((name, position) => {
      visit(name, GRANTEES, () => ({ ref: at(grant.source, 'to', position), user: `grants[${index}]` }));
    });
  });

  config.default_privileges.forEach((entry, index) => {
    const user = `default_privileges[${index}]`;
    if (entry.for_role !== '') visit(entry.for_role, ROLES_ONLY, () => ({ ref: at(entry.source, 'for_role'), user }));
    entry.to.forEach((name, position) => {
      visit(name, GRANTEES, () => ({ ref: at(entry.source, 'to', position), user }));
    });
  });

  for (const [roleName, role] of context.roleEntries()) {
    const user = (): string => `role "${roleName}"`;
    role.member_of?.forEach((membership, position) => {
      // A membership in itself is reported by the membership checks.
      if (membership.role === roleName) return;
      visit(membership.role, ROLES_ONLY, () => ({ ref: at(context.source('roles', roleName), 'member_of', position), user: user() }));
    });
    if (role.reassign_owned_to !== undefined && role.reassign_owned_to !== roleName) {
      visit(role.reassign_owned_to, ROLES_ONLY, () => ({ ref: at(context.source('roles', roleName), 'reassign_owned_to'), user: user() }));
    }
  }

  for (const [table, rls] of Object.entries(config.row_level_security)) {
    const source = context.source('row_level_security', table);
    for (const [policyName, policy] of Object.entries(rls.policies ?? {})) {
      for (const [position, name] of (policy.roles ?? []).entries()) {
        visit(name, POLICY_ROLES, () => ({
          ref: at(source, 'policies', policyName, 'roles', position),
          user: `policy "${policyName}" of table "${table}"`,
        }));
      }
    }
  }

  for (const [position, name] of (config.audit?.roles ?? []).entries()) {
    visit(name, ROLES_ONLY, () => ({ ref: at(context.sectionSource('audit'), 'roles', position), user: 'audit' }));
  }
}
