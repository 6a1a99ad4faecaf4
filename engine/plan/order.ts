import type { Change, ChangeKind, RevokePrivilege } from '../diff/changes.js';

/**
 * The phase of each change kind. Roles exist before anything is granted to them; privileges are
 * revoked before others are granted so that a reviewer reads removals first within a database;
 * a role is dropped last, after every grant and membership that referred to it is gone. A policy
 * is dropped before one of the same name is created, when its command or kind changes.
 */
const PHASE: Record<ChangeKind, number> = {
  create_role: 0,
  alter_role: 1,
  set_password: 1,
  reset_role_setting: 1,
  set_role_setting: 1,
  revoke_membership: 2,
  grant_membership: 3,
  revoke_default_privilege: 4,
  revoke: 5,
  grant: 6,
  grant_default_privilege: 7,
  drop_policy: 8,
  alter_rls: 9,
  create_policy: 10,
  alter_policy: 10,
  drop_role: 11,
  // ALTER SYSTEM runs after every transaction has committed, so the plan lists it last too.
  set_server_setting: 12,
};

/**
 * Orders changes by dependency, then by database and address, so equal inputs give equal plans.
 * Within the revokes, those further down a grant chain come first (see grantChainDepths).
 */
export function orderChanges(changes: Change[]): Change[] {
  const depths = grantChainDepths(changes);
  const depth = (change: Change) => depths.get(change) ?? 0;
  return [...changes].sort(
    (a, b) =>
      PHASE[a.kind] - PHASE[b.kind] ||
      (a.database ?? '').localeCompare(b.database ?? '') ||
      depth(b) - depth(a) ||
      a.address.localeCompare(b.address),
  );
}

/**
 * Returns, for each revoke that a grantor other than the owner makes, how many revokes follow it
 * up the grant chain. Such a revoke runs as its grantor. A grantor that has already lost the
 * privilege or the USAGE on the object's schema can no longer revoke what it granted, and
 * PostgreSQL rejects the statement with "permission denied". So every revoke made by a role
 * comes before every revoke from that role in the same database. With owner → a → b, the revoke
 * from b (made by a) gets 1 and the revokes from a get 0, so b's run first.
 */
function grantChainDepths(changes: Change[]): Map<Change, number> {
  // The revokes of each database, by the grantee that loses a privilege.
  const revokesFrom = new Map<string, RevokePrivilege[]>();
  for (const change of changes) {
    if (change.kind !== 'revoke') continue;
    const key = roleKey(change.database, change.grant.grantee);
    revokesFrom.set(key, [...(revokesFrom.get(key) ?? []), change]);
  }

  const depths = new Map<Change, number>();
  const depthOf = (change: RevokePrivilege, visiting: Set<Change>): number => {
    const known = depths.get(change);
    if (known !== undefined) return known;

    let depth = 0;
    const grantor = change.grant.grantor;
    // A chain that returns to a revoke already on the path ends there.
    if (grantor !== undefined && !visiting.has(change)) {
      visiting.add(change);
      for (const upstream of revokesFrom.get(roleKey(change.database, grantor)) ?? []) {
        depth = Math.max(depth, 1 + depthOf(upstream, visiting));
      }
      visiting.delete(change);
    }
    depths.set(change, depth);
    return depth;
  };

  for (const change of changes) {
    if (change.kind === 'revoke' && change.grant.grantor !== undefined) depthOf(change, new Set());
  }
  return depths;
}

function roleKey(database: string | null | undefined, role: string): string {
  return `${database ?? ''}\0${role}`;
}
