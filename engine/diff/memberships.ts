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

  // PostgreSQL 16+ may record one membership once per grantor; the strongest options count, and
  // a membership that is not declared is revoked once per grantor.
  const held = new Map<string, Membership>();
  const grants = new Map<string, Membership[]>();
  for (const membership of actual) {
    if (!scope.managed.has(membership.member)) continue;
    const previous = held.get(key(membership));
    held.set(key(membership), previous ? { ...previous, admin: previous.admin || membership.admin } : membership);
    grants.set(key(membership), [...(grants.get(key(membership)) ?? []), membership]);
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

  for (const [id, memberships] of grants) {
    if (wanted.has(id)) continue;
    for (const membership of memberships) {
      const address = membershipAddress(target, membership, 'revoke');
      changes.push({
        kind: 'revoke_membership',
        address: memberships.length > 1 ? `${address} (granted by ${membership.grantor})` : address,
        database: null,
        destructive: true,
        membership,
        adminOptionOnly: false,
      });
    }
  }
  return changes;
}
