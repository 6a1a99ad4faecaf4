/**
 * Membership checks: a role cannot be a member of itself, and memberships among declared roles
 * must not form a cycle, which PostgreSQL rejects ("role X is a member of role Y").
 */
import { at, CheckContext } from './context.js';

export function checkMemberships(context: CheckContext): void {
  const { roles } = context.config;

  for (const [name, role] of Object.entries(roles)) {
    for (const [position, membership] of (role.member_of ?? []).entries()) {
      if (membership.role !== name) continue;
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
 * membership order, starting from the first declared.
 */
function membershipCycles(context: CheckContext): string[][] {
  const { roles } = context.config;
  const names = Object.keys(roles);
  const groupsOf = (name: string): string[] =>
    (roles[name]!.member_of ?? [])
      .map((membership) => membership.role)
      .filter((group) => group !== name && Object.hasOwn(roles, group));

  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  for (const start of names) {
    if (index.has(start)) continue;
    const work: { name: string; next: number; groups: string[] }[] = [];
    const open = (name: string): void => {
      index.set(name, counter);
      lowLink.set(name, counter);
      counter++;
      stack.push(name);
      onStack.add(name);
      work.push({ name, next: 0, groups: groupsOf(name) });
    };
    open(start);

    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.groups.length) {
        const group = frame.groups[frame.next++]!;
        if (!index.has(group)) open(group);
        else if (onStack.has(group)) lowLink.set(frame.name, Math.min(lowLink.get(frame.name)!, index.get(group)!));
        continue;
      }

      work.pop();
      const parent = work[work.length - 1];
      if (parent) lowLink.set(parent.name, Math.min(lowLink.get(parent.name)!, lowLink.get(frame.name)!));
      if (lowLink.get(frame.name) !== index.get(frame.name)) continue;

      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.name);
      if (component.length > 1) components.push(component);
    }
  }

  const order = new Map(names.map((name, position) => [name, position]));
  return components.map((component) => {
    const members = new Set(component);
    const first = component.reduce((a, b) => (order.get(a)! < order.get(b)! ? a : b));
    return cycleThrough(first, members, groupsOf);
  });
}

/** Finds a shortest membership path from `start` back to itself inside one component. */
function cycleThrough(start: string, members: Set<string>, groupsOf: (name: string) => string[]): string[] {
  const previous = new Map<string, string>();
  const queue = [start];

  for (let head = 0; head < queue.length; head++) {
    const current = queue[head]!;
    for (const group of groupsOf(current)) {
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
