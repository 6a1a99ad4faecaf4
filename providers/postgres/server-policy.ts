import type { AuditConfig, SecurityConfig, SourceRef } from '../../engine/config/types.js';
import type { SourcedDiagnostic } from '../../engine/model/desired.js';
import type { ActualState, RoleSetting, ServerSetting } from '../../engine/model/types.js';
import type { ServerPolicy } from '../../engine/provider.js';
import type { PostgresCapabilities } from './capabilities.js';
import { tlsFindings } from './tls-findings.js';
import { canonicalSetting, SERVER_SETTINGS, splitListValue } from './settings.js';

/** pgaudit.log value of a role listed in audit.roles: every statement class. */
const AUDITED_ROLE_CLASSES = 'all';

const at = (ref: SourceRef | undefined, ...steps: (string | number)[]): SourceRef | undefined =>
  ref ? { file: ref.file, path: [...ref.path, ...steps] } : undefined;

function setting(name: string, value: string, source?: SourceRef): ServerSetting {
  const definition = SERVER_SETTINGS[name];
  return { name, value: canonicalSetting(name, value), list: definition?.kind === 'libraries', needsRestart: definition?.needsRestart ?? false, source };
}

/**
 * Maps `audit` and `encryption` onto PostgreSQL. The result has the parameters set with ALTER
 * SYSTEM (pgaudit and connection logging, the password hash, the lowest TLS version), pgaudit.log
 * for each audited role, and findings for what a connection cannot change (ssl, pg_hba.conf, a
 * restart).
 */
export function postgresServerPolicy(config: SecurityConfig, actual: ActualState, capabilities: PostgresCapabilities): ServerPolicy {
  const result: ServerPolicy = { serverSettings: [], roleSettings: [], diagnostics: passwordPolicyFindings(config) };
  if (!config.audit && !config.encryption) return result;

  if (!capabilities.serverConfiguration) {
    for (const section of ['audit', 'encryption'] as const) {
      if (!config[section]) continue;
      result.diagnostics.push({
        severity: 'warning',
        summary: `the ${section} section does not apply to an embedded PGlite database, which has no network connections and no server configuration to reload`,
        fix: `limit the ${section} section to server targets, or remove it`,
        source: config.sources.keys.get(section),
      });
    }
    return result;
  }

  if (!actual.server.superuser) {
    // NOTE: PostgreSQL 15+ can grant ALTER SYSTEM on single parameters to other roles. Such a
    // role is still rejected here, because it cannot read every setting that the plan compares.
    result.diagnostics.push({
      severity: 'warning',
      summary: `role ${JSON.stringify(actual.currentUser)} is not a superuser, so it cannot read every server setting or run ALTER SYSTEM; the audit and encryption settings are not planned`,
      fix: 'plan and apply the audit and encryption sections as a superuser',
      source: config.sources.keys.get(config.audit ? 'audit' : 'encryption'),
    });
    return result;
  }

  if (config.audit) mapAudit(config, config.audit, actual, capabilities, result);
  if (config.encryption) {
    const source = config.sources.keys.get('encryption');
    const { password_encryption: hash, min_tls_version: minimum } = config.encryption;
    if (hash !== undefined) result.serverSettings.push(setting('password_encryption', hash, at(source, 'password_encryption')));
    if (minimum !== undefined) result.serverSettings.push(setting('ssl_min_protocol_version', minimum, at(source, 'min_tls_version')));
    result.diagnostics.push(...tlsFindings(config.encryption, actual, source));
  }
  result.diagnostics.push(...restartFindings(result.serverSettings, actual));
  return result;
}

function mapAudit(
  config: SecurityConfig,
  audit: AuditConfig,
  actual: ActualState,
  capabilities: PostgresCapabilities,
  result: ServerPolicy,
): void {
  const source = config.sources.keys.get('audit');
  const enabled = audit.enabled ?? true;
  const operations = audit.operations ?? [];
  const connections = enabled && operations.includes('connection');
  result.serverSettings.push(
    setting('log_connections', connections ? 'on' : 'off', at(source, 'operations')),
    setting('log_disconnections', connections ? 'on' : 'off', at(source, 'operations')),
  );

  if (audit.retention_days !== undefined) {
    result.diagnostics.push({
      severity: 'info',
      summary: `audit.retention_days (${audit.retention_days}) is not enforced by PostgreSQL: pgaudit writes to the server log, whose files PostgreSQL never deletes by age`,
      fix: 'keep the server log files for that many days with the log shipping or rotation tool of the host (log_rotation_age only starts new files)',
      source: at(source, 'retention_days'),
    });
  }

  if (!actual.server.availableExtensions.includes('pgaudit')) {
    result.diagnostics.push({
      severity: 'error',
      summary: 'pgaudit is not installed on the server, so the audit section cannot be applied',
      fix: `install the package postgresql-${capabilities.majorVersion}-pgaudit on the database server, add pgaudit to shared_preload_libraries in postgresql.conf, restart the server, then run CREATE EXTENSION pgaudit in each managed database`,
      source,
    });
    return;
  }

  let classes = operations.filter((operation) => operation !== 'connection');
  if (audit.exclude_select && classes.includes('read')) {
    classes = classes.filter((operation) => operation !== 'read');
    result.diagnostics.push({
      severity: 'warning',
      summary: 'audit.operations lists read, but exclude_select leaves it out: pgaudit logs SELECT and COPY FROM in one class (read) and cannot log one without the other',
      fix: 'remove read from operations, or set exclude_select: false to log every read',
      source: at(source, 'exclude_select'),
    });
  }
  const log = enabled && classes.length > 0 ? classes.join(', ') : 'none';
  result.serverSettings.push(
    setting('pgaudit.log', log, at(source, 'operations')),
    setting('pgaudit.log_relation', enabled ? 'on' : 'off', source),
  );

  // The configured list is always part of the desired state, even when it already names pgaudit,
  // so that a restart still pending is reported until the running server has loaded it.
  const libraries = splitListValue(serverValue(actual, 'shared_preload_libraries') ?? '');
  const preload = libraries.includes('pgaudit') || !enabled ? libraries : [...libraries, 'pgaudit'];
  if (enabled) result.serverSettings.push(setting('shared_preload_libraries', preload.join(', '), source));

  if (enabled) {
    const declared = new Set(
      Object.entries(config.roles).flatMap(([role, entry]) => (entry.settings?.['pgaudit.log'] === undefined ? [] : [role])),
    );
    for (const [index, role] of (audit.roles ?? []).entries()) {
      if (declared.has(role)) continue;
      result.roleSettings.push({ role, database: null, name: 'pgaudit.log', value: AUDITED_ROLE_CLASSES, source: at(source, 'roles', index) } satisfies RoleSetting);
    }
  }

  for (const database of actual.databases) {
    if (database.extensions.includes('pgaudit')) continue;
    result.diagnostics.push({
      severity: 'warning',
      summary: `the pgaudit extension is not created in database ${JSON.stringify(database.name)}, so DDL audit records there do not name the objects they change`,
      fix: `run CREATE EXTENSION pgaudit in database ${database.name} as a superuser`,
      source,
    });
  }
}

/** password_policy fields that PostgreSQL has no means to enforce, reported once per plan. */
function passwordPolicyFindings(config: SecurityConfig): SourcedDiagnostic[] {
  const policy = config.password_policy;
  const source = config.sources.keys.get('password_policy');
  const diagnostics: SourcedDiagnostic[] = [];
  if (policy?.history !== undefined && policy.history > 1) {
    diagnostics.push({
      severity: 'info',
      summary: `password_policy.history (${policy.history}) is checked only for passwords from the vault, against the entry's earlier values: PostgreSQL keeps no earlier password verifiers`,
      fix: 'take passwords from ${vault:NAME}; a password from ${env:NAME} is compared with the current one only',
      source: at(source, 'history'),
    });
  }
  if (policy?.max_failed_logins !== undefined) {
    diagnostics.push({
      severity: 'info',
      summary: `password_policy.max_failed_logins (${policy.max_failed_logins}) is not enforced: PostgreSQL has no account lockout after failed logins`,
      fix: 'load auth_delay on the server, or authenticate through LDAP or PAM, which can lock accounts',
      source: at(source, 'max_failed_logins'),
    });
  }
  return diagnostics;
}

/** Returns the configured value of a server parameter, or the running one when no file sets it. */
export function serverValue(actual: ActualState, name: string): string | null {
  const found = actual.server.settings.find((each) => each.name === name);
  return found ? (found.configured ?? found.running) : null;
}

/**
 * Reports parameters read only at server start (shared_preload_libraries) whose configured value
 * the running server does not use yet. aishell cannot restart a server, so every plan warns until
 * the restart has happened.
 */
function restartFindings(desired: ServerSetting[], actual: ActualState): SourcedDiagnostic[] {
  const diagnostics: SourcedDiagnostic[] = [];
  for (const wanted of desired) {
    const current = actual.server.settings.find((each) => each.name === wanted.name);
    if (!wanted.needsRestart || !current) continue;
    const configured = current.configured ?? current.running;
    if (configured === wanted.value && current.running !== wanted.value) {
      diagnostics.push({
        severity: 'warning',
        summary: `${wanted.name} is set to '${wanted.value}' but the server still runs with '${current.running ?? ''}': it takes effect only after a restart`,
        fix: 'restart the PostgreSQL server (for example pg_ctlcluster <version> <cluster> restart) at a convenient time',
        source: wanted.source,
      });
    }
  }
  return diagnostics;
}
