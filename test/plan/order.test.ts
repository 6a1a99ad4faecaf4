import { describe, expect, it } from 'vitest';
import { grantAddress } from '../../engine/diff/addresses.js';
import type { Change, RevokePrivilege } from '../../engine/diff/changes.js';
import type { Grant } from '../../engine/model/types.js';
import { orderChanges } from '../../engine/plan/order.js';

/** Builds a revoke from `grantee`, made by `grantor` when one is given (a role other than the owner). */
function revoke(grantee: string, privilege: string, object: Grant['object'], grantor?: string, database = 'app', grantOptionOnly = false): RevokePrivilege {
  const grant: Grant = { database, grantee, privilege, object, grantOption: grantOptionOnly, ...(grantor ? { grantor } : {}) };
  return { kind: 'revoke', address: grantAddress('main', grant, 'revoke', grantOptionOnly), database, destructive: true, grant, grantOptionOnly };
}

const table = { kind: 'table' as const, schema: 's', name: 't' };
const schema = { kind: 'schema' as const, schema: null, name: 's' };
const summary = (changes: Change[]) => changes.map((change) => change.address.replace('main/app: ', ''));

describe('orderChanges for grant chains', () => {
  it('revokes from the end of a chain first', () => {
    // owner → first → second → third; address order alone would put first's revoke first.
    const changes = [revoke('first', 'SELECT', table), revoke('second', 'SELECT', table, 'first'), revoke('third', 'SELECT', table, 'second')];

    expect(summary(orderChanges(changes))).toEqual([
      'revoke SELECT on table s.t from third',
      'revoke SELECT on table s.t from second',
      'revoke SELECT on table s.t from first',
    ]);
  });

  it('revokes by a grantor before its grant option', () => {
    // By address alone, "revoke grant option for …" sorts first.
    const changes = [revoke('app', 'SELECT', table, undefined, 'app', true), revoke('reader', 'SELECT', table, 'app')];

    expect(summary(orderChanges(changes))).toEqual(['revoke SELECT on table s.t from reader', 'revoke grant option for SELECT on table s.t from app']);
  });

  it('revokes made by other roles come first', () => {
    // The owner's revoke of app's DELETE sorts first by address, and needs nothing of app.
    const changes = [revoke('app', 'DELETE', { ...table, name: 'a' }), revoke('reader', 'SELECT', table, 'app')];

    expect(summary(orderChanges(changes))).toEqual(['revoke SELECT on table s.t from reader', 'revoke DELETE on table s.a from app']);
  });

  it('revokes made by a role before its schema usage', () => {
    const changes = [revoke('app', 'USAGE', schema, 'admin'), revoke('reader', 'SELECT', table, 'app')];

    expect(summary(orderChanges(changes))).toEqual(['revoke SELECT on table s.t from reader', 'revoke USAGE on schema s from app']);
  });

  it('keeps chains on different objects apart', () => {
    // Table t: owner → a → b. Sequence q: owner → b → a. Counted by role alone, these would form a cycle.
    const sequence = { kind: 'sequence' as const, schema: 's', name: 'q' };
    const changes = [
      revoke('b', 'SELECT', table, 'a'),
      revoke('a', 'SELECT', table, 'x'),
      revoke('a', 'SELECT', sequence, 'b'),
      revoke('b', 'SELECT', sequence, 'y'),
    ];

    const order = summary(orderChanges(changes));
    expect(order.indexOf('revoke SELECT on table s.t from b')).toBeLessThan(order.indexOf('revoke SELECT on table s.t from a'));
    expect(order.indexOf('revoke SELECT on sequence s.q from a')).toBeLessThan(order.indexOf('revoke SELECT on sequence s.q from b'));
  });

  it('keeps address order without chains', () => {
    const changes = [revoke('reader', 'USAGE', schema), revoke('app', 'SELECT', table), revoke('app', 'INSERT', table)];

    expect(summary(orderChanges(changes))).toEqual([
      'revoke INSERT on table s.t from app',
      'revoke SELECT on table s.t from app',
      'revoke USAGE on schema s from reader',
    ]);
  });

  it('orders chains only within a database', () => {
    // "first" loses its privilege in database b only, so the revoke it makes in a has no chain.
    const changes = [
      revoke('second', 'SELECT', table, 'first', 'a'),
      revoke('alpha', 'INSERT', table, 'zed', 'a'),
      revoke('first', 'SELECT', table, 'x', 'b'),
    ];

    expect(orderChanges(changes).map((change) => change.address)).toEqual([
      'main/a: revoke INSERT on table s.t from alpha',
      'main/a: revoke SELECT on table s.t from second',
      'main/b: revoke SELECT on table s.t from first',
    ]);
  });

  it('ends a grant cycle', () => {
    const changes = [revoke('x', 'SELECT', table, 'y'), revoke('y', 'SELECT', table, 'x')];

    expect(orderChanges(changes)).toHaveLength(2);
  });
});
