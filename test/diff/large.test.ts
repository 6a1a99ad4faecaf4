import { describe, expect, it } from 'vitest';
import { diff } from '../../engine/diff/diff.js';
import type { PasswordStatus } from '../../engine/diff/roles.js';
import { ROLE_ATTRIBUTE_DEFAULTS, type ActualState, type CatalogObject, type DesiredState } from '../../engine/model/types.js';
import { capabilitiesFor } from '../../providers/postgres/capabilities.js';

/** One declared grant of ALL on `app.*` over this many tables expands to seven times as many privileges. */
const TABLES = 30_000;

describe('diff of a large estate', () => {
  it('grants ALL on 30,000 tables from empty', () => {
    const objects: CatalogObject[] = [{ kind: 'schema', schema: null, name: 'app', owner: 'admin' }];
    for (let index = 0; index < TABLES; index++) {
      objects.push({ kind: 'table', schema: 'app', name: `t${index}`, owner: 'admin', relationKind: 'table', columns: ['id'] });
    }
    const actual = {
      serverVersion: 150000,
      currentUser: 'admin',
      roles: [{ ...ROLE_ATTRIBUTE_DEFAULTS, name: 'admin', superuser: true, password: { kind: 'none' }, system: true }],
      memberships: [],
      roleSettings: [],
      server: { embedded: false, superuser: true, settings: [], availableExtensions: [], hbaRules: [] },
      databases: [{ name: 'app', owner: 'admin', grants: [], defaultPrivileges: [], rlsTables: [], policies: [], extensions: [], objects }],
    } as unknown as ActualState;
    const desired = {
      roles: [{ ...ROLE_ATTRIBUTE_DEFAULTS, name: 'writer' }],
      absentRoles: [],
      memberships: [],
      grants: [{ database: 'app', grantees: ['writer'], privileges: ['ALL'], selector: { kind: 'table', schema: 'app', name: '*' }, grantOption: false }],
      defaultPrivileges: [],
      rlsTables: [],
      policies: [],
      roleSettings: [],
      serverSettings: [],
    } as unknown as DesiredState;

    const result = diff({
      target: 'prod',
      desired,
      actual,
      scope: { ignoreRoles: [], dropUnmanagedRoles: false, managePublic: false },
      managedDatabases: ['app'],
      privileges: capabilitiesFor(150000).privileges,
      membershipOptions: false,
      passwords: new Map<string, PasswordStatus>(),
    } as Parameters<typeof diff>[0]);

    const grants = result.changes.filter((change) => change.kind === 'grant');
    expect(result.diagnostics).toEqual([]);
    expect(grants).toHaveLength(TABLES * 7);
  });
});
