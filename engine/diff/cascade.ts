/**
 * Follows PostgreSQL's REVOKE … CASCADE through the privileges of one database. When a role loses
 * the grant option of a privilege, the server also revokes what that role granted of it, and so
 * on down the chain. diff revokes with CASCADE, so a declared privilege that a grantee holds only
 * through such a chain would disappear without the plan showing it.
 */
import type { Grant } from '../model/types.js';
import type { PrivilegeIds } from './privilege-ids.js';

/** The ACL entries that a plan revokes, as diff read them from the catalog. */
export interface Revoked {
  /** Entries revoked entirely. */
  privileges: Set<Grant>;
  /** Entries whose grant option alone is revoked. */
  grantOptions: Set<Grant>;
}

/** The part of one privilege that a grantee keeps once the plan's revokes and their cascades ran. */
export interface AfterCascade {
  hasPrivilege: boolean;
  hasGrantOption: boolean;
}

interface Entry {
  slot: number;
  grantee: string;
  grantor: string;
  /** The grant option as the catalog lists it. */
  grantable: boolean;
  /** The grant option once the plan has run, and whether the entry is gone by then. */
  grantOption: boolean;
  removed: boolean;
}

/** The inspected grants of one database, as diffGrants arranged them. */
export interface CascadeInput {
  ids: PrivilegeIds;
  /** Three numbers per slot: object, grantee and privilege id. */
  slotIds: readonly number[];
  /** The catalog's entries of each slot. */
  existingBySlot: readonly (Grant | Grant[] | undefined)[];
  /** Inspected grants that have no slot (unmanaged grantees): `ids` has three numbers per grant. */
  others: { grants: readonly Grant[]; ids: Int32Array; indexes: readonly number[] };
  /** Roles taken to keep every grant option: members of other roles and superusers. */
  opaqueGrantors: ReadonlySet<string>;
}

/** The findings of a cascade simulation in one database. */
export interface CascadeResult {
  /** For each slot that loses an entry to a cascade, what its grantee still has. */
  losses: Map<number, AfterCascade>;
  /**
   * Returns how many roles other than the owner granted a privilege on its way to `role`, along
   * the longest chain. A role that the owner granted it to gets 1. The owner gets 0, and so does
   * every role where only the owner granted the privilege.
   */
  chainDepth(object: number, privilege: number, role: string): number;
}

/**
 * Simulates the cascades of a plan's revokes.
 *
 * NOTE: not followed here: a table-level revoke also revokes the privilege on each column, and
 * DROP OWNED of a dropped role removes what it granted. apply's check after the changes reports both.
 */
export function simulateCascades(input: CascadeInput, revoked: Revoked): CascadeResult {
  const { ids, slotIds, existingBySlot, others } = input;
  const losses = new Map<number, AfterCascade>();
  const groups = new Map<string, { owner: string; entries: Entry[] }>();
  const result: CascadeResult = { losses, chainDepth: (object, privilege, role) => chainDepth(groups.get(`${object}:${privilege}`), role) };
  if (revoked.privileges.size === 0 && revoked.grantOptions.size === 0) return result;

  // Every entry as (slot or -1, object, grantee, privilege, grant), slots first.
  const visit = (onEntry: (slot: number, object: number, grantee: number, privilege: number, entry: Grant) => void) => {
    for (let slot = 0; slot < existingBySlot.length; slot++) {
      const current = existingBySlot[slot];
      if (current === undefined) continue;
      const [object, grantee, privilege] = [slotIds[slot * 3]!, slotIds[slot * 3 + 1]!, slotIds[slot * 3 + 2]!];
      if (Array.isArray(current)) for (const entry of current) onEntry(slot, object, grantee, privilege, entry);
      else onEntry(slot, object, grantee, privilege, current);
    }
    for (const index of others.indexes) {
      onEntry(-1, others.ids[index * 3]!, others.ids[index * 3 + 1]!, others.ids[index * 3 + 2]!, others.grants[index]!);
    }
  };

  // Only privileges with an entry granted by a role other than the owner can cascade. They are
  // found first, so that an estate where the owner granted everything builds no look-ups.
  const delegated = new Set<string>();
  visit((_slot, object, _grantee, privilege, entry) => {
    if (entry.grantor !== undefined && entry.grantor !== ids.owners[object]) delegated.add(`${object}:${privilege}`);
  });
  if (delegated.size === 0) return result;

  visit((slot, object, grantee, privilege, entry) => {
    const key = `${object}:${privilege}`;
    if (!delegated.has(key)) return;
    const owner = ids.owners[object] ?? '';
    const group = groups.get(key) ?? { owner, entries: [] };
    groups.set(key, group);
    const removed = revoked.privileges.has(entry);
    const grantOption = entry.grantOption && !removed && !revoked.grantOptions.has(entry);
    group.entries.push({ slot, grantee: ids.roleName(grantee), grantor: entry.grantor ?? owner, grantable: entry.grantOption, grantOption, removed });
  });

  // The cascades change the entries, and chainDepth reads them as the catalog lists them.
  for (const group of groups.values()) followCascade(group.owner, group.entries.map((entry) => ({ ...entry })), input.opaqueGrantors, losses);
  return result;
}

/** Returns the length of the longest chain of grantors from the owner to `role` in one group. */
function chainDepth(group: { owner: string; entries: Entry[] } | undefined, role: string): number {
  if (group === undefined) return 0;
  const depths = new Map<string, number>();
  const depthOf = (grantee: string): number => {
    if (grantee === group.owner) return 0;
    const known = depths.get(grantee);
    if (known !== undefined) return known;

    // A cycle ends where it returns to a role already on the path.
    depths.set(grantee, 0);
    let depth = 1;
    for (const entry of group.entries) {
      if (entry.grantee === grantee && entry.grantor !== group.owner) depth = Math.max(depth, 1 + depthOf(entry.grantor));
    }
    depths.set(grantee, depth);
    return depth;
  };
  return depthOf(role);
}

/** Removes the entries that cascades take away, and records what their slots still have. */
function followCascade(owner: string, entries: Entry[], opaqueGrantors: ReadonlySet<string>, losses: Map<number, AfterCascade>): void {
  // Only a role that loses the grant option now takes its grants with it. A grantor without the
  // grant option before the plan has nothing to lose, so its grants stay.
  // NOTE: PostgreSQL also counts a grant option that a role has through membership, which
  // this does not follow, so a grantor that is a member of any role is taken to keep it.
  const hadGrantOption = new Set(entries.filter((entry) => entry.grantable && !opaqueGrantors.has(entry.grantee)).map((entry) => entry.grantee));
  const holdsGrantOption = (role: string) => role === owner || entries.some((entry) => entry.grantee === role && !entry.removed && entry.grantOption);

  const cascaded = new Set<number>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const entry of entries) {
      if (entry.removed || entry.grantor === owner || !hadGrantOption.has(entry.grantor) || holdsGrantOption(entry.grantor)) continue;
      entry.removed = true;
      entry.grantOption = false;
      cascaded.add(entry.slot);
      changed = true;
    }
  }

  cascaded.delete(-1);
  for (const slot of cascaded) {
    const remaining = entries.filter((entry) => entry.slot === slot && !entry.removed);
    losses.set(slot, { hasPrivilege: remaining.length > 0, hasGrantOption: remaining.some((entry) => entry.grantOption) });
  }
}
