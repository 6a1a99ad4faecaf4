import { describe, expect, it } from 'vitest';
import { expandGrant } from '../../engine/diff/expand.js';
import type { CatalogObject, DatabaseState, DesiredGrant } from '../../engine/model/types.js';
import { capabilitiesFor } from '../../providers/postgres/capabilities.js';

const lists = capabilitiesFor(150000).privileges;

function databaseWith(objects: CatalogObject[]): DatabaseState {
  // Only the fields that expanding a grant reads; the rest of the state plays no part here.
  return { name: 'app', owner: 'admin', grants: [], defaultPrivileges: [], objects } as unknown as DatabaseState;
}

function selectOn(selector: DesiredGrant['selector']): DesiredGrant {
  return { database: 'app', grantees: ['reader'], privileges: ['SELECT'], selector, grantOption: false };
}

const table = (schema: string, name: string): CatalogObject => ({ kind: 'table', schema, name, owner: 'admin', relationKind: 'table', columns: ['id'] });

describe('expandGrant object look-up', () => {
  it('matches a pattern in its schema only', () => {
    const database = databaseWith([
      { kind: 'schema', schema: null, name: 'app', owner: 'admin' },
      { kind: 'schema', schema: null, name: 'audit', owner: 'admin' },
      table('app', 'orders'),
      table('audit', 'events'),
      table('app', 'customers'),
      { kind: 'sequence', schema: 'app', name: 'orders_id_seq', owner: 'admin' },
    ]);

    const { grants, diagnostics } = expandGrant(selectOn({ kind: 'table', schema: 'app', name: '*' }), database, lists);

    expect(diagnostics).toEqual([]);
    expect(grants.map((grant) => grant.object.name)).toEqual(['orders', 'customers']);
  });

  it('sees objects added after an earlier look-up', () => {
    const database = databaseWith([{ kind: 'schema', schema: null, name: 'app', owner: 'admin' }, table('app', 'orders')]);
    expect(expandGrant(selectOn({ kind: 'table', schema: 'app', name: 'invoices' }), database, lists).diagnostics).toHaveLength(1);

    database.objects.push(table('app', 'invoices'));
    const { grants, diagnostics } = expandGrant(selectOn({ kind: 'table', schema: 'app', name: 'invoices' }), database, lists);

    expect(diagnostics).toEqual([]);
    expect(grants.map((grant) => grant.object.name)).toEqual(['invoices']);
  });

  it('suggests a name that differs in case', () => {
    const database = databaseWith([{ kind: 'schema', schema: null, name: 'app', owner: 'admin' }, table('app', 'Orders')]);

    const { grants, diagnostics } = expandGrant(selectOn({ kind: 'table', schema: 'app', name: 'orders' }), database, lists);

    expect(grants).toEqual([]);
    expect(diagnostics[0]?.fix).toContain('did you mean app."Orders"?');
  });
});
