import { describe, expect, it } from 'vitest';
import type { SecurityConfig } from '../../engine/config/types.js';
import { diffServerSettings } from '../../engine/diff/server-settings.js';
import type { ActualServerSetting, ActualState } from '../../engine/model/types.js';
import { capabilitiesFor } from '../../providers/postgres/capabilities.js';
import { postgresServerPolicy } from '../../providers/postgres/server-policy.js';
import { canonicalSetting } from '../../providers/postgres/settings.js';

// Pure tests of the mapping from audit and encryption to PostgreSQL settings, for server states
// that the shared test server cannot be put in (pgaudit absent, not preloaded, a pending restart).

function config(sections: Partial<SecurityConfig>): SecurityConfig {
  return {
    version: 1,
    targets: {},
    roles: {},
    grants: [],
    default_privileges: [],
    row_level_security: {},
    credentials: {},
    sources: { keys: new Map(), locate: () => ({ file: 'security.yaml', line: 1, column: 1 }) },
    ...sections,
  };
}

function setting(name: string, running: string | null, configured: string | null = null, pendingRestart = false): ActualServerSetting {
  return { name, running, configured, pendingRestart };
}

function actual(settings: ActualServerSetting[], availableExtensions = ['pgaudit']): ActualState {
  return {
    serverVersion: 150004,
    currentUser: 'postgres',
    roles: [],
    memberships: [],
    roleSettings: [],
    server: { embedded: false, superuser: true, settings, availableExtensions, hbaRules: [] },
    databases: [{ name: 'app', owner: 'postgres', grants: [], defaultPrivileges: [], objects: [], rlsTables: [], policies: [], extensions: ['pgaudit'] }],
  };
}

const pg15 = capabilitiesFor(150004);
const audit = { enabled: true, operations: ['ddl', 'role'] };

describe('audit mapping', () => {
  it('plans no server settings without a superuser', () => {
    const state = actual([setting('shared_preload_libraries', null)]);
    const result = postgresServerPolicy(config({ audit }), { ...state, currentUser: 'deployer', server: { ...state.server, superuser: false } }, pg15);
    expect(result.serverSettings).toEqual([]);
    expect(result.roleSettings).toEqual([]);
    expect(result.diagnostics.map((each) => each.summary)).toContain(
      'role "deployer" is not a superuser, so it cannot read every server setting or run ALTER SYSTEM; the audit and encryption settings are not planned',
    );
  });

  it('reports missing pgaudit with its package', () => {
    const result = postgresServerPolicy(config({ audit }), actual([setting('shared_preload_libraries', '')], []), pg15);
    const errors = result.diagnostics.filter((each) => each.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].summary).toContain('pgaudit is not installed');
    expect(errors[0].fix).toContain('postgresql-15-pgaudit');
    expect(errors[0].fix).toContain('shared_preload_libraries');
    expect(result.serverSettings.map((each) => each.name)).toEqual(['log_connections', 'log_disconnections']);
  });

  it('adds pgaudit to preloaded libraries with a restart', () => {
    const result = postgresServerPolicy(config({ audit }), actual([setting('shared_preload_libraries', 'pg_stat_statements')]), pg15);
    const preload = result.serverSettings.find((each) => each.name === 'shared_preload_libraries');
    expect(preload).toEqual({ name: 'shared_preload_libraries', value: 'pg_stat_statements, pgaudit', list: true, needsRestart: true, source: undefined });

    const changes = diffServerSettings('prod', result.serverSettings, [setting('shared_preload_libraries', 'pg_stat_statements')]);
    expect(changes.map((each) => each.address)).toContain("prod: set shared_preload_libraries = 'pg_stat_statements, pgaudit' (server, needs restart)");
  });

  it('warns until a pending restart happens', () => {
    const state = actual([setting('shared_preload_libraries', '', 'pgaudit', true)]);
    const result = postgresServerPolicy(config({ audit }), state, pg15);
    const changes = diffServerSettings('prod', result.serverSettings, state.server.settings);
    expect(changes.filter((each) => each.address.includes('shared_preload_libraries'))).toEqual([]);
    expect(result.diagnostics.map((each) => each.summary)).toContain(
      "shared_preload_libraries is set to 'pgaudit' but the server still runs with '': it takes effect only after a restart",
    );
  });

  it('leaves read out when exclude_select is set', () => {
    const result = postgresServerPolicy(
      config({ audit: { operations: ['read', 'write'], exclude_select: true } }),
      actual([setting('shared_preload_libraries', 'pgaudit')]),
      pg15,
    );
    expect(result.serverSettings.find((each) => each.name === 'pgaudit.log')?.value).toBe('write');
    expect(result.diagnostics.some((each) => each.severity === 'warning' && each.summary.includes('exclude_select'))).toBe(true);
  });

  it('turns logging off when disabled', () => {
    const result = postgresServerPolicy(
      config({ audit: { enabled: false, operations: ['ddl', 'connection'], roles: ['admin'] } }),
      actual([setting('shared_preload_libraries', 'pgaudit')]),
      pg15,
    );
    const values = Object.fromEntries(result.serverSettings.map((each) => [each.name, each.value]));
    expect(values).toEqual({ log_connections: 'off', log_disconnections: 'off', 'pgaudit.log': 'none', 'pgaudit.log_relation': 'off' });
    expect(result.roleSettings).toEqual([]);
  });
});

describe('setting values', () => {
  const cases: [string, string, string][] = [
    ['log_connections', 'TRUE', 'on'],
    ['log_connections', '0', 'off'],
    ['pgaudit.log', 'DDL,Role', 'role, ddl'],
    ['shared_preload_libraries', '"pg_stat_statements" ,pgaudit', 'pg_stat_statements, pgaudit'],
    ['ssl_min_protocol_version', 'tlsv1.3', 'TLSv1.3'],
    ['password_encryption', 'SCRAM-SHA-256', 'scram-sha-256'],
  ];
  it.each(cases)('%s %j is %j', (name, value, canonical) => {
    expect(canonicalSetting(name, value)).toBe(canonical);
  });
});

describe('encryption mapping', () => {
  it('reports non-TLS pg_hba lines with their numbers', () => {
    const state = actual([setting('ssl', 'on')]);
    state.server.hbaRules = [
      { line: 3, type: 'local', databases: ['all'], users: ['all'], address: null, method: 'peer', error: null },
      { line: 7, type: 'host', databases: ['all'], users: ['all'], address: '10.0.0.0', method: 'scram-sha-256', error: null },
      { line: 9, type: 'hostssl', databases: ['all'], users: ['all'], address: '0.0.0.0', method: 'scram-sha-256', error: null },
    ];
    const result = postgresServerPolicy(config({ encryption: { require_tls: true } }), state, pg15);
    expect(result.diagnostics.map((each) => each.summary)).toEqual([
      'require_tls: pg_hba.conf line 7 (host all all 10.0.0.0 scram-sha-256) accepts connections without TLS',
    ]);
  });
});

describe('password policy findings', () => {
  it('reports what PostgreSQL cannot enforce', () => {
    const result = postgresServerPolicy(config({ password_policy: { history: 5, max_failed_logins: 3 } }), actual([]), pg15);
    expect(result.diagnostics.map((each) => [each.severity, each.summary])).toEqual([
      ['info', "password_policy.history (5) is checked only for passwords from the vault, against the entry's earlier values: PostgreSQL keeps no earlier password verifiers"],
      ['info', 'password_policy.max_failed_logins (3) is not enforced: PostgreSQL has no account lockout after failed logins'],
    ]);
  });
});
