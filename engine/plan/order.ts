import type { Change, ChangeKind } from '../diff/changes.js';

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

/** Orders changes by dependency, then by database and address, so equal inputs give equal plans. */
export function orderChanges(changes: Change[]): Change[] {
  return [...changes].sort(
    (a, b) =>
      PHASE[a.kind] - PHASE[b.kind] ||
      (a.database ?? '').localeCompare(b.database ?? '') ||
      a.address.localeCompare(b.address),
  );
}
