import { createHash } from 'node:crypto';
import type { ActualState } from '../model/types.js';

/**
 * A SHA-256 fingerprint of the inspected state. Lists are sorted first, because catalog queries
 * return rows in no guaranteed order; a plan file is applied only while the fingerprint still
 * matches what the server holds.
 */
export function fingerprint(state: ActualState): string {
  const sorted = (items: unknown[]) => items.map((item) => JSON.stringify(item)).sort();
  const normalised = {
    serverVersion: state.serverVersion,
    roles: sorted(state.roles),
    memberships: sorted(state.memberships),
    roleSettings: sorted(state.roleSettings),
    server: {
      settings: sorted(state.server.settings),
      availableExtensions: sorted(state.server.availableExtensions),
      hbaRules: state.server.hbaRules === null ? null : sorted(state.server.hbaRules),
    },
    databases: state.databases
      .map((database) => ({
        name: database.name,
        owner: database.owner,
        grants: sorted(database.grants),
        defaultPrivileges: sorted(database.defaultPrivileges),
        objects: sorted(database.objects),
        rlsTables: sorted(database.rlsTables),
        policies: sorted(database.policies),
        extensions: sorted(database.extensions),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(normalised)).digest('hex')}`;
}
