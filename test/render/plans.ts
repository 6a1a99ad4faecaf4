import { CHANGE_SYMBOL, type Change } from '../../engine/diff/changes.js';
import {
  defaultPrivilegeAddress,
  grantAddress,
  membershipAddress,
  policyAddress,
  rlsAddress,
  roleAddress,
  roleSettingAddress,
  serverSettingAddress,
} from '../../engine/diff/addresses.js';
import { ROLE_ATTRIBUTE_DEFAULTS, type Grant, type Policy, type RoleSetting, type ServerSetting } from '../../engine/model/types.js';
import { orderChanges } from '../../engine/plan/order.js';
import { PLAN_FORMAT_VERSION, summarise, type Plan, type PlannedChange, type TargetPlan } from '../../engine/plan/types.js';
import { statementsFor } from '../../providers/postgres/statements.js';

/**
 * Hand-built plans for the renderer tests. Addresses come from the engine's address functions and
 * statements from the PostgreSQL statement builder in its display form, as a real plan has them.
 */

export const QUIRKY_ROLE = 'we|rd `role` *x* <b>';
export const SPACED_ROLE = "o'brien smith";

const ACTIONS = { '+': 'create', '~': 'update', '-': 'delete' } as const;

export function planned(change: Change): PlannedChange {
  const symbol = CHANGE_SYMBOL[change.kind];
  return {
    address: change.address,
    action: ACTIONS[symbol],
    symbol,
    destructive: change.destructive,
    change,
    statements: statementsFor(change, null).map(({ database, display, outsideTransaction }) =>
      outsideTransaction ? { database, sql: display, outsideTransaction } : { database, sql: display },
    ),
  };
}

function ordersGrant(grantee: string, privilege: string): Grant {
  return {
    database: 'app',
    grantee,
    privilege,
    object: { kind: 'table', schema: 'public', name: 'orders' },
    grantOption: false,
  };
}

/** Builds one change of every kind on target `prod`, with quirky role names. */
export function everyKindOfChange(): Change[] {
  const revoked = { ...ordersGrant(QUIRKY_ROLE, 'DELETE'), grantor: 'owner_role' };
  const granted = { ...ordersGrant('readonly', 'SELECT'), grantOption: true };
  const defaultEntry = {
    database: 'app',
    forRole: 'app_owner',
    schema: 'public',
    objectType: 'tables' as const,
    grantee: 'readonly',
    privilege: 'SELECT',
    grantOption: false,
  };
  const membership = { role: 'readers', member: SPACED_ROLE, admin: true, inherit: true, set: null };

  return [
    {
      kind: 'create_role',
      address: roleAddress('prod', 'create', SPACED_ROLE),
      database: null,
      destructive: false,
      role: { ...ROLE_ATTRIBUTE_DEFAULTS, name: SPACED_ROLE, login: true, connectionLimit: 5, password: { kind: 'env', name: 'APP_PW' } },
      password: { kind: 'env', name: 'APP_PW' },
    },
    {
      kind: 'alter_role',
      address: roleAddress('prod', 'alter', 'readonly'),
      database: null,
      destructive: false,
      role: 'readonly',
      before: { login: false, connectionLimit: -1, validUntil: null, comment: null },
      after: { login: true, connectionLimit: 10, validUntil: '2027-06-30T00:00:00Z', comment: 'read `only` | "reports"' },
    },
    {
      kind: 'set_password',
      address: roleAddress('prod', 'set password of', 'app_user'),
      database: null,
      destructive: false,
      role: 'app_user',
      password: { kind: 'env', name: 'APP_PW' },
      reason: 'differs',
    },
    {
      kind: 'set_password',
      address: roleAddress('prod', 'set password of', 'batch'),
      database: null,
      destructive: false,
      role: 'batch',
      password: { kind: 'vault', name: 'batch-password' },
      reason: 'missing',
    },
    {
      kind: 'grant_membership',
      address: membershipAddress('prod', membership, 'grant'),
      database: null,
      destructive: false,
      membership,
    },
    {
      kind: 'revoke_membership',
      address: membershipAddress('prod', { ...membership, member: QUIRKY_ROLE }, 'revoke'),
      database: null,
      destructive: true,
      membership: { ...membership, member: QUIRKY_ROLE, admin: false },
      adminOptionOnly: false,
    },
    {
      kind: 'revoke_default_privilege',
      address: defaultPrivilegeAddress('prod', { ...defaultEntry, grantee: QUIRKY_ROLE }, 'revoke'),
      database: 'app',
      destructive: true,
      defaultPrivilege: { ...defaultEntry, grantee: QUIRKY_ROLE },
      grantOptionOnly: false,
    },
    {
      kind: 'revoke',
      address: grantAddress('prod', revoked, 'revoke'),
      database: 'app',
      destructive: true,
      grant: revoked,
      grantOptionOnly: false,
    },
    {
      kind: 'grant',
      address: grantAddress('prod', granted, 'grant'),
      database: 'app',
      destructive: false,
      grant: granted,
      source: { file: 'security.yaml', path: ['grants', 0] },
    },
    {
      kind: 'grant_default_privilege',
      address: defaultPrivilegeAddress('prod', defaultEntry, 'grant'),
      database: 'app',
      destructive: false,
      defaultPrivilege: defaultEntry,
    },
    {
      kind: 'drop_role',
      address: roleAddress('prod', 'drop', 'old_app'),
      database: null,
      destructive: true,
      role: 'old_app',
      reassignOwnedTo: null,
      databases: ['app', 'reporting'],
    },
  ];
}

/** Builds one change of each row-level security, role setting and server setting kind on `prod`. */
export function securityChanges(): Change[] {
  const policy: Policy = {
    database: 'app',
    schema: 'public',
    table: 'orders',
    name: 'own_orders',
    command: 'SELECT',
    roles: ['sales_rep'],
    permissive: true,
    using: "(user_id = (current_setting('app.user_id'::text))::integer)",
    withCheck: null,
  };
  const shared: Policy = { ...policy, name: 'shared_orders', command: 'ALL', roles: ['manager', 'sales_rep'], using: '(sales_rep_id = CURRENT_USER)' };
  const legacy: Policy = { ...policy, name: 'legacy', roles: ['PUBLIC'], using: 'true' };
  const timeout: RoleSetting = { role: 'app_user', database: null, name: 'statement_timeout', value: '30s' };
  const workMem: RoleSetting = { role: 'app_user', database: 'app', name: 'work_mem', value: '64MB' };
  const auditLog: ServerSetting = { name: 'pgaudit.log', value: 'role, ddl', list: false, needsRestart: false };
  const preload: ServerSetting = { name: 'shared_preload_libraries', value: 'pg_stat_statements, pgaudit', list: true, needsRestart: true };

  return [
    {
      kind: 'alter_rls',
      address: rlsAddress('prod', 'app', 'public', 'orders'),
      database: 'app',
      destructive: false,
      table: { schema: 'public', name: 'orders' },
      before: { enabled: false, force: false },
      after: { enabled: true, force: true },
    },
    { kind: 'create_policy', address: policyAddress('prod', 'create', policy), database: 'app', destructive: false, policy },
    {
      kind: 'alter_policy',
      address: policyAddress('prod', 'alter', shared),
      database: 'app',
      destructive: false,
      policy: shared,
      before: { roles: ['sales_rep'] },
      after: { roles: ['manager', 'sales_rep'] },
    },
    { kind: 'drop_policy', address: policyAddress('prod', 'drop', legacy), database: 'app', destructive: true, policy: legacy },
    { kind: 'set_role_setting', address: roleSettingAddress('prod', 'set', timeout), database: null, destructive: false, setting: timeout, before: null },
    { kind: 'reset_role_setting', address: roleSettingAddress('prod', 'reset', workMem), database: null, destructive: false, setting: workMem },
    { kind: 'set_server_setting', address: serverSettingAddress('prod', auditLog), database: null, destructive: false, setting: auditLog, before: 'none' },
    { kind: 'set_server_setting', address: serverSettingAddress('prod', preload), database: null, destructive: false, setting: preload, before: 'pg_stat_statements' },
  ];
}

export function target(name: string, changes: Change[], extra: Partial<TargetPlan> = {}): TargetPlan {
  return {
    name,
    engine: 'postgres',
    url: `postgres://admin:***@db.internal:5432/app`,
    databases: ['app', 'reporting'],
    serverVersion: 150004,
    fingerprint: `sha256:${'ab'.repeat(32)}`,
    changes: orderChanges(changes).map(planned),
    diagnostics: [],
    unmanagedRoles: [],
    ...extra,
  };
}

export function plan(targets: TargetPlan[]): Plan {
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    aishellVersion: '0.1.0',
    createdAt: '2026-12-04T20:00:00.000Z',
    configPath: 'security.yaml',
    targets,
    credentials: [],
    summary: summarise(targets),
  };
}

/** Builds a plan with every change kind on `prod`, diagnostics, and unmanaged roles. */
export function fullPlan(): Plan {
  return plan([
    target('prod', everyKindOfChange(), {
      diagnostics: [
        { severity: 'warning', summary: 'role "legacy" is declared but matches ignore_roles, so it is not managed', fix: 'remove it from ignore_roles' },
        {
          severity: 'error',
          summary: 'table public.missing does not exist in database app',
          fix: 'create the table or remove the grant',
          position: { file: 'security.yaml', line: 12, column: 5 },
        },
        { severity: 'info', summary: 'the connecting role cannot read pg_authid' },
      ],
      unmanagedRoles: ['alice', 'bob', 'Carol Admin'],
    }),
  ]);
}
