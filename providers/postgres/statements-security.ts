import type { Change, ChangeKind } from '../../engine/diff/changes.js';
import type { Policy, RoleSetting } from '../../engine/model/types.js';
import { quoteGrantee, quoteIdent, quoteLiteral, quoteQualified } from './quote.js';
import { splitListValue } from './settings.js';

/**
 * Statements of the row-level security, role setting and server setting changes. Expressions in
 * policies are the server's own deparsed text (see normalise.ts), never text that was not parsed
 * by the server first.
 */

type SecurityKind =
  | 'alter_rls'
  | 'create_policy'
  | 'alter_policy'
  | 'drop_policy'
  | 'set_role_setting'
  | 'reset_role_setting'
  | 'set_server_setting';

export interface SecurityStatement {
  sql: string;
  database: string | null;
  /** ALTER SYSTEM, which PostgreSQL rejects inside a transaction block. */
  outsideTransaction?: boolean;
}

type Builder<K extends ChangeKind> = (change: Extract<Change, { kind: K }>) => SecurityStatement[];

/**
 * Parameters whose list elements the server quotes one by one (GUC_LIST_QUOTE), so each element
 * is sent as its own literal: `SET search_path = '$user', 'public'` is stored as `"$user", public`.
 */
const LIST_QUOTED = new Set(['search_path', 'temp_tablespaces', 'local_preload_libraries', 'session_preload_libraries', 'shared_preload_libraries']);

/** Quotes a parameter name for SET, each dotted part on its own: `"pgaudit"."log"`. */
export function settingNameSql(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

/** Quotes a parameter value for SET: one literal, or one literal per element of a list parameter. */
export function settingValueSql(name: string, value: string): string {
  if (!LIST_QUOTED.has(name.toLowerCase())) return quoteLiteral(value);
  const items = splitListValue(value);
  return items.length === 0 ? "''" : items.map(quoteLiteral).join(', ');
}

function tableSql(policy: Pick<Policy, 'schema' | 'table'>): string {
  return quoteQualified(policy.schema, policy.table);
}

function rolesSql(roles: string[]): string {
  return roles.map(quoteGrantee).join(', ');
}

function roleSettingPrefix(setting: RoleSetting): string {
  const where = setting.database === null ? '' : ` IN DATABASE ${quoteIdent(setting.database)}`;
  return `ALTER ROLE ${quoteIdent(setting.role)}${where}`;
}

/** CREATE POLICY, also used by normalisation to let the server parse a declared policy. */
export function createPolicySql(policy: Policy, name = policy.name): string {
  const parts = [
    `CREATE POLICY ${quoteIdent(name)} ON ${tableSql(policy)}`,
    `AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}`,
    `FOR ${policy.command}`,
    `TO ${rolesSql(policy.roles)}`,
  ];
  if (policy.using !== null) parts.push(`USING (${policy.using})`);
  if (policy.withCheck !== null) parts.push(`WITH CHECK (${policy.withCheck})`);
  return parts.join(' ');
}

export const SECURITY_BUILDERS: { [K in SecurityKind]: Builder<K> } = {
  alter_rls(change) {
    const table = quoteQualified(change.table.schema, change.table.name);
    const statements: SecurityStatement[] = [];
    if (change.after.enabled !== undefined) {
      statements.push({ sql: `ALTER TABLE ${table} ${change.after.enabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`, database: change.database });
    }
    if (change.after.force !== undefined) {
      statements.push({ sql: `ALTER TABLE ${table} ${change.after.force ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY`, database: change.database });
    }
    return statements;
  },

  create_policy(change) {
    return [{ sql: createPolicySql(change.policy), database: change.database }];
  },

  alter_policy(change) {
    const parts = [`ALTER POLICY ${quoteIdent(change.policy.name)} ON ${tableSql(change.policy)}`];
    if (change.after.roles !== undefined) parts.push(`TO ${rolesSql(change.after.roles)}`);
    // diff plans a removed expression as drop and create, so an expression here is never null.
    if (change.after.using) parts.push(`USING (${change.after.using})`);
    if (change.after.withCheck) parts.push(`WITH CHECK (${change.after.withCheck})`);
    return [{ sql: parts.join(' '), database: change.database }];
  },

  drop_policy(change) {
    return [{ sql: `DROP POLICY ${quoteIdent(change.policy.name)} ON ${tableSql(change.policy)}`, database: change.database }];
  },

  set_role_setting(change) {
    const { setting } = change;
    return [{ sql: `${roleSettingPrefix(setting)} SET ${settingNameSql(setting.name)} = ${settingValueSql(setting.name, setting.value)}`, database: null }];
  },

  reset_role_setting(change) {
    return [{ sql: `${roleSettingPrefix(change.setting)} RESET ${settingNameSql(change.setting.name)}`, database: null }];
  },

  set_server_setting(change) {
    const { setting } = change;
    return [{ sql: `ALTER SYSTEM SET ${settingNameSql(setting.name)} = ${settingValueSql(setting.name, setting.value)}`, database: null, outsideTransaction: true }];
  },
};
