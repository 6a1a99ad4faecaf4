import { describe, expect, it } from 'vitest';
import { diff, type DiffInput } from '../../engine/diff/diff.js';
import type { PasswordStatus } from '../../engine/diff/roles.js';
import {
  ROLE_ATTRIBUTE_DEFAULTS,
  type ActualRole,
  type ActualState,
  type DatabaseState,
  type DesiredRole,
  type DesiredState,
  type Grant,
} from '../../engine/model/types.js';
import { capabilitiesFor } from '../../providers/postgres/capabilities.js';

const pg15 = capabilitiesFor(150000);

function actualRole(name: string, extra: Partial<ActualRole> = {}): ActualRole {
  return { ...ROLE_ATTRIBUTE_DEFAULTS, name, password: { kind: 'none' }, system: false, ...extra };
}

function desiredRole(name: string, extra: Partial<DesiredRole> = {}): DesiredRole {
  return { ...ROLE_ATTRIBUTE_DEFAULTS, name, ...extra };
}

function database(extra: Partial<DatabaseState> = {}): DatabaseState {
  return {
    name: 'app',
    owner: 'admin',
    grants: [],
    defaultPrivileges: [],
    rlsTables: [],
    policies: [],
    extensions: [],
    objects: [
      { kind: 'schema', schema: null, name: 'public', owner: 'admin' },
      { kind: 'table', schema: 'public', name: 'orders', owner: 'admin', relationKind: 'table', columns: ['id', 'total'] },
      { kind: 'table', schema: 'public', name: 'order_view', owner: 'admin', relationKind: 'view', columns: ['id'] },
      { kind: 'sequence', schema: 'public', name: 'orders_id_seq', owner: 'admin' },
      { kind: 'function', schema: 'public', name: 'total(integer)', owner: 'admin', routineKind: 'function' },
    ],
    ...extra,
  };
}

function actual(extra: Partial<ActualState> = {}): ActualState {
  return {
    serverVersion: 150000,
    currentUser: 'admin',
    roles: [actualRole('admin', { superuser: true, system: true })],
    memberships: [],
    roleSettings: [],
    server: { embedded: false, superuser: true, settings: [], availableExtensions: [], hbaRules: [] },
    databases: [database()],
    ...extra,
  };
}

function desired(extra: Partial<DesiredState> = {}): DesiredState {
  return {
    roles: [],
    absentRoles: [],
    memberships: [],
    grants: [],
    defaultPrivileges: [],
    rlsTables: [],
    policies: [],
    roleSettings: [],
    serverSettings: [],
    ...extra,
  };
}

function run(d: DesiredState, a: ActualState, options: Partial<DiffInput> = {}) {
  return diff({
    target: 'prod',
    desired: d,
    actual: a,
    scope: { ignoreRoles: [], dropUnmanagedRoles: false, managePublic: false },
    managedDatabases: ['app'],
    privileges: pg15.privileges,
    membershipOptions: false,
    passwords: new Map<string, PasswordStatus>(),
    ...options,
  });
}

function tableGrant(grantee: string, privilege: string, name = 'orders', grantOption = false): Grant {
  return { database: 'app', grantee, privilege, object: { kind: 'table', schema: 'public', name }, grantOption, grantor: 'admin' };
}

const readonlySelectAll = {
  database: 'app',
  grantees: ['readonly'],
  privileges: ['SELECT'],
  selector: { kind: 'table' as const, schema: 'public', name: '*' as const },
  grantOption: false,
};

interface Case {
  name: string;
  desired: DesiredState;
  actual: ActualState;
  options?: Partial<DiffInput>;
  addresses: string[];
}

const cases: Case[] = [
  {
    name: 'creates a missing role',
    desired: desired({ roles: [desiredRole('readonly')] }),
    actual: actual(),
    addresses: ['prod: create role readonly'],
  },
  {
    name: 'converged role is no change',
    desired: desired({ roles: [desiredRole('readonly')] }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('readonly')] }),
    addresses: [],
  },
  {
    name: 'alters a changed attribute',
    desired: desired({ roles: [desiredRole('app', { login: true, connectionLimit: 10 })] }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('app', { login: true })] }),
    addresses: ['prod: alter role app'],
  },
  {
    name: 'expands schema wildcard to tables and views',
    desired: desired({ roles: [desiredRole('readonly')], grants: [readonlySelectAll] }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('readonly')] }),
    addresses: [
      'prod/app: grant SELECT on table public.order_view to readonly',
      'prod/app: grant SELECT on table public.orders to readonly',
    ],
  },
  {
    name: 'revokes an undeclared privilege of a declared role',
    desired: desired({ roles: [desiredRole('readonly')] }),
    actual: actual({
      roles: [actualRole('admin', { system: true }), actualRole('readonly')],
      databases: [database({ grants: [tableGrant('readonly', 'DELETE')] })],
    }),
    addresses: ['prod/app: revoke DELETE on table public.orders from readonly'],
  },
  {
    name: 'leaves undeclared roles alone',
    desired: desired(),
    actual: actual({
      roles: [actualRole('admin', { system: true }), actualRole('legacy')],
      databases: [database({ grants: [tableGrant('legacy', 'DELETE')] })],
    }),
    addresses: [],
  },
  {
    name: 'ALL expands to every table privilege',
    desired: desired({
      roles: [desiredRole('writer')],
      grants: [{ ...readonlySelectAll, grantees: ['writer'], privileges: ['ALL'], selector: { kind: 'table', schema: 'public', name: 'orders' } }],
    }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('writer')] }),
    addresses: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']
      .map((privilege) => `prod/app: grant ${privilege} on table public.orders to writer`)
      .sort(),
  },
  {
    name: 'removes only the grant option',
    desired: desired({
      roles: [desiredRole('readonly')],
      grants: [{ ...readonlySelectAll, selector: { kind: 'table', schema: 'public', name: 'orders' } }],
    }),
    actual: actual({
      roles: [actualRole('admin', { system: true }), actualRole('readonly')],
      databases: [database({ grants: [tableGrant('readonly', 'SELECT', 'orders', true)] })],
    }),
    addresses: ['prod/app: revoke grant option for SELECT on table public.orders from readonly'],
  },
  {
    name: 'grants a missing membership and revokes an extra one',
    desired: desired({
      roles: [desiredRole('dev'), desiredRole('readonly'), desiredRole('ops')],
      memberships: [{ role: 'readonly', member: 'dev', admin: false, inherit: null, set: null }],
    }),
    actual: actual({
      roles: [actualRole('admin', { system: true }), actualRole('dev'), actualRole('readonly'), actualRole('ops')],
      memberships: [{ role: 'ops', member: 'dev', admin: false, inherit: null, set: null }],
    }),
    addresses: ['prod: grant role readonly to dev', 'prod: revoke role ops from dev'],
  },
  {
    name: 'drops an absent role',
    desired: desired({ absentRoles: [{ name: 'old', reassignOwnedTo: 'admin' }] }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('old')] }),
    addresses: ['prod: drop role old'],
  },
  {
    name: 'absent role already gone is no change',
    desired: desired({ absentRoles: [{ name: 'old', reassignOwnedTo: null }] }),
    actual: actual(),
    addresses: [],
  },
  {
    name: 'drop_unmanaged_roles drops undeclared roles but not ignored ones',
    desired: desired(),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('stray'), actualRole('legacy_x')] }),
    options: { scope: { ignoreRoles: ['legacy_*'], dropUnmanagedRoles: true, managePublic: false } },
    addresses: ['prod: drop role stray'],
  },
  {
    name: 'PUBLIC is ignored unless manage_public',
    desired: desired(),
    actual: actual({ databases: [database({ grants: [tableGrant('PUBLIC', 'SELECT')] })] }),
    addresses: [],
  },
  {
    name: 'manage_public revokes undeclared PUBLIC privileges',
    desired: desired(),
    actual: actual({ databases: [database({ grants: [tableGrant('PUBLIC', 'SELECT')] })] }),
    options: { scope: { ignoreRoles: [], dropUnmanagedRoles: false, managePublic: true } },
    addresses: ['prod/app: revoke SELECT on table public.orders from PUBLIC'],
  },
  {
    name: 'owner privileges are never managed',
    desired: desired({ roles: [desiredRole('admin2')] }),
    actual: actual({
      roles: [actualRole('admin', { system: true }), actualRole('admin2')],
      databases: [database({ objects: [{ kind: 'table', schema: 'public', name: 'mine', owner: 'admin2', columns: [] }], grants: [tableGrant('admin2', 'SELECT', 'mine')] })],
    }),
    addresses: [],
  },
  {
    name: 'password that matches is no change',
    desired: desired({ roles: [desiredRole('app', { login: true, password: { kind: 'env', name: 'PW' } })] }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('app', { login: true })] }),
    options: { passwords: new Map([['app', 'match' as PasswordStatus]]) },
    addresses: [],
  },
  {
    name: 'password that differs is set',
    desired: desired({ roles: [desiredRole('app', { login: true, password: { kind: 'env', name: 'PW' } })] }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('app', { login: true })] }),
    options: { passwords: new Map([['app', 'differs' as PasswordStatus]]) },
    addresses: ['prod: set password of role app'],
  },
  {
    name: 'unreadable password is not set again',
    desired: desired({ roles: [desiredRole('app', { login: true, password: { kind: 'env', name: 'PW' } })] }),
    actual: actual({ roles: [actualRole('admin', { system: true }), actualRole('app', { login: true })] }),
    options: { passwords: new Map([['app', 'unknown' as PasswordStatus]]) },
    addresses: [],
  },
  {
    name: 'role names keep case and odd characters',
    desired: desired({ roles: [desiredRole('Sales "Team" select')] }),
    actual: actual(),
    addresses: ['prod: create role "Sales ""Team"" select"'],
  },
  {
    name: 'default privileges are granted and revoked',
    desired: desired({
      roles: [desiredRole('readonly')],
      defaultPrivileges: [{ database: 'app', forRole: 'owner', schema: 'public', objectType: 'tables', grantee: 'readonly', privilege: 'SELECT', grantOption: false }],
    }),
    actual: actual({
      roles: [actualRole('admin', { system: true }), actualRole('readonly'), actualRole('owner')],
      databases: [database({ defaultPrivileges: [{ database: 'app', forRole: 'owner', schema: null, objectType: 'sequences', grantee: 'readonly', privilege: 'USAGE', grantOption: false }] })],
    }),
    addresses: [
      'prod/app: default privileges for owner in schema public: grant SELECT on tables to readonly',
      'prod/app: default privileges for owner: revoke USAGE on sequences from readonly',
    ],
  },
];

describe('diff', () => {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const result = run(testCase.desired, testCase.actual, testCase.options);
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(result.changes.map((change) => change.address).sort()).toEqual([...testCase.addresses].sort());
    });
  }

  it('grants to PUBLIC converge without manage_public', () => {
    const wanted = desired({ grants: [{ ...readonlySelectAll, grantees: ['PUBLIC'], selector: { kind: 'table', schema: 'public', name: 'orders' } }] });
    expect(run(wanted, actual()).changes.map((change) => change.address)).toEqual(['prod/app: grant SELECT on table public.orders to PUBLIC']);
    const converged = actual({ databases: [database({ grants: [tableGrant('PUBLIC', 'SELECT'), tableGrant('PUBLIC', 'UPDATE')] })] });
    expect(run(wanted, converged).changes).toEqual([]);
  });

  it('grants to undeclared roles converge', () => {
    const wanted = desired({ grants: [{ ...readonlySelectAll, grantees: ['legacy'], selector: { kind: 'table', schema: 'public', name: 'orders' } }] });
    const state = actual({
      roles: [actualRole('admin', { system: true }), actualRole('legacy')],
      databases: [database({ grants: [tableGrant('legacy', 'SELECT'), tableGrant('legacy', 'DELETE')] })],
    });
    expect(run(wanted, state).changes).toEqual([]);
  });

  it('built-in PUBLIC defaults converge', () => {
    const wanted = desired({
      roles: [desiredRole('owner')],
      defaultPrivileges: [{ database: 'app', forRole: 'owner', schema: null, objectType: 'functions', grantee: 'PUBLIC', privilege: 'EXECUTE', grantOption: false }],
    });
    const state = actual({ roles: [actualRole('admin', { system: true }), actualRole('owner')] });
    expect(run(wanted, state, { scope: { ignoreRoles: [], dropUnmanagedRoles: false, managePublic: true } }).changes).toEqual([]);
  });

  it('missing in_schema is an error', () => {
    const result = run(
      desired({
        roles: [desiredRole('readonly')],
        defaultPrivileges: [{ database: 'app', forRole: 'admin', schema: 'nowhere', objectType: 'tables', grantee: 'readonly', privilege: 'SELECT', grantOption: false }],
      }),
      actual({ roles: [actualRole('admin', { system: true }), actualRole('readonly')] }),
    );
    expect(result.diagnostics.map((d) => d.summary)).toEqual(['schema "nowhere" of default privileges for "admin" not found in database app']);
  });

  it('refuses to lock out the connecting role', () => {
    const result = run(
      desired({ roles: [desiredRole('admin', { login: true })], absentRoles: [] }),
      actual({ roles: [actualRole('admin', { superuser: true, login: true })] }),
    );
    expect(result.diagnostics.map((d) => d.summary)).toEqual([
      'the plan removes SUPERUSER of "admin", the role aishell connects as, which would lock aishell out',
    ]);
    const dropSelf = run(desired({ absentRoles: [{ name: 'admin', reassignOwnedTo: null }] }), actual({ roles: [actualRole('admin', { superuser: true })] }));
    expect(dropSelf.changes).toEqual([]);
    expect(dropSelf.diagnostics[0].summary).toBe('role "admin" is the role aishell connects as, and cannot drop itself');
  });

  it('missing table is an error naming it', () => {
    const result = run(
      desired({
        roles: [desiredRole('readonly')],
        grants: [{ ...readonlySelectAll, selector: { kind: 'table', schema: 'public', name: 'Orders' } }],
      }),
      actual({ roles: [actualRole('admin', { system: true }), actualRole('readonly')] }),
    );
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0].summary).toBe('table public."Orders" not found in database app');
    expect(result.diagnostics[0].fix).toContain('public.orders');
  });

  it('privilege that does not apply is an error', () => {
    const result = run(
      desired({
        roles: [desiredRole('readonly')],
        grants: [{ ...readonlySelectAll, privileges: ['EXECUTE'], selector: { kind: 'table', schema: 'public', name: 'orders' } }],
      }),
      actual({ roles: [actualRole('admin', { system: true }), actualRole('readonly')] }),
    );
    expect(result.diagnostics.map((d) => d.summary)).toEqual(['privilege EXECUTE does not apply to a table (public.orders)']);
  });

  it('undeclared unknown grantee is an error', () => {
    const result = run(desired({ grants: [{ ...readonlySelectAll, grantees: ['ghost'] }] }), actual());
    expect(result.diagnostics.map((d) => d.summary)).toContain('role "ghost" (grantee) does not exist and is not declared');
  });

  it('lists unmanaged roles once', () => {
    const result = run(desired(), actual({ roles: [actualRole('admin', { system: true }), actualRole('legacy'), actualRole('other')] }));
    expect(result.unmanagedRoles).toEqual(['legacy', 'other']);
  });

  it('is deterministic', () => {
    const input = desired({ roles: [desiredRole('readonly')], grants: [readonlySelectAll] });
    const state = actual({ roles: [actualRole('admin', { system: true }), actualRole('readonly')] });
    expect(run(input, state)).toEqual(run(input, state));
  });

  it('MAINTAIN is part of ALL on PostgreSQL 17', () => {
    const pg17 = capabilitiesFor(170000);
    const result = run(
      desired({
        roles: [desiredRole('writer')],
        grants: [{ ...readonlySelectAll, grantees: ['writer'], privileges: ['ALL'], selector: { kind: 'table', schema: 'public', name: 'orders' } }],
      }),
      actual({ roles: [actualRole('admin', { system: true }), actualRole('writer')] }),
      { privileges: pg17.privileges },
    );
    expect(result.changes.map((change) => change.address)).toContain('prod/app: grant MAINTAIN on table public.orders to writer');
  });
});
