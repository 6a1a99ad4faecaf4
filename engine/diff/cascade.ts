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

/** The entries of one privilege on one object, with the chain depths once computed. */
interface Group {
  owner: string;
  entries: Entry[];
  depths?: Map<string, number>;
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
  const groups = new Map<string, Group>();
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
function chainDepth(group: Group | undefined, role: string): number {
  if (group === undefined) return 0;
  if (group.depths === undefined) {
    const grantorsOf = new Map<string, string[]>();
    for (const entry of group.entries) {
      if (entry.grantor === group.owner) continue;
      const list = grantorsOf.get(entry.grantee);
      if (list) list.push(entry.grantor);
      else grantorsOf.set(entry.grantee, [entry.grantor]);
    }
    group.depths = new Map([[group.owner, 0]]);
    const depths = group.depths;
    // Iterative, so that a chain of thousands of roles does not exhaust the stack. A role met
    // again on its own path (a cycle) counts as the end of the chain.
    const onPath = new Set<string>();
    const depthOf = (start: string): number => {
      const stack: { role: string; next: number; depth: number }[] = [{ role: start, next: 0, depth: 1 }];
      onPath.add(start);
      while (stack.length > 0) {
        const frame = stack[stack.length - 1]!;
        const grantors = grantorsOf.get(frame.role) ?? [];
        if (frame.next < grantors.length) {
          const grantor = grantors[frame.next++]!;
          const known = depths.get(grantor);
          if (known !== undefined) frame.depth = Math.max(frame.depth, known + 1);
          else if (!onPath.has(grantor)) {
            onPath.add(grantor);
            stack.push({ role: grantor, next: 0, depth: 1 });
          }
          continue;
        }
        stack.pop();
        onPath.delete(frame.role);
        depths.set(frame.role, frame.depth);
        const parent = stack[stack.length - 1];
        if (parent) parent.depth = Math.max(parent.depth, frame.depth + 1);
      }
      return depths.get(start)!;
    };
    for (const grantee of grantorsOf.keys()) if (!depths.has(grantee)) depthOf(grantee);
  }
  return group.depths.get(role) ?? 1;
}

/** Removes the entries that cascades take away, and records what their slots still have. */
function followCascade(owner: string, entries: Entry[], opaqueGrantors: ReadonlySet<string>, losses: Map<number, AfterCascade>): void {
  // Only a role that loses the grant option now takes its grants with it. A grantor without the
  // grant option before the plan has nothing to lose, so its grants stay.
  // NOTE: PostgreSQL also counts a grant option that a role has through membership, which
  // this does not follow, so a grantor that is a member of any role is taken to keep it.
  const hadGrantOption = new Set(entries.filter((entry) => entry.grantable && !opaqueGrantors.has(entry.grantee)).map((entry) => entry.grantee));
  // The entries with the grant option that each grantee keeps, counted down as cascades remove them.
  const grantOptions = new Map<string, number>();
  for (const entry of entries) if (!entry.removed && entry.grantOption) grantOptions.set(entry.grantee, (grantOptions.get(entry.grantee) ?? 0) + 1);
  const holdsGrantOption = (role: string) => role === owner || (grantOptions.get(role) ?? 0) > 0;

  // Each role that loses the grant option is queued once, and its grants are removed.
  const grantedBy = new Map<string, Entry[]>();
  for (const entry of entries) {
    if (entry.grantor === owner) continue;
    const list = grantedBy.get(entry.grantor);
    if (list) list.push(entry);
    else grantedBy.set(entry.grantor, [entry]);
  }
  const queued = new Set([...hadGrantOption].filter((role) => !holdsGrantOption(role)));
  const pending = [...queued];
  const cascaded = new Set<number>();
  while (pending.length > 0) {
    const grantor = pending.pop()!;
    for (const entry of grantedBy.get(grantor) ?? []) {
      if (entry.removed) continue;
      if (entry.grantOption) grantOptions.set(entry.grantee, grantOptions.get(entry.grantee)! - 1);
      entry.removed = true;
      entry.grantOption = false;
      cascaded.add(entry.slot);
      if (hadGrantOption.has(entry.grantee) && !queued.has(entry.grantee) && !holdsGrantOption(entry.grantee)) {
        queued.add(entry.grantee);
        pending.push(entry.grantee);
      }
    }
  }

  cascaded.delete(-1);
  for (const entry of entries) {
    if (!cascaded.has(entry.slot)) continue;
    const after = losses.get(entry.slot) ?? { hasPrivilege: false, hasGrantOption: false };
    if (!entry.removed) {
      after.hasPrivilege = true;
      after.hasGrantOption ||= entry.grantOption;
    }
    losses.set(entry.slot, after);
  }
}
