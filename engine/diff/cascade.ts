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

/** What a grantee still has of one privilege once the plan's revokes and their cascades ran. */
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

/**
 * Returns, for each slot that loses an entry to a cascade, what its grantee still has.
 * `slotIds` has three numbers per slot (object, grantee and privilege id), and `existingBySlot`
 * the catalog's entries of each slot.
 */
export function cascadeLosses(
  ids: PrivilegeIds,
  slotIds: readonly number[],
  existingBySlot: readonly (Grant | Grant[] | undefined)[],
  revoked: Revoked,
): Map<number, AfterCascade> {
  const losses = new Map<number, AfterCascade>();
  if (revoked.privileges.size === 0 && revoked.grantOptions.size === 0) return losses;

  // Only privileges with an entry granted by a role other than the owner can cascade. They are
  // found first, so that an estate where the owner granted everything builds no look-ups.
  const entriesOf = (slot: number): readonly Grant[] => {
    const current = existingBySlot[slot];
    if (current === undefined) return [];
    return Array.isArray(current) ? current : [current];
  };
  const groupKey = (slot: number) => `${slotIds[slot * 3]}:${slotIds[slot * 3 + 2]}`;
  const delegated = new Set<string>();
  const isDelegated = (entry: Grant, owner: string | undefined) => entry.grantor !== undefined && entry.grantor !== owner;
  for (let slot = 0; slot < existingBySlot.length; slot++) {
    const current = existingBySlot[slot];
    if (current === undefined) continue;
    const owner = ids.owners[slotIds[slot * 3]!];
    if (Array.isArray(current) ? current.some((entry) => isDelegated(entry, owner)) : isDelegated(current, owner)) delegated.add(groupKey(slot));
  }
  if (delegated.size === 0) return losses;

  const groups = new Map<string, { owner: string; entries: Entry[] }>();
  for (let slot = 0; slot < existingBySlot.length; slot++) {
    const key = groupKey(slot);
    if (!delegated.has(key)) continue;
    const owner = ids.owners[slotIds[slot * 3]!] ?? '';
    const group = groups.get(key) ?? { owner, entries: [] };
    groups.set(key, group);
    const grantee = ids.roleName(slotIds[slot * 3 + 1]!);
    for (const entry of entriesOf(slot)) {
      const removed = revoked.privileges.has(entry);
      const grantOption = entry.grantOption && !removed && !revoked.grantOptions.has(entry);
      group.entries.push({ slot, grantee, grantor: entry.grantor ?? owner, grantable: entry.grantOption, grantOption, removed });
    }
  }

  for (const group of groups.values()) followCascade(group.owner, group.entries, losses);
  return losses;
}

/** Removes the entries that cascades take away, and records what their slots still have. */
function followCascade(owner: string, entries: Entry[], losses: Map<number, AfterCascade>): void {
  // Only a role that loses the grant option now takes its grants with it. A grantor without the
  // grant option before the plan has nothing to lose, so its grants stay.
  const hadGrantOption = new Set(entries.filter((entry) => entry.grantable).map((entry) => entry.grantee));
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

  for (const slot of cascaded) {
    const remaining = entries.filter((entry) => entry.slot === slot && !entry.removed);
    losses.set(slot, { hasPrivilege: remaining.length > 0, hasGrantOption: remaining.some((entry) => entry.grantOption) });
  }
}
