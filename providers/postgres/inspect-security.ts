import type {
  ActualServerSetting,
  HbaRule,
  Policy,
  PolicyCommand,
  RlsTable,
  RoleSetting,
  ServerState,
} from '../../engine/model/types.js';
import * as catalog from './catalog.js';
import { canonicalSetting } from './settings.js';

/** Raw rows of the row-level security, settings and pg_hba queries, typed apart from the model. */
interface RlsTableRow {
  schema: string;
  table: string;
  enabled: boolean;
  force: boolean;
}

interface PolicyRow {
  schema: string;
  table: string;
  name: string;
  command: string;
  permissive: boolean;
  roles: string[];
  using: string | null;
  with_check: string | null;
}

interface RoleSettingRow {
  role: string;
  database: string | null;
  entry: string;
}

interface ServerSettingRow {
  name: string;
  running: string | null;
  pending_restart: boolean;
}

interface HbaRuleRow {
  line_number: number;
  type: string | null;
  database: string[] | null;
  user_name: string[] | null;
  address: string | null;
  auth_method: string | null;
  error: string | null;
}

/** pg_policy.polcmd codes. */
const POLICY_COMMANDS: Record<string, PolicyCommand> = { '*': 'ALL', r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' };

/** Access of the connecting role to the server's configuration, from SERVER_QUERY. */
export interface ServerAccess {
  embedded: boolean;
  superuser: boolean;
  canReadFileSettings: boolean;
  canReadHba: boolean;
}

/** The queries of one database's row-level security, policies and extensions. */
export const RLS_QUERIES = { rlsTables: catalog.RLS_TABLES_QUERY, policies: catalog.POLICIES_QUERY, extensions: catalog.EXTENSIONS_QUERY };

/** Builds one database's row-level security, policies and extensions from the rows of RLS_QUERIES. */
export function toRowLevelSecurity(
  database: string,
  rows: Record<keyof typeof RLS_QUERIES, unknown[]>,
): { rlsTables: RlsTable[]; policies: Policy[]; extensions: string[] } {
  const tableRows = rows.rlsTables as RlsTableRow[];
  const policyRows = rows.policies as PolicyRow[];
  const extensionRows = rows.extensions as { name: string }[];

  return {
    rlsTables: tableRows.map((row) => ({ database, schema: row.schema, table: row.table, enabled: row.enabled, force: row.force })),
    policies: policyRows.map((row) => ({
      database,
      schema: row.schema,
      table: row.table,
      name: row.name,
      command: POLICY_COMMANDS[row.command] ?? 'ALL',
      roles: [...row.roles].sort(),
      permissive: row.permissive,
      using: row.using,
      withCheck: row.with_check,
    })),
    extensions: extensionRows.map((row) => row.name),
  };
}

/** Builds the role settings from the rows of ROLE_SETTINGS_QUERY; an entry is stored as `name=value`. */
export function toRoleSettings(rows: unknown[]): RoleSetting[] {
  return (rows as RoleSettingRow[]).map((row) => {
    const split = row.entry.indexOf('=');
    return { role: row.role, database: row.database, name: row.entry.slice(0, split), value: row.entry.slice(split + 1) };
  });
}

/**
 * The queries of the server parameters, the available extensions and pg_hba.conf: fewer when the
 * connecting role may not read the configuration files.
 */
export function serverStateQueries(access: ServerAccess): Partial<Record<'settings' | 'fileSettings' | 'availableExtensions' | 'hba', string>> {
  return {
    settings: catalog.SERVER_SETTINGS_QUERY,
    ...(access.canReadFileSettings ? { fileSettings: catalog.FILE_SETTINGS_QUERY } : {}),
    availableExtensions: catalog.AVAILABLE_EXTENSIONS_QUERY,
    ...(access.canReadHba && !access.embedded ? { hba: catalog.HBA_RULES_QUERY } : {}),
  };
}

/** Builds the server state from the rows of serverStateQueries; a query left out has no rows. */
export function toServerState(
  access: ServerAccess,
  rows: Partial<Record<'settings' | 'fileSettings' | 'availableExtensions' | 'hba', unknown[]>>,
): ServerState {
  const settingRows = (rows.settings ?? []) as ServerSettingRow[];
  const fileRows = (rows.fileSettings ?? []) as { name: string; setting: string | null }[];
  const extensionRows = (rows.availableExtensions ?? []) as { name: string }[];
  const hbaRows = rows.hba === undefined ? null : (rows.hba as HbaRuleRow[]);

  const configured = new Map(fileRows.map((row) => [row.name, row.setting]));
  const settings: ActualServerSetting[] = settingRows.map((row) => {
    const file = configured.get(row.name);
    return {
      name: row.name,
      configured: file === undefined || file === null ? null : canonicalSetting(row.name, file),
      running: row.running === null ? null : canonicalSetting(row.name, row.running),
      pendingRestart: row.pending_restart,
    };
  });

  return {
    embedded: access.embedded,
    superuser: access.superuser,
    settings,
    availableExtensions: extensionRows.map((row) => row.name).sort(),
    hbaRules: hbaRows === null ? null : hbaRows.map(toHbaRule),
  };
}

function toHbaRule(row: HbaRuleRow): HbaRule {
  return {
    line: Number(row.line_number),
    type: row.type ?? '',
    databases: row.database ?? [],
    users: row.user_name ?? [],
    address: row.address,
    method: row.auth_method,
    error: row.error,
  };
}
