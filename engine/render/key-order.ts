import type { SecretRef, SourcePosition, SourceRef } from '../config/types.js';
import type { PlannedCredential } from '../credentials/types.js';
import type { Diagnostic } from '../diagnostics.js';
import type { Change, ChangeKind } from '../diff/changes.js';
import type {
  DefaultPrivilege,
  DesiredRole,
  Grant,
  Membership,
  ObjectRef,
  Policy,
  RlsTable,
  RoleAttributes,
  RoleSetting,
  ServerSetting,
} from '../model/types.js';
import type { Plan, PlannedChange, PlanSummary, TargetPlan } from '../plan/types.js';
import type { PlannedStatement } from '../provider.js';

/**
 * The key order of every object in the JSON plan, written in the order the plan types declare
 * their fields. Each list is a `Record` over all keys of its type, so adding a field to a type
 * does not compile until the field has its place here.
 */

/** The keys of an object and, for keys whose values are objects or arrays of objects, their shapes. */
interface Shape {
  keys: readonly string[];
  children?: Record<string, Shape | ((value: unknown) => Shape)>;
}

type AllKeys<T> = Record<keyof Required<T>, true>;

function keysOf<T>(keys: AllKeys<T>): readonly string[] {
  return Object.keys(keys);
}

const sourcePosition: Shape = { keys: keysOf<SourcePosition>({ file: true, line: true, column: true }) };
const sourceRef: Shape = { keys: keysOf<SourceRef>({ file: true, path: true }) };
const secretRef: Shape = { keys: keysOf<SecretRef>({ kind: true, name: true }) };

const roleAttributes: Shape = {
  keys: keysOf<RoleAttributes>({
    login: true,
    superuser: true,
    createdb: true,
    createrole: true,
    replication: true,
    bypassrls: true,
    inherit: true,
    connectionLimit: true,
    validUntil: true,
    comment: true,
  }),
};

const desiredRole: Shape = {
  keys: keysOf<DesiredRole>({
    name: true,
    login: true,
    superuser: true,
    createdb: true,
    createrole: true,
    replication: true,
    bypassrls: true,
    inherit: true,
    connectionLimit: true,
    validUntil: true,
    comment: true,
    password: true,
    passwordExpiryDays: true,
    source: true,
  }),
  children: { password: secretRef, source: sourceRef },
};

const objectRef: Shape = { keys: keysOf<ObjectRef>({ kind: true, schema: true, name: true, column: true, routine: true }) };

const grant: Shape = {
  keys: keysOf<Grant>({
    database: true,
    grantee: true,
    privilege: true,
    object: true,
    grantOption: true,
    grantor: true,
    source: true,
  }),
  children: { object: objectRef, source: sourceRef },
};

// A declared membership keeps the source of the role that declares it.
const membership: Shape = {
  keys: keysOf<Membership & { source?: SourceRef }>({ role: true, member: true, admin: true, inherit: true, set: true, grantor: true, source: true }),
  children: { source: sourceRef },
};

const defaultPrivilege: Shape = {
  keys: keysOf<DefaultPrivilege>({
    database: true,
    forRole: true,
    schema: true,
    objectType: true,
    grantee: true,
    privilege: true,
    grantOption: true,
    source: true,
  }),
  children: { source: sourceRef },
};

const policy: Shape = {
  keys: keysOf<Policy>({
    database: true,
    schema: true,
    table: true,
    name: true,
    command: true,
    roles: true,
    permissive: true,
    using: true,
    withCheck: true,
    source: true,
  }),
  children: { source: sourceRef },
};

const policyFields: Shape = { keys: ['roles', 'using', 'withCheck'] satisfies (keyof Policy)[] };
const rlsSwitches: Shape = { keys: ['enabled', 'force'] satisfies (keyof RlsTable)[] };

const roleSetting: Shape = {
  keys: keysOf<RoleSetting>({ role: true, database: true, name: true, value: true, source: true }),
  children: { source: sourceRef },
};

const serverSetting: Shape = {
  keys: keysOf<ServerSetting>({ name: true, value: true, list: true, needsRestart: true, source: true }),
  children: { source: sourceRef },
};

const CHANGE_BASE = ['kind', 'address', 'database', 'destructive'] as const;

type OwnKeys<K extends ChangeKind> = AllKeys<Omit<Extract<Change, { kind: K }>, (typeof CHANGE_BASE)[number] | 'source'>>;

/** Builds the shape of one change kind: the shared keys, the kind's own keys, then `source`. */
function changeShape<K extends ChangeKind>(keys: OwnKeys<K>, children: Record<string, Shape>): Shape {
  return { keys: [...CHANGE_BASE, ...Object.keys(keys), 'source'], children: { ...children, source: sourceRef } };
}

const CHANGE_SHAPES: Record<ChangeKind, Shape> = {
  create_role: changeShape<'create_role'>({ role: true, password: true }, { role: desiredRole, password: secretRef }),
  alter_role: changeShape<'alter_role'>({ role: true, before: true, after: true }, { before: roleAttributes, after: roleAttributes }),
  set_password: changeShape<'set_password'>({ role: true, password: true, reason: true, validUntil: true }, { password: secretRef }),
  drop_role: changeShape<'drop_role'>({ role: true, reassignOwnedTo: true, databases: true }, {}),
  grant: changeShape<'grant'>({ grant: true }, { grant }),
  revoke: changeShape<'revoke'>({ grant: true, grantOptionOnly: true }, { grant }),
  grant_membership: changeShape<'grant_membership'>({ membership: true }, { membership }),
  revoke_membership: changeShape<'revoke_membership'>({ membership: true, adminOptionOnly: true }, { membership }),
  grant_default_privilege: changeShape<'grant_default_privilege'>({ defaultPrivilege: true }, { defaultPrivilege }),
  revoke_default_privilege: changeShape<'revoke_default_privilege'>(
    { defaultPrivilege: true, grantOptionOnly: true },
    { defaultPrivilege },
  ),
  alter_rls: changeShape<'alter_rls'>({ table: true, before: true, after: true }, {
    table: { keys: ['schema', 'name'] },
    before: rlsSwitches,
    after: rlsSwitches,
  }),
  create_policy: changeShape<'create_policy'>({ policy: true }, { policy }),
  alter_policy: changeShape<'alter_policy'>({ policy: true, before: true, after: true }, { policy, before: policyFields, after: policyFields }),
  drop_policy: changeShape<'drop_policy'>({ policy: true }, { policy }),
  set_role_setting: changeShape<'set_role_setting'>({ setting: true, before: true }, { setting: roleSetting }),
  reset_role_setting: changeShape<'reset_role_setting'>({ setting: true }, { setting: roleSetting }),
  set_server_setting: changeShape<'set_server_setting'>({ setting: true, before: true }, { setting: serverSetting }),
};

function changeShapeOf(value: unknown): Shape {
  const kind = (value as Change).kind;
  return CHANGE_SHAPES[kind] ?? { keys: CHANGE_BASE };
}

const plannedChange: Shape = {
  keys: keysOf<PlannedChange>({ address: true, action: true, symbol: true, destructive: true, change: true, statements: true }),
  children: {
    change: changeShapeOf,
    statements: { keys: keysOf<PlannedStatement>({ database: true, sql: true, outsideTransaction: true }) },
  },
};

const diagnostic: Shape = {
  keys: keysOf<Diagnostic>({ severity: true, summary: true, fix: true, position: true }),
  children: { position: sourcePosition },
};

const targetPlan: Shape = {
  keys: keysOf<TargetPlan>({
    name: true,
    engine: true,
    url: true,
    databases: true,
    serverVersion: true,
    fingerprint: true,
    changes: true,
    diagnostics: true,
    unmanagedRoles: true,
  }),
  children: { changes: plannedChange, diagnostics: diagnostic },
};

const plan: Shape = {
  keys: keysOf<Plan>({
    formatVersion: true,
    aishellVersion: true,
    createdAt: true,
    configPath: true,
    targets: true,
    credentials: true,
    summary: true,
  }),
  children: {
    targets: targetPlan,
    credentials: { keys: keysOf<PlannedCredential>({ name: true, action: true, reason: true, roles: true }) },
    summary: { keys: keysOf<PlanSummary>({ create: true, update: true, delete: true }) },
  },
};

/**
 * Copies `value` with the keys of each object in `shape` order. Keys the shape does not list are
 * kept after the listed ones, so nothing in the plan is lost. Keys whose value is `undefined` are
 * dropped, as JSON.stringify would drop them.
 */
function orderKeys(value: unknown, shape: Shape): unknown {
  if (Array.isArray(value)) return value.map((item) => orderKeys(item, shape));
  if (value === null || typeof value !== 'object') return value;

  const source = value as Record<string, unknown>;
  const listed = new Set(shape.keys);
  const keys = [...shape.keys, ...Object.keys(source).filter((key) => !listed.has(key))];

  const result: Record<string, unknown> = {};
  for (const key of keys) {
    if (!Object.hasOwn(source, key) || source[key] === undefined) continue;
    const child = shape.children?.[key];
    const childShape = typeof child === 'function' ? child(source[key]) : child;
    result[key] = childShape ? orderKeys(source[key], childShape) : source[key];
  }
  return result;
}

/** Copies a plan with every object's keys in the order its type declares them. */
export function orderPlanKeys(value: Plan): Plan {
  return orderKeys(value, plan) as Plan;
}
