import { defaultPrivilegeAddress, grantAddress } from './addresses.js';
import { REVOKE_CHAIN_DEPTH, type Change } from './changes.js';
import { simulateCascades, type Revoked } from './cascade.js';
import { PrivilegeIds } from './privilege-ids.js';
import type { RoleScope } from './scope.js';
import type { DatabaseState, DefaultPrivilege, Grant } from '../model/types.js';

export function defaultPrivilegeKey(entry: DefaultPrivilege): string {
  return [entry.forRole, entry.schema ?? '', entry.objectType, entry.grantee, entry.privilege].join('\0');
}

/**
 * Compares the privileges of managed grantees on one database: grant what is missing, revoke
 * what is not declared, and add or remove WITH GRANT OPTION where only that differs.
 *
 * Each privilege identity (grantee, object, privilege) gets a slot: first the declared ones in
 * the order of `desired`, then those that only exist, in the order of `actual.grants`. Changes
 * follow the slots, so the plan's order depends only on the order of the two lists.
 */
export function diffGrants(target: string, scope: RoleScope, desired: Grant[], actual: DatabaseState, opaqueGrantors: ReadonlySet<string> = new Set()): Change[] {
  const ids = new PrivilegeIds(actual);
  const desiredIds = ids.identify(desired);
  const heldIds = ids.identify(actual.grants);
  const keyOf = ids.keyFunction();
  const manages = granteeScope(scope, ids);

  const slots = new Map<number | string, number>();
  // The object, grantee and privilege ids of each slot, three numbers per slot.
  const slotIds: number[] = [];
  const desiredBySlot: Grant[] = [];
  for (let index = 0; index < desired.length; index++) {
    const object = desiredIds[index * 3];
    const grantee = desiredIds[index * 3 + 1];
    if (ids.isOwner(object, grantee)) continue;
    const key = keyOf(object, grantee, desiredIds[index * 3 + 2]);
    const grant = desired[index];
    const slot = slots.get(key);
    if (slot === undefined) {
      slots.set(key, desiredBySlot.length);
      slotIds.push(object, grantee, desiredIds[index * 3 + 2]);
      desiredBySlot.push(grant);
    } else {
      const previous = desiredBySlot[slot];
      desiredBySlot[slot] = { ...previous, grantOption: previous.grantOption || grant.grantOption };
    }
  }

  // Privileges of grantees that are not managed (PUBLIC without manage_public, undeclared or
  // ignored roles) are read only where the file grants them, so they converge but are never revoked.
  // A slot contains one grant, or a list once a second grantor of the same privilege turns up.
  const existingBySlot: (Grant | Grant[] | undefined)[] = new Array(desiredBySlot.length);
  // The inspected grants left out that way, which a revoke's cascade still passes through.
  const unmanaged: number[] = [];
  for (let index = 0; index < actual.grants.length; index++) {
    const object = heldIds[index * 3];
    const grantee = heldIds[index * 3 + 1];
    const key = keyOf(object, grantee, heldIds[index * 3 + 2]);
    const slot = slots.get(key);
    if (!manages(grantee) && (slot === undefined || slot >= desiredBySlot.length)) {
      if (!ids.isOwner(object, grantee)) unmanaged.push(index);
      continue;
    }
    if (ids.isOwner(object, grantee)) continue;

    const entry = actual.grants[index];
    if (slot === undefined) {
      slots.set(key, existingBySlot.length);
      slotIds.push(object, grantee, heldIds[index * 3 + 2]);
      existingBySlot.push(entry);
      continue;
    }
    const current = existingBySlot[slot];
    if (current === undefined) existingBySlot[slot] = entry;
    else if (Array.isArray(current)) current.push(entry);
    else existingBySlot[slot] = [current, entry];
  }

  const changes: Change[] = [];
  const granted = new Set<number>();
  const revoked: Revoked = { privileges: new Set(), grantOptions: new Set() };
  const grantChange = (grant: Grant): Change => ({
    kind: 'grant',
    address: grantAddress(target, grant, 'grant'),
    database: grant.database,
    destructive: false,
    grant,
    source: grant.source,
  });
  for (let slot = 0; slot < desiredBySlot.length; slot++) {
    const grant = desiredBySlot[slot];
    const current = existingBySlot[slot];
    const hasGrantOption = current === undefined ? false : Array.isArray(current) ? current.some((each) => each.grantOption) : current.grantOption;
    if (current === undefined || (grant.grantOption && !hasGrantOption)) {
      granted.add(slot);
      changes.push(grantChange(grant));
    } else if (!grant.grantOption && hasGrantOption && scope.managesGrantee(grant.grantee)) {
      for (const entry of Array.isArray(current) ? current : [current]) {
        if (!entry.grantOption) continue;
        revoked.grantOptions.add(entry);
        const each = revocable(entry, ids);
        changes.push({
          kind: 'revoke',
          address: grantAddress(target, each, 'revoke', true),
          database: each.database,
          destructive: true,
          grant: each,
          grantOptionOnly: true,
          source: grant.source,
        });
      }
    }
  }

  for (let slot = desiredBySlot.length; slot < existingBySlot.length; slot++) {
    const current = existingBySlot[slot]!;
    for (const each of Array.isArray(current) ? current : [current]) {
      revoked.privileges.add(each);
      const grant = revocable(each, ids);
      changes.push({
        kind: 'revoke',
        address: grantAddress(target, grant, 'revoke'),
        database: grant.database,
        destructive: true,
        grant,
        grantOptionOnly: false,
      });
    }
  }

  // A declared privilege that a revoke's CASCADE takes away is granted again, after the revokes.
  const others = { grants: actual.grants, ids: heldIds, indexes: unmanaged };
  const cascades = simulateCascades({ ids, slotIds, existingBySlot, others, opaqueGrantors }, revoked);
  for (const [slot, after] of cascades.losses) {
    if (slot >= desiredBySlot.length || granted.has(slot)) continue;
    const grant = desiredBySlot[slot];
    if (!after.hasPrivilege || (grant.grantOption && !after.hasGrantOption)) changes.push(grantChange(grant));
  }

  const result = dedupeAddresses(changes);
  for (const change of result) {
    if (change.kind !== 'revoke' || change.grant.grantor === undefined) continue;
    const depth = cascades.chainDepth(ids.object(change.grant.object), ids.privilege(change.grant.privilege), change.grant.grantor);
    REVOKE_CHAIN_DEPTH.set(change, depth);
  }
  return result;
}

/**
 * Returns the grant that a revoke names. A grantor is kept only when it is not the owner: then
 * the revoke must name it (GRANTED BY), because a revoke without it acts for the owner and would
 * leave that grant in place. The copy without a grantor is made only for a revoke, because the
 * owner is usually the grantor of nearly every privilege that diff reads.
 */
function revocable(grant: Grant, ids: PrivilegeIds): Grant {
  return grant.grantor === ids.owners[ids.object(grant.object)] ? { ...grant, grantor: undefined } : grant;
}

/** Returns scope.managesGrantee by role id, computed once per role rather than once per grant. */
function granteeScope(scope: RoleScope, ids: PrivilegeIds): (role: number) => boolean {
  const answers = new Int8Array(ids.roleCount);
  return (role) => {
    if (answers[role] === 0) answers[role] = scope.managesGrantee(ids.roleName(role)) ? 1 : 2;
    return answers[role] === 1;
  };
}

/** Compares ALTER DEFAULT PRIVILEGES entries of managed grantees on one database. */
export function diffDefaultPrivileges(
  target: string,
  scope: RoleScope,
  desired: DefaultPrivilege[],
  actual: DefaultPrivilege[],
): Change[] {
  const isOwn = (entry: DefaultPrivilege) => entry.grantee === entry.forRole;
  const wanted = new Map<string, DefaultPrivilege>();
  for (const entry of desired) {
    if (isOwn(entry)) continue;
    const key = defaultPrivilegeKey(entry);
    const previous = wanted.get(key);
    wanted.set(key, previous ? { ...previous, grantOption: previous.grantOption || entry.grantOption } : entry);
  }
  const held = new Map<string, DefaultPrivilege>();
  for (const entry of actual) {
    const key = defaultPrivilegeKey(entry);
    if (isOwn(entry) || (!scope.managesGrantee(entry.grantee) && !wanted.has(key))) continue;
    held.set(key, entry);
  }

  // Without a pg_default_acl row of its own, a role's global defaults are PostgreSQL's built-in
  // ones, and the server removes a row that equals them, so they are never read back.
  // NOTE: for the same reason, manage_public cannot revoke a built-in PUBLIC default that has no row.
  const globalRows = new Set(actual.filter((entry) => entry.schema === null).map((entry) => `${entry.forRole}\0${entry.objectType}`));
  const builtIn = (entry: DefaultPrivilege) =>
    entry.schema === null &&
    entry.grantee === 'PUBLIC' &&
    !entry.grantOption &&
    ((entry.objectType === 'functions' && entry.privilege === 'EXECUTE') || (entry.objectType === 'types' && entry.privilege === 'USAGE')) &&
    !globalRows.has(`${entry.forRole}\0${entry.objectType}`);

  const changes: Change[] = [];
  for (const [key, entry] of wanted) {
    const current = held.get(key) ?? (builtIn(entry) ? entry : undefined);
    if (!current || (entry.grantOption && !current.grantOption)) {
      changes.push({
        kind: 'grant_default_privilege',
        address: defaultPrivilegeAddress(target, entry, 'grant'),
        database: entry.database,
        destructive: false,
        defaultPrivilege: entry,
        source: entry.source,
      });
    } else if (!entry.grantOption && current.grantOption) {
      changes.push({
        kind: 'revoke_default_privilege',
        address: defaultPrivilegeAddress(target, current, 'revoke', true),
        database: current.database,
        destructive: true,
        defaultPrivilege: current,
        grantOptionOnly: true,
        source: entry.source,
      });
    }
  }
  for (const [key, entry] of held) {
    if (wanted.has(key)) continue;
    changes.push({
      kind: 'revoke_default_privilege',
      address: defaultPrivilegeAddress(target, entry, 'revoke'),
      database: entry.database,
      destructive: true,
      defaultPrivilege: entry,
      grantOptionOnly: false,
    });
  }
  return changes;
}

/**
 * Appends the grantor to the addresses of a privilege granted by several grantors. Such a
 * privilege is revoked once per grantor, and every address in a plan must stay unique.
 */
function dedupeAddresses(changes: Change[]): Change[] {
  const seen = new Map<string, number>();
  for (const change of changes) seen.set(change.address, (seen.get(change.address) ?? 0) + 1);
  return changes.map((change) =>
    (seen.get(change.address) ?? 0) > 1 && change.kind === 'revoke' && change.grant.grantor
      ? { ...change, address: `${change.address} (granted by ${change.grant.grantor})` }
      : change,
  );
}
