import { membershipAddress } from './addresses.js';
import type { Change } from './changes.js';
import type { RoleScope } from './scope.js';
import type { SourceRef } from '../config/types.js';
import type { Membership } from '../model/types.js';

/**
 * Compares the memberships of declared roles. INHERIT and SET are compared only where the file
 * sets them and the server has them (PostgreSQL 16+).
 *
 * Each pair of role and member gets a slot: first the declared pairs in the order of `desired`,
 * then those that only exist, in the order of `actual`. Changes follow the slots.
 */
export function diffMemberships(
  target: string,
  scope: RoleScope,
  desired: (Membership & { source?: SourceRef })[],
  actual: Membership[],
  membershipOptions: boolean,
): Change[] {
  const pairs = new RolePairs(desired, actual);
  const slots = new Map<number, number>();

  // A later declaration of the same pair replaces an earlier one in its place.
  const desiredBySlot: (Membership & { source?: SourceRef })[] = [];
  for (let index = 0; index < desired.length; index++) {
    const membership = desired[index];
    if (!scope.managed.has(membership.member)) continue;
    const key = pairs.desiredKey(index);
    const slot = slots.get(key);
    if (slot === undefined) {
      slots.set(key, desiredBySlot.length);
      desiredBySlot.push(membership);
    } else {
      desiredBySlot[slot] = membership;
    }
  }

  // PostgreSQL 16+ may record one membership once per grantor. The strongest options count, and
  // a membership that is not declared is revoked once per grantor. `existingBySlot` merges the
  // grantors' memberships of each declared pair. `undeclared` keeps the membership of each other
  // pair, or a list once a second grantor turns up. Its pairs take the slots after the declared.
  const existingBySlot: (Membership | undefined)[] = new Array(desiredBySlot.length);
  const undeclared: (Membership | Membership[])[] = [];
  for (let index = 0; index < actual.length; index++) {
    const membership = actual[index];
    if (!scope.managed.has(membership.member)) continue;
    const key = pairs.actualKey(index);
    const slot = slots.get(key);
    if (slot === undefined) {
      slots.set(key, desiredBySlot.length + undeclared.length);
      undeclared.push(membership);
    } else if (slot < desiredBySlot.length) {
      const previous = existingBySlot[slot];
      existingBySlot[slot] = previous ? { ...previous, admin: previous.admin || membership.admin } : membership;
    } else {
      const current = undeclared[slot - desiredBySlot.length];
      if (Array.isArray(current)) current.push(membership);
      else undeclared[slot - desiredBySlot.length] = [current, membership];
    }
  }

  const changes: Change[] = [];
  for (let slot = 0; slot < desiredBySlot.length; slot++) {
    const membership = desiredBySlot[slot];
    const current = existingBySlot[slot];
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

  for (const entry of undeclared) {
    const memberships = Array.isArray(entry) ? entry : [entry];
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

/** Numbers the role and member names of two lists of memberships, so that a pair is one number. */
class RolePairs {
  private readonly desiredIds: Int32Array;
  private readonly actualIds: Int32Array;
  private readonly count: number;

  constructor(desired: readonly Membership[], actual: readonly Membership[]) {
    const names = new Map<string, number>();
    const id = (name: string) => {
      let found = names.get(name);
      if (found === undefined) {
        found = names.size;
        names.set(name, found);
      }
      return found;
    };
    const identify = (memberships: readonly Membership[]) => {
      const ids = new Int32Array(memberships.length * 2);
      for (let index = 0; index < memberships.length; index++) {
        ids[index * 2] = id(memberships[index].role);
        ids[index * 2 + 1] = id(memberships[index].member);
      }
      return ids;
    };
    this.desiredIds = identify(desired);
    this.actualIds = identify(actual);
    this.count = names.size;
  }

  desiredKey(index: number): number {
    return this.desiredIds[index * 2] * this.count + this.desiredIds[index * 2 + 1];
  }

  actualKey(index: number): number {
    return this.actualIds[index * 2] * this.count + this.actualIds[index * 2 + 1];
  }
}
