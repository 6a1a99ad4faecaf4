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
import type { SqlClient } from './client.js';
import { canonicalSetting, SERVER_SETTING_NAMES } from './settings.js';

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

/** Reads row-level security, policies and extensions of one database: three queries. */
export async function inspectRowLevelSecurity(
  database: string,
  client: SqlClient,
): Promise<{ rlsTables: RlsTable[]; policies: Policy[]; extensions: string[] }> {
  const tableRows = await client.query<RlsTableRow>(catalog.RLS_TABLES_QUERY);
  const policyRows = await client.query<PolicyRow>(catalog.POLICIES_QUERY);
  const extensionRows = await client.query<{ name: string }>(catalog.EXTENSIONS_QUERY);

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

/** Reads the settings of every role in one query; an entry is stored as `name=value`. */
export async function inspectRoleSettings(client: SqlClient): Promise<RoleSetting[]> {
  const rows = await client.query<RoleSettingRow>(catalog.ROLE_SETTINGS_QUERY);
  return rows.map((row) => {
    const split = row.entry.indexOf('=');
    return { role: row.role, database: row.database, name: row.entry.slice(0, split), value: row.entry.slice(split + 1) };
  });
}

/**
 * Reads the server parameters, the available extensions and pg_hba.conf: at most four queries,
 * fewer when the connecting role may not read the configuration files.
 */
export async function inspectServerState(client: SqlClient, access: ServerAccess): Promise<ServerState> {
  const settingRows = await client.query<ServerSettingRow>(catalog.SERVER_SETTINGS_QUERY, [SERVER_SETTING_NAMES]);
  const fileRows = access.canReadFileSettings
    ? await client.query<{ name: string; setting: string | null }>(catalog.FILE_SETTINGS_QUERY, [SERVER_SETTING_NAMES])
    : [];
  const extensionRows = await client.query<{ name: string }>(catalog.AVAILABLE_EXTENSIONS_QUERY);
  const hbaRows = access.canReadHba && !access.embedded ? await client.query<HbaRuleRow>(catalog.HBA_RULES_QUERY) : null;

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
