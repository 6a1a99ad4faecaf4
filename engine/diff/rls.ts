import { policyAddress, rlsAddress } from './addresses.js';
import type { AlterPolicy, AlterRowLevelSecurity, Change } from './changes.js';
import type { SourcedDiagnostic } from '../model/desired.js';
import { displayName, displayQualified } from '../model/names.js';
import type { DatabaseState, Policy, RlsTable } from '../model/types.js';

const tableKey = (schema: string, table: string) => `${schema}\0${table}`;

/**
 * Compares the row-level security of the declared tables of one database. Only declared tables
 * are managed: their switches converge, and policies on them that the file does not declare are
 * dropped. Declared expressions must already be in the server's deparsed form.
 */
export function diffRowLevelSecurity(
  target: string,
  tables: RlsTable[],
  policies: Policy[],
  database: DatabaseState,
): { changes: Change[]; diagnostics: SourcedDiagnostic[] } {
  const changes: Change[] = [];
  const diagnostics: SourcedDiagnostic[] = [];
  const existing = new Map(database.rlsTables.map((table) => [tableKey(table.schema, table.table), table]));
  const managed = new Set<string>();

  for (const table of tables) {
    const current = existing.get(tableKey(table.schema, table.table));
    if (!current) {
      diagnostics.push({
        severity: 'error',
        summary: `table ${displayQualified(table.schema, table.table)} does not exist in database ${displayName(database.name)}, so its row-level security cannot be managed`,
        fix: 'create the table first, or correct the name (schema.table) or the database of the entry',
        source: table.source,
      });
      continue;
    }
    managed.add(tableKey(table.schema, table.table));
    const alter = diffSwitches(target, table, current);
    if (alter) changes.push(alter);
  }

  const declared = new Map<string, Policy>();
  for (const policy of policies) {
    if (!managed.has(tableKey(policy.schema, policy.table))) continue;
    declared.set(policyKey(policy), policy);
  }
  const held = new Map<string, Policy>();
  for (const policy of database.policies) {
    if (managed.has(tableKey(policy.schema, policy.table))) held.set(policyKey(policy), policy);
  }

  for (const [key, policy] of declared) {
    const current = held.get(key);
    if (!current) {
      changes.push(createPolicy(target, policy));
    } else if (needsRecreate(policy, current)) {
      changes.push(dropPolicy(target, current, policy), createPolicy(target, policy));
    } else {
      const alter = diffPolicy(target, policy, current);
      if (alter) changes.push(alter);
    }
  }
  for (const [key, policy] of held) {
    if (!declared.has(key)) changes.push(dropPolicy(target, policy));
  }
  return { changes, diagnostics };
}

function policyKey(policy: Policy): string {
  return [policy.schema, policy.table, policy.name].join('\0');
}

function diffSwitches(target: string, desired: RlsTable, current: RlsTable): AlterRowLevelSecurity | null {
  const before: AlterRowLevelSecurity['before'] = {};
  const after: AlterRowLevelSecurity['after'] = {};
  for (const field of ['enabled', 'force'] as const) {
    if (desired[field] !== current[field]) {
      before[field] = current[field];
      after[field] = desired[field];
    }
  }
  if (Object.keys(after).length === 0) return null;
  return {
    kind: 'alter_rls',
    address: rlsAddress(target, desired.database, desired.schema, desired.table),
    database: desired.database,
    destructive: false,
    table: { schema: desired.schema, name: desired.table },
    before,
    after,
    source: desired.source,
  };
}

/**
 * ALTER POLICY can change roles and replace an expression, but not the command, not PERMISSIVE
 * or RESTRICTIVE, and it cannot remove an expression; those need DROP and CREATE.
 */
function needsRecreate(desired: Policy, current: Policy): boolean {
  return (
    desired.command !== current.command ||
    desired.permissive !== current.permissive ||
    (desired.using === null && current.using !== null) ||
    (desired.withCheck === null && current.withCheck !== null)
  );
}

function diffPolicy(target: string, desired: Policy, current: Policy): AlterPolicy | null {
  const before: AlterPolicy['before'] = {};
  const after: AlterPolicy['after'] = {};
  if (desired.roles.join('\0') !== current.roles.join('\0')) {
    before.roles = current.roles;
    after.roles = desired.roles;
  }
  if (desired.using !== current.using) {
    before.using = current.using;
    after.using = desired.using;
  }
  if (desired.withCheck !== current.withCheck) {
    before.withCheck = current.withCheck;
    after.withCheck = desired.withCheck;
  }
  if (Object.keys(after).length === 0) return null;
  return {
    kind: 'alter_policy',
    address: policyAddress(target, 'alter', desired),
    database: desired.database,
    destructive: false,
    policy: desired,
    before,
    after,
    source: desired.source,
  };
}

function createPolicy(target: string, policy: Policy): Change {
  return {
    kind: 'create_policy',
    address: policyAddress(target, 'create', policy),
    database: policy.database,
    destructive: false,
    policy,
    source: policy.source,
  };
}

/** `replacement` is set when the policy is dropped only to be created again with other options. */
function dropPolicy(target: string, policy: Policy, replacement?: Policy): Change {
  return {
    kind: 'drop_policy',
    address: policyAddress(target, 'drop', policy),
    database: policy.database,
    destructive: true,
    policy,
    source: replacement?.source,
  };
}
