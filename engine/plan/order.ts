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
 * The revokes of each database are then put in an order that lets every revoke run (see
 * orderRevokes).
 */
export function orderChanges(changes: Change[]): Change[] {
  const sorted = [...changes].sort(
    (a, b) =>
      PHASE[a.kind] - PHASE[b.kind] ||
      (a.database ?? '').localeCompare(b.database ?? '') ||
      a.address.localeCompare(b.address),
  );

  // The revokes of one database follow each other in the sorted list.
  const result: Change[] = [];
  let start = 0;
  while (start < sorted.length) {
    const first = sorted[start]!;
    let end = start + 1;
    if (first.kind === 'revoke') {
      while (end < sorted.length && sorted[end]!.kind === 'revoke' && sorted[end]!.database === first.database) end++;
      result.push(...orderRevokes(sorted.slice(start, end) as RevokePrivilege[]));
    } else {
      result.push(first);
    }
    start = end;
  }
  return result;
}

/**
 * Orders the revokes of one database. A revoke that a role other than the owner makes runs as
 * that role, and needs the role's privilege on the object and the USAGE on its schema. A revoke
 * from that role, or from a role above it in the grant chain (whose CASCADE takes the role's
 * privilege too), must therefore come later. Those constraints are sorted topologically. Where
 * they leave a choice, revokes that other roles make come before those the owner makes, then by
 * address. A cycle of constraints, which PostgreSQL's grant rules should not allow, ends in
 * address order.
 *
 * NOTE: membership revokes run first, so a grantor that reaches a schema only through a role it
 * leaves in this plan cannot revoke what it granted there.
 */
function orderRevokes(revokes: RevokePrivilege[]): RevokePrivilege[] {
  if (!revokes.some((revoke) => revoke.grant.grantor !== undefined)) return revokes;

  // The revokes from each role of each object, and the revokes of each privilege.
  const from = new Map<string, number[]>();
  const byPrivilege = new Map<string, number[]>();
  revokes.forEach((revoke, index) => {
    const { grantee, object, privilege } = revoke.grant;
    push(from, objectKey(grantee, object), index);
    push(byPrivilege, `${objectKey('', object)}\0${privilege}`, index);
  });

  // Nodes past the revokes are barriers between the depths of one chain, which keep the number
  // of constraints linear: every revoke at one depth precedes the barrier, which precedes every
  // revoke at the next lower depth.
  const after: number[][] = revokes.map(() => []);
  const incoming: number[] = revokes.map(() => 0);
  const addBarrier = () => {
    after.push([]);
    incoming.push(0);
    return after.length - 1;
  };
  const mustPrecede = (first: number, second: number) => {
    if (first === second) return;
    after[first]!.push(second);
    incoming[second]!++;
  };

  revokes.forEach((revoke, index) => {
    const { grantor, object } = revoke.grant;
    if (grantor === undefined) return;

    // The grantor's own privileges on the object and the USAGE on its schema.
    for (const other of from.get(objectKey(grantor, object)) ?? []) mustPrecede(index, other);
    if (object.schema !== null) {
      for (const other of from.get(objectKey(grantor, { kind: 'schema', schema: null, name: object.schema })) ?? []) {
        if (revokes[other]!.grant.privilege === 'USAGE') mustPrecede(index, other);
      }
    }
  });

  // Up the chain that the diff read from the catalog: a grantor deeper in the chain revokes
  // first. The owner's revokes count as depth 0.
  for (const members of byPrivilege.values()) {
    const levels = new Map<string, number[]>();
    for (const index of members) push(levels, String(REVOKE_CHAIN_DEPTH.get(revokes[index]!) ?? 0), index);
    if (levels.size < 2) continue;
    const depths = [...levels.keys()].map(Number).sort((a, b) => b - a);
    for (let level = 0; level + 1 < depths.length; level++) {
      const barrier = addBarrier();
      for (const index of levels.get(String(depths[level]))!) mustPrecede(index, barrier);
      for (const index of levels.get(String(depths[level + 1]))!) mustPrecede(barrier, index);
    }
  }

  // Kahn's algorithm, taking the first ready revoke by priority each time. Barriers go first.
  const priority = after.map((_, index) => {
    if (index >= revokes.length) return -1;
    return (revokes[index]!.grant.grantor === undefined ? revokes.length : 0) + index;
  });
  const ready = new MinHeap(priority);
  incoming.forEach((count, index) => {
    if (count === 0) ready.push(index);
  });
  const ordered: RevokePrivilege[] = [];
  const placed = new Set<number>();
  while (ready.size > 0) {
    const index = ready.pop();
    placed.add(index);
    if (index < revokes.length) ordered.push(revokes[index]!);
    for (const next of after[index]!) if (--incoming[next]! === 0) ready.push(next);
  }
  if (ordered.length < revokes.length) {
    ordered.push(...revokes.filter((_, index) => !placed.has(index)));
  }
  return ordered;
}

/** Identifies the privileges of one role on one object (a column counts as its own object). */
function objectKey(role: string, object: RevokePrivilege['grant']['object']): string {
  return [role, object.kind, object.schema ?? '', object.name, object.column ?? ''].join('\0');
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A binary heap of indexes, smallest priority first. */
class MinHeap {
  private readonly items: number[] = [];
  constructor(private readonly priority: readonly number[]) {}

  get size(): number {
    return this.items.length;
  }

  push(index: number): void {
    const items = this.items;
    items.push(index);
    let child = items.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (this.priority[items[parent]!]! <= this.priority[items[child]!]!) break;
      [items[parent], items[child]] = [items[child]!, items[parent]!];
      child = parent;
    }
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let parent = 0;
      for (;;) {
        const left = parent * 2 + 1;
        const right = left + 1;
        let smallest = parent;
        if (left < items.length && this.priority[items[left]!]! < this.priority[items[smallest]!]!) smallest = left;
        if (right < items.length && this.priority[items[right]!]! < this.priority[items[smallest]!]!) smallest = right;
        if (smallest === parent) break;
        [items[parent], items[smallest]] = [items[smallest]!, items[parent]!];
        parent = smallest;
      }
    }
    return top;
  }
}
