import { membershipAddress } from './addresses.js';
import type { Change } from './changes.js';
import type { RoleScope } from './scope.js';
import type { SourceRef } from '../config/types.js';
import type { Membership } from '../model/types.js';

const key = (membership: Membership) => `${membership.role}\0${membership.member}`;

/**
 * Compares the memberships of declared roles. INHERIT and SET are compared only where the file
 * sets them and the server has them (PostgreSQL 16+).
 */
export function diffMemberships(
  target: string,
  scope: RoleScope,
  desired: (Membership & { source?: SourceRef })[],
  actual: Membership[],
  membershipOptions: boolean,
): Change[] {
  const wanted = new Map<string, Membership & { source?: SourceRef }>();
  for (const membership of desired) {
    if (scope.managed.has(membership.member)) wanted.set(key(membership), membership);
  }

  // PostgreSQL 16+ may record one membership once per grantor; the strongest options count.
  const held = new Map<string, Membership>();
  for (const membership of actual) {
    if (!scope.managed.has(membership.member)) continue;
    const previous = held.get(key(membership));
    held.set(key(membership), previous ? { ...previous, admin: previous.admin || membership.admin } : membership);
  }

  const changes: Change[] = [];
  for (const [id, membership] of wanted) {
    const current = held.get(id);
    const optionsDiffer =
      membershipOptions &&
      current !== undefined &&
      ((membership.inherit !== null && membership.inherit !== current.inherit) ||
        (membership.set !== null && membership.set !== current.set));

    if (!current || (membership.admin && !current.admin) || optionsDiffer) {
      const { source, ...declared } = membership;
      changes.push({
        kind: 'grant_membership',
        address: membershipAddress(target, declared, 'grant'),
        database: null,
        destructive: false,
        membership: membershipOptions ? declared : { ...declared, inherit: null, set: null },
        source,
      });
    } else if (!membership.admin && current.admin) {
      changes.push({
        kind: 'revoke_membership',
        address: membershipAddress(target, membership, 'revoke', true),
        database: null,
        destructive: true,
        membership: current,
        adminOptionOnly: true,
      });
    }
  }

  for (const [id, membership] of held) {
    if (wanted.has(id)) continue;
    changes.push({
      kind: 'revoke_membership',
      address: membershipAddress(target, membership, 'revoke'),
      database: null,
      destructive: true,
      membership,
      adminOptionOnly: false,
    });
  }
  return changes;
}
