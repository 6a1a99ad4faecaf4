import { createHash } from 'node:crypto';
import type { ActualState, DesiredState } from '../model/types.js';

/**
 * A SHA-256 fingerprint of the inspected state that a plan depends on. Lists are sorted first,
 * because catalog queries return rows in no guaranteed order. A plan file is applied only while
 * the fingerprint still matches the server's state.
 *
 * `roles` limits the fingerprint to the roles the plan reads: on a shared cluster, other teams'
 * roles come and go, and that must not make every saved plan stale. Null covers every role, as
 * drop_unmanaged_roles needs. Objects are always covered, since `schema.*` expands over them.
 * Server parameters are covered only by name in `settings`, the ones the plan sets, and
 * extensions and pg_hba.conf only when there is any: other plans do not read them, and tests
 * and teams that change other parameters must not make those plans stale.
 */
export function fingerprint(state: ActualState, roles: ReadonlySet<string> | null = null, settings: ReadonlySet<string> = new Set()): string {
  const sorted = (items: unknown[]) => items.map((item) => JSON.stringify(item)).sort();
  const relevant = (name: string) => roles === null || roles.has(name);
  const normalised = {
    serverVersion: state.serverVersion,
    roles: sorted(state.roles.filter((role) => relevant(role.name))),
    memberships: sorted(state.memberships.filter((membership) => relevant(membership.member) || relevant(membership.role))),
    roleSettings: sorted(state.roleSettings.filter((setting) => relevant(setting.role))),
    server:
      settings.size > 0
      ? {
          settings: sorted(state.server.settings.filter((setting) => settings.has(setting.name))),
          availableExtensions: sorted(state.server.availableExtensions),
          hbaRules: state.server.hbaRules === null ? null : sorted(state.server.hbaRules),
        }
      : null,
    databases: state.databases
      .map((database) => ({
        name: database.name,
        owner: database.owner,
        grants: sorted(database.grants.filter((grant) => relevant(grant.grantee))),
        defaultPrivileges: sorted(database.defaultPrivileges.filter((entry) => relevant(entry.grantee) || relevant(entry.forRole))),
        objects: sorted(database.objects),
        rlsTables: sorted(database.rlsTables),
        policies: sorted(database.policies),
        extensions: sorted(database.extensions),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(normalised)).digest('hex')}`;
}

/** Collects the roles a plan reads: every role the file names, and PUBLIC. */
export function referencedRoles(desired: DesiredState): Set<string> {
  const names = new Set<string>(['PUBLIC']);
  for (const role of desired.roles) names.add(role.name);
  for (const role of desired.absentRoles) {
    names.add(role.name);
    if (role.reassignOwnedTo) names.add(role.reassignOwnedTo);
  }
  for (const membership of desired.memberships) names.add(membership.role).add(membership.member);
  for (const grant of desired.grants) for (const grantee of grant.grantees) names.add(grantee);
  for (const entry of desired.defaultPrivileges) names.add(entry.grantee).add(entry.forRole);
  for (const setting of desired.roleSettings) names.add(setting.role);
  for (const policy of desired.policies) for (const role of policy.roles) names.add(role);
  return names;
}
