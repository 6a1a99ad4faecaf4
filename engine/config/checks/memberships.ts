/**
 * Membership checks: a role cannot be a member of itself, and memberships among declared roles
 * must not form a cycle, which PostgreSQL rejects ("role X is a member of role Y").
 */
import { at, CheckContext } from './context.js';

export function checkMemberships(context: CheckContext): void {
  const { roles } = context.config;

  for (const [name, role] of context.roleEntries()) {
    const memberOf = role.member_of ?? [];
    for (let position = 0; position < memberOf.length; position++) {
      if (memberOf[position]!.role !== name) continue;
      context.error(
        `role "${name}" is a member of itself`,
        at(context.source('roles', name), 'member_of', position),
        `remove "${name}" from its member_of`,
        true,
      );
    }
  }

  for (const cycle of membershipCycles(context)) {
    const [first, second] = cycle;
    const position = (roles[first!]!.member_of ?? []).findIndex((membership) => membership.role === second);
    context.error(
      `membership cycle: ${[...cycle, first].map((name) => `"${name}"`).join(' → ')} (each role is a member of the next)`,
      at(context.source('roles', first!), 'member_of', position),
      'remove one of these memberships; a role cannot be, directly or indirectly, a member of itself',
      true,
    );
  }
}

/**
 * Returns one cycle per strongly connected group of declared roles (Tarjan's algorithm, iterative
 * so that a chain of 10,000 roles does not overflow the stack). Each cycle lists its roles in
 * membership order, starting from the first declared. Roles are numbered in declaration order,
 * so that the bookkeeping uses typed arrays rather than maps keyed by name.
 */
function membershipCycles(context: CheckContext): string[][] {
  const entries = context.roleEntries();
  const names = entries.map(([name]) => name);
  const ids = new Map(names.map((name, id) => [name, id]));
  const groups: number[][] = entries.map(([name, role]) => {
    const result: number[] = [];
    for (const membership of role.member_of ?? []) {
      const group = ids.get(membership.role);
      if (group !== undefined && membership.role !== name) result.push(group);
    }
    return result;
  });
  if (isAcyclic(groups)) return [];

  const index = new Int32Array(names.length).fill(-1);
  const lowLink = new Int32Array(names.length);
  const onStack = new Uint8Array(names.length);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;

  for (let start = 0; start < names.length; start++) {
    if (index[start] !== -1) continue;
    const work: { id: number; next: number }[] = [];
    const open = (id: number): void => {
      index[id] = counter;
      lowLink[id] = counter;
      counter++;
      stack.push(id);
      onStack[id] = 1;
      work.push({ id, next: 0 });
    };
    open(start);

    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const frameGroups = groups[frame.id]!;
      if (frame.next < frameGroups.length) {
        const group = frameGroups[frame.next++]!;
        if (index[group] === -1) open(group);
        else if (onStack[group]) lowLink[frame.id] = Math.min(lowLink[frame.id]!, index[group]!);
        continue;
      }

      work.pop();
      const parent = work[work.length - 1];
      if (parent) lowLink[parent.id] = Math.min(lowLink[parent.id]!, lowLink[frame.id]!);
      if (lowLink[frame.id] !== index[frame.id]) continue;

      const component: number[] = [];
      let member: number;
      do {
        member = stack.pop()!;
        onStack[member] = 0;
        component.push(member);
      } while (member !== frame.id);
      if (component.length > 1) components.push(component);
    }
  }

  return components.map((component) => {
    const first = component.reduce((a, b) => Math.min(a, b));
    return cycleThrough(first, new Set(component), groups).map((id) => names[id]!);
  });
}

/**
 * Tells whether the memberships form no cycle (Kahn's algorithm). It repeatedly removes the roles
 * that no remaining role is a member of. Only the roles of a cycle, and the groups that they are
 * members of directly or indirectly, are never removed. This is cheaper than Tarjan's algorithm,
 * which then runs only for a configuration that has a cycle.
 */
function isAcyclic(groups: readonly number[][]): boolean {
  const memberCounts = new Int32Array(groups.length);
  for (const roleGroups of groups) for (const group of roleGroups) memberCounts[group]!++;

  const removed: number[] = [];
  for (let id = 0; id < groups.length; id++) if (memberCounts[id] === 0) removed.push(id);
  for (let head = 0; head < removed.length; head++) {
    for (const group of groups[removed[head]!]!) if (--memberCounts[group]! === 0) removed.push(group);
  }
  return removed.length === groups.length;
}

/** Finds a shortest membership path from `start` back to itself inside one component. */
function cycleThrough(start: number, members: Set<number>, groups: readonly number[][]): number[] {
  const previous = new Map<number, number>();
  const queue = [start];

  for (let head = 0; head < queue.length; head++) {
    const current = queue[head]!;
    for (const group of groups[current]!) {
      if (!members.has(group)) continue;
      if (group === start) {
        const path = [current];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(group)) {
        previous.set(group, current);
        queue.push(group);
      }
    }
  }
  return [start];
}
