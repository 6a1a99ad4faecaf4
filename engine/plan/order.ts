import { REVOKE_CHAIN_DEPTH, type Change, type ChangeKind, type RevokePrivilege } from '../diff/changes.js';

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
 * Among the revokes of a database, those that a role other than the owner makes come first, the
 * deepest in a grant chain first. Depth counts first by the revokes of the plan (see
 * grantChainDepths), then by the chain the diff read from the catalog (REVOKE_CHAIN_DEPTH). Such
 * a revoke runs as that role and needs the role's own privileges, which other revokes may take.
 */
export function orderChanges(changes: Change[]): Change[] {
  const depths = grantChainDepths(changes);
  const depth = (change: Change) => depths.get(change) ?? -1;
  const chainDepth = (change: Change) => REVOKE_CHAIN_DEPTH.get(change) ?? 0;
  return [...changes].sort(
    (a, b) =>
      PHASE[a.kind] - PHASE[b.kind] ||
      (a.database ?? '').localeCompare(b.database ?? '') ||
      depth(b) - depth(a) ||
      chainDepth(b) - chainDepth(a) ||
      a.address.localeCompare(b.address),
  );
}

/**
 * Returns, for each revoke that a role other than the owner makes, how many such revokes follow
 * it up the grant chain. The revoke runs as its grantor, and a grantor that has already lost the
 * privilege on the object, or the USAGE on the object's schema, can no longer revoke what it
 * granted: PostgreSQL rejects the statement with "permission denied". So a revoke made by a role
 * comes before the revokes from that role of the same object or of its schema. With owner → a →
 * b → c, the revoke from c (made by b) gets 1 and the revoke from b (made by a) gets 0. Revokes
 * that the owner makes get no depth and come after all of these.
 */
// NOTE: membership revokes run first, so a grantor that reaches a schema only through a role it
// leaves in this plan cannot revoke what it granted there.
function grantChainDepths(changes: Change[]): Map<Change, number> {
  // The revokes of each database, by the grantee that loses a privilege and the object.
  const revokesFrom = new Map<string, RevokePrivilege[]>();
  for (const change of changes) {
    if (change.kind !== 'revoke') continue;
    const key = upstreamKey(change.database, change.grant.grantee, change.grant.object);
    revokesFrom.set(key, [...(revokesFrom.get(key) ?? []), change]);
  }

  const depths = new Map<Change, number>();
  const depthOf = (change: RevokePrivilege, visiting: Set<Change>): number => {
    const known = depths.get(change);
    if (known !== undefined) return known;

    let depth = 0;
    const grantor = change.grant.grantor!;
    const { object } = change.grant;
    const upstream = [...(revokesFrom.get(upstreamKey(change.database, grantor, object)) ?? [])];
    if (object.schema !== null) {
      const usage = revokesFrom.get(upstreamKey(change.database, grantor, { kind: 'schema', schema: null, name: object.schema })) ?? [];
      upstream.push(...usage.filter((each) => each.grant.privilege === 'USAGE'));
    }
    // A chain that returns to a revoke already on the path ends there.
    if (!visiting.has(change)) {
      visiting.add(change);
      for (const revoke of upstream) {
        if (revoke.grant.grantor !== undefined) depth = Math.max(depth, 1 + depthOf(revoke, visiting));
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

/** Identifies the privileges of one role on one object (a column counts as its own object). */
function upstreamKey(database: string | null | undefined, role: string, object: RevokePrivilege['grant']['object']): string {
  return [database ?? '', role, object.kind, object.schema ?? '', object.name, object.column ?? ''].join('\0');
}
