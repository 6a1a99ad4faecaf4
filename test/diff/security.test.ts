import { describe, expect, it } from 'vitest';
import type { Change } from '../../engine/diff/changes.js';
import { diff, type DiffInput } from '../../engine/diff/diff.js';
import type { PasswordStatus } from '../../engine/diff/roles.js';
import { canonicalPolicyRoles } from '../../engine/model/desired-rls.js';
import {
  ROLE_ATTRIBUTE_DEFAULTS,
  type ActualRole,
  type ActualServerSetting,
  type ActualState,
  type DatabaseState,
  type DesiredRole,
  type DesiredState,
  type Policy,
  type RlsTable,
  type RoleSetting,
} from '../../engine/model/types.js';
import { capabilitiesFor } from '../../providers/postgres/capabilities.js';
import { checkExpressionText } from '../../providers/postgres/expression.js';

const pg15 = capabilitiesFor(150000);

const actualRole = (name: string, extra: Partial<ActualRole> = {}): ActualRole => ({
  ...ROLE_ATTRIBUTE_DEFAULTS,
  name,
  password: { kind: 'none' },
  system: false,
  ...extra,
});
const desiredRole = (name: string, extra: Partial<DesiredRole> = {}): DesiredRole => ({ ...ROLE_ATTRIBUTE_DEFAULTS, name, ...extra });

const orders: RlsTable = { database: 'app', schema: 'public', table: 'orders', enabled: true, force: false };
const policy = (name: string, extra: Partial<Policy> = {}): Policy => ({
  database: 'app',
  schema: 'public',
  table: 'orders',
  name,
  command: 'SELECT',
  roles: ['rep'],
  permissive: true,
  using: '(rep = CURRENT_USER)',
  withCheck: null,
  ...extra,
});
const setting = (role: string, name: string, value: string, database: string | null = null): RoleSetting => ({ role, database, name, value });
const serverSetting = (name: string, running: string | null, configured: string | null = null): ActualServerSetting => ({
  name,
  running,
  configured,
  pendingRestart: false,
});

function database(extra: Partial<DatabaseState> = {}): DatabaseState {
  return {
    name: 'app',
    owner: 'admin',
    grants: [],
    defaultPrivileges: [],
    objects: [],
    rlsTables: [
      { ...orders, enabled: false },
      { database: 'app', schema: 'public', table: 'regions', enabled: false, force: false },
    ],
    policies: [],
    extensions: [],
    ...extra,
  };
}

function actual(extra: Partial<ActualState> = {}): ActualState {
  return {
    serverVersion: 150000,
    currentUser: 'admin',
    roles: [actualRole('admin', { superuser: true, system: true }), actualRole('rep'), actualRole('manager')],
    memberships: [],
    roleSettings: [],
    server: { embedded: false, superuser: true, settings: [], availableExtensions: [], hbaRules: [] },
    databases: [database()],
    ...extra,
  };
}

function desired(extra: Partial<DesiredState> = {}): DesiredState {
  return {
    roles: [desiredRole('rep'), desiredRole('manager')],
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

/** Asserts the kind of a change and returns it narrowed to that kind. */
function ofKind<K extends Change['kind']>(change: Change | undefined, kind: K): Extract<Change, { kind: K }> {
  expect(change?.kind).toBe(kind);
  return change as Extract<Change, { kind: K }>;
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
    now: new Date('2026-12-04T15:30:00Z'),
    ...options,
  });
}

interface Case {
  name: string;
  desired: DesiredState;
  actual: ActualState;
  addresses: string[];
}

const withPolicies = (policies: Policy[], enabled = true) =>
  actual({ databases: [database({ rlsTables: [{ ...orders, enabled }], policies })] });

const cases: Case[] = [
  {
    name: 'enables row-level security',
    desired: desired({ rlsTables: [orders] }),
    actual: actual(),
    addresses: ['prod/app: alter row level security of table public.orders'],
  },
  {
    name: 'converged policy is no change',
    desired: desired({ rlsTables: [orders], policies: [policy('own')] }),
    actual: withPolicies([policy('own')]),
    addresses: [],
  },
  {
    name: 'creates a missing policy',
    desired: desired({ rlsTables: [orders], policies: [policy('own')] }),
    actual: withPolicies([]),
    addresses: ['prod/app: create policy own on table public.orders'],
  },
  {
    name: 'drops an undeclared policy of a managed table',
    desired: desired({ rlsTables: [orders] }),
    actual: withPolicies([policy('by_hand')]),
    addresses: ['prod/app: drop policy by_hand on table public.orders'],
  },
  {
    name: 'leaves policies of undeclared tables alone',
    desired: desired(),
    actual: withPolicies([policy('by_hand')]),
    addresses: [],
  },
  {
    name: 'alters only the roles',
    desired: desired({ rlsTables: [orders], policies: [policy('own', { roles: ['manager', 'rep'] })] }),
    actual: withPolicies([policy('own')]),
    addresses: ['prod/app: alter policy own on table public.orders'],
  },
  {
    name: 'alters a changed WITH CHECK',
    desired: desired({ rlsTables: [orders], policies: [policy('own', { command: 'ALL', withCheck: '(rep = CURRENT_USER)' })] }),
    actual: withPolicies([policy('own', { command: 'ALL', withCheck: 'true' })]),
    addresses: ['prod/app: alter policy own on table public.orders'],
  },
  {
    name: 'recreates a policy whose command changes',
    desired: desired({ rlsTables: [orders], policies: [policy('own', { command: 'UPDATE' })] }),
    actual: withPolicies([policy('own')]),
    addresses: ['prod/app: create policy own on table public.orders', 'prod/app: drop policy own on table public.orders'],
  },
  {
    name: 'recreates a policy that becomes restrictive',
    desired: desired({ rlsTables: [orders], policies: [policy('own', { permissive: false })] }),
    actual: withPolicies([policy('own')]),
    addresses: ['prod/app: create policy own on table public.orders', 'prod/app: drop policy own on table public.orders'],
  },
  {
    name: 'recreates a policy that loses an expression',
    desired: desired({ rlsTables: [orders], policies: [policy('own', { command: 'ALL', withCheck: null })] }),
    actual: withPolicies([policy('own', { command: 'ALL', withCheck: 'true' })]),
    addresses: ['prod/app: create policy own on table public.orders', 'prod/app: drop policy own on table public.orders'],
  },
  {
    name: 'sets a new role setting',
    desired: desired({ roleSettings: [setting('rep', 'statement_timeout', '30s')] }),
    actual: actual(),
    addresses: ['prod: set statement_timeout of role rep'],
  },
  {
    name: 'converged role setting is no change',
    desired: desired({ roleSettings: [setting('rep', 'work_mem', '64MB', 'app')] }),
    actual: actual({ roleSettings: [setting('rep', 'work_mem', '64MB', 'app')] }),
    addresses: [],
  },
  {
    name: 'resets an undeclared setting of a managed role',
    desired: desired(),
    actual: actual({ roleSettings: [setting('rep', 'work_mem', '64MB', 'app'), setting('rep', 'work_mem', '1MB', 'other')] }),
    addresses: ['prod: reset work_mem of role rep in database app'],
  },
  {
    name: 'keeps other settings of an undeclared role',
    desired: desired({ roles: [], roleSettings: [setting('auditor', 'pgaudit.log', 'all')] }),
    actual: actual({
      roles: [actualRole('auditor')],
      roleSettings: [setting('auditor', 'pgaudit.log', 'none'), setting('auditor', 'work_mem', '1MB')],
    }),
    addresses: ['prod: set pgaudit.log of role auditor'],
  },
  {
    name: 'sets a server setting whose configured value differs',
    desired: desired({ serverSettings: [{ name: 'pgaudit.log', value: 'ddl', list: false, needsRestart: false }] }),
    actual: actual({ server: { embedded: false, superuser: true, settings: [serverSetting('pgaudit.log', 'ddl', 'all')], availableExtensions: [], hbaRules: [] } }),
    addresses: ["prod: set pgaudit.log = 'ddl' (server, needs reload)"],
  },
  {
    name: 'configured value waiting for a restart is no change',
    desired: desired({ serverSettings: [{ name: 'shared_preload_libraries', value: 'pgaudit', list: true, needsRestart: true }] }),
    actual: actual({
      server: { embedded: false, superuser: true, settings: [serverSetting('shared_preload_libraries', '', 'pgaudit')], availableExtensions: [], hbaRules: [] },
    }),
    addresses: [],
  },
];

describe('diff of row-level security and settings', () => {
  it.each(cases)('$name', ({ desired: d, actual: a, addresses }) => {
    const result = run(d, a);
    expect(result.diagnostics.filter((each) => each.severity === 'error')).toEqual([]);
    expect(result.changes.map((change) => change.address).sort()).toEqual([...addresses].sort());
  });

  it('reports a table that does not exist', () => {
    const result = run(desired({ rlsTables: [{ ...orders, table: 'missing' }] }), actual());
    expect(result.changes).toEqual([]);
    expect(result.diagnostics.map((each) => each.summary)).toEqual([
      'table public.missing does not exist in database app, so its row-level security cannot be managed',
    ]);
  });

  it('reports a setting in an unmanaged database', () => {
    const result = run(desired({ roleSettings: [setting('rep', 'work_mem', '1MB', 'reporting')] }), actual());
    expect(result.changes).toEqual([]);
    expect(result.diagnostics[0].summary).toContain('names database "reporting", which target "prod" does not manage');
  });

  it('reports an undeclared policy role', () => {
    const result = run(desired({ rlsTables: [orders], policies: [policy('own', { roles: ['ghost'] })] }), withPolicies([]));
    expect(result.diagnostics.map((each) => each.summary)).toContain('role "ghost" (role of policy own) does not exist and is not declared');
  });

  it('keeps only the differing policy fields', () => {
    const result = run(desired({ rlsTables: [orders], policies: [policy('own', { roles: ['manager', 'rep'] })] }), withPolicies([policy('own')]));
    const change = ofKind(result.changes[0], 'alter_policy');
    expect(change.after).toEqual({ roles: ['manager', 'rep'] });
    expect(change.before).toEqual({ roles: ['rep'] });
  });
});

describe('password expiry from the policy', () => {
  const password = { kind: 'env' as const, name: 'PW' };

  it('gives a created role an expiry', () => {
    const result = run(desired({ roles: [desiredRole('app', { login: true, password, passwordExpiryDays: 90 })] }), actual());
    expect(ofKind(result.changes[0], 'create_role').role.validUntil).toBe('2027-03-04T00:00:00Z');
  });

  it('sets the expiry with a new password', () => {
    const result = run(
      desired({ roles: [desiredRole('app', { login: true, password, passwordExpiryDays: 30 })] }),
      actual({ roles: [actualRole('admin', { system: true }), actualRole('app', { login: true, validUntil: '2026-12-20T00:00:00Z' })] }),
      { passwords: new Map<string, PasswordStatus>([['app', 'differs']]) },
    );
    expect(result.changes.map((change) => change.kind)).toEqual(['set_password']);
    expect(ofKind(result.changes[0], 'set_password').validUntil).toBe('2027-01-03T00:00:00Z');
  });

  it('keeps the stored expiry between rotations', () => {
    const result = run(
      desired({ roles: [desiredRole('app', { login: true, password, passwordExpiryDays: 30 })] }),
      actual({ roles: [actualRole('admin', { system: true }), actualRole('app', { login: true, validUntil: '2026-12-20T00:00:00Z' })] }),
      { passwords: new Map<string, PasswordStatus>([['app', 'match']]) },
    );
    expect(result.changes).toEqual([]);
  });
});

describe('policy roles', () => {
  it.each([
    [[], ['PUBLIC']],
    [['public'], ['PUBLIC']],
    [['b', 'a', 'b'], ['a', 'b']],
  ])('%j is %j', (roles, canonical) => {
    expect(canonicalPolicyRoles(roles)).toEqual(canonical);
  });
});

describe('policy expression check', () => {
  it.each([
    ["user_id = current_setting('app.user_id')::int", null],
    ["note = ')' AND (a > 1)", null],
    ['"odd)name" = 1', null],
    ['body = $x$ ); $x$', null],
    ["tag = E'\\'' ", null],
    ['a = 1 -- trailing ) comment\n', null],
    ['a = 1 /* ) /* nested */ ; */', null],
    ['true) WITH CHECK (false', 'the expression has a ")" without a matching "("'],
    ['true); DROP TABLE t; --', 'the expression has a ")" without a matching "("'],
    ['a = 1; SELECT 1', 'the expression contains ";"; a policy expression is one SQL expression, not statements'],
    ["a = 'open", 'the expression has an unterminated string literal'],
    ['(a = 1', 'the expression has a "(" without a matching ")"'],
    ['a = 1 -- comment', 'the expression ends inside a -- comment'],
    ['   ', 'the expression is empty'],
  ])('%j', (text, problem) => {
    expect(checkExpressionText(text)).toBe(problem);
  });
});
