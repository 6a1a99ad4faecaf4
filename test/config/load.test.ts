import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/config/load.js';
import { loadFiles, loadYaml, POSTGRES_HEAD } from './helpers.js';

const SPEC_EXAMPLE = new URL('./fixtures/spec-example.yaml', import.meta.url);

describe('loadConfig on the example of the format', () => {
  it('loads without diagnostics', async () => {
    const result = await loadFiles({ 'security.yaml': await readFile(SPEC_EXAMPLE, 'utf8') });

    expect(result.diagnostics).toEqual([]);
    expect(result.config).toBeDefined();
  });

  it('normalises targets, roles and secrets', async () => {
    const { config } = await loadFiles({ 'security.yaml': await readFile(SPEC_EXAMPLE, 'utf8') });

    expect(config!.version).toBe(1);
    expect(config!.targets.prod).toEqual({
      engine: 'postgres',
      url: 'postgres://admin@db.example:5432/app?sslmode=verify-full',
      password: { kind: 'vault', name: 'prod-admin' },
      databases: ['app', 'reporting'],
      ignore_roles: ['legacy_*'],
      drop_unmanaged_roles: false,
      manage_public: false,
    });
    expect(config!.roles.readonly).toEqual({});
    expect(config!.roles.developer!.member_of).toEqual([{ role: 'readonly' }]);
    expect(config!.roles.app_user).toEqual({
      login: true,
      password: { kind: 'vault', name: 'app-user-password' },
      connection_limit: 10,
      valid_until: '2027-06-30',
      member_of: [{ role: 'developer' }, { role: 'auditor', admin: true }],
      settings: { statement_timeout: '30s' },
      comment: 'service account of the web application',
    });
    expect(config!.roles.old_report_user).toEqual({ state: 'absent', reassign_owned_to: 'app_owner' });
  });

  it('normalises grants and gives each its source', async () => {
    const { config } = await loadFiles({ 'security.yaml': await readFile(SPEC_EXAMPLE, 'utf8') });

    expect(config!.grants).toHaveLength(3);
    expect(config!.grants[0]).toEqual({
      to: ['readonly'],
      privileges: ['SELECT'],
      on: { tables: ['public.*'] },
      database: 'app',
      source: { file: 'security.yaml', path: ['grants', 0] },
    });
    expect(config!.grants[1]!.on).toEqual({ table: 'public.users', columns: ['id', 'name', 'email'] });
    expect(config!.grants[2]!.with_grant_option).toBe(false);
    expect(config!.default_privileges[0]).toEqual({
      for_role: 'app_owner',
      in_schema: 'public',
      on: 'tables',
      to: ['readonly'],
      privileges: ['SELECT'],
      database: 'app',
      source: { file: 'security.yaml', path: ['default_privileges', 0] },
    });
  });

  it('keeps the remaining sections', async () => {
    const { config } = await loadFiles({ 'security.yaml': await readFile(SPEC_EXAMPLE, 'utf8') });

    expect(config!.row_level_security['public.orders']!.policies!.sales_rep_own_orders).toEqual({
      command: 'SELECT',
      roles: ['sales_rep'],
      permissive: true,
      using: 'sales_rep_id = current_user_id()',
      with_check: null,
    });
    expect(config!.password_policy).toEqual({
      min_length: 12,
      require: ['uppercase', 'lowercase', 'digits', 'special'],
      expiration_days: 90,
      history: 5,
      max_failed_logins: 5,
    });
    expect(config!.audit!.operations).toEqual(['ddl', 'write', 'role']);
    expect(config!.encryption).toEqual({ require_tls: true, min_tls_version: 'TLSv1.3', password_encryption: 'scram-sha-256' });
    expect(config!.compliance!.waivers).toEqual([{ check: 'cis-5.1', reason: 'legacy reporting tool needs it', until: '2027-03-01' }]);
    expect(config!.vault).toEqual({ path: '.aishell/vault' });
    expect(config!.credentials['app-user-password']).toEqual({ generate: { length: 32 }, rotate_every: '90d' });
    expect(config!.ledger).toEqual({ path: '.aishell/ledger' });
  });

  it('records and locates the source of each declaration', async () => {
    const { config } = await loadFiles({ 'security.yaml': await readFile(SPEC_EXAMPLE, 'utf8') });
    const { keys, locate } = config!.sources;

    expect(keys.get('roles.app_user')).toEqual({ file: 'security.yaml', path: ['roles', 'app_user'] });
    expect(locate(keys.get('roles.app_user')!)).toEqual({ file: 'security.yaml', line: 23, column: 3 });
    expect(locate(keys.get('targets.prod')!)).toEqual({ file: 'security.yaml', line: 4, column: 3 });
    expect(locate(keys.get('row_level_security.public.orders')!)).toEqual({ file: 'security.yaml', line: 61, column: 3 });
    expect(locate(keys.get('credentials.app-user-password')!).line).toBe(103);
    expect(locate(config!.grants[1]!.source)).toEqual({ file: 'security.yaml', line: 42, column: 5 });
    expect(locate({ file: 'security.yaml', path: ['roles', 'app_user', 'member_of', 1, 'admin'] })).toEqual({
      file: 'security.yaml',
      line: 30,
      column: 26,
    });
  });
});

describe('loadConfig normalisation', () => {
  it('turns single names into lists', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      '    databases: app',
      'roles:',
      '  reader:',
      '    member_of: base',
      '    only: prod',
      '  base: {}',
      'grants:',
      '  - to: reader',
      '    privileges: SELECT',
      '    on: { tables: public.* }',
    ]);

    expect(diagnostics).toEqual([]);
    expect(config!.targets.prod!.databases).toEqual(['app']);
    expect(config!.roles.reader).toEqual({ member_of: [{ role: 'base' }], only: ['prod'] });
    expect(config!.grants[0]!.to).toEqual(['reader']);
    expect(config!.grants[0]!.privileges).toEqual(['SELECT']);
  });

  it('gives missing sections empty values', async () => {
    const { config, diagnostics } = await loadYaml([...POSTGRES_HEAD]);

    expect(diagnostics).toEqual([]);
    expect(config!.roles).toEqual({});
    expect(config!.grants).toEqual([]);
    expect(config!.default_privileges).toEqual([]);
    expect(config!.row_level_security).toEqual({});
    expect(config!.credentials).toEqual({});
    expect(config!.password_policy).toBeUndefined();
  });

  it('accepts a role and a section without a value', async () => {
    const { config, diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  reader:', 'grants:']);

    expect(diagnostics).toEqual([]);
    expect(config!.roles.reader).toEqual({});
    expect(config!.grants).toEqual([]);
  });

  it('keeps role names exactly', async () => {
    const names = ['App User', 'MixedCase', "o'brien", 'say "hi"', '__proto__', 'constructor', 'ünïcødé', '123'];
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  "App User": {}',
      '  MixedCase: {}',
      "  o'brien: {}",
      '  \'say "hi"\': {}',
      '  __proto__: { login: true }',
      '  constructor: {}',
      '  ünïcødé: {}',
      '  123: {}',
      'grants:',
      '  - to: ["App User", __proto__]',
      '    privileges: [SELECT]',
      '    on: { table: public.t }',
    ]);

    expect(diagnostics).toEqual([]);
    expect(Object.keys(config!.roles).sort()).toEqual([...names].sort());
    expect(Object.getPrototypeOf(config!.roles)).toBeNull();
    expect(config!.roles.__proto__).toEqual({ login: true });
    expect(config!.grants[0]!.to).toEqual(['App User', '__proto__']);
    expect(config!.sources.locate(config!.sources.keys.get('roles.say "hi"')!).line).toBe(10);
  });

  it('keeps dates and YAML 1.1 booleans as strings', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  app:',
      '    valid_until: 2027-06-30',
      '    settings: { statement_timeout: 30s, search_path: on, work_mem: 64, jit: false }',
    ]);

    expect(diagnostics).toEqual([]);
    expect(config!.roles.app!.valid_until).toBe('2027-06-30');
    // YAML booleans become on/off, the form in which PostgreSQL shows boolean parameters.
    expect(config!.roles.app!.settings).toEqual({ statement_timeout: '30s', search_path: 'on', work_mem: '64', jit: 'off' });
  });

  it('keeps per-database settings by database', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  app:',
      '    settings_in:',
      '      app: { work_mem: 64MB, jit: true }',
    ]);

    expect(diagnostics).toEqual([]);
    expect(config!.roles.app!.settings_in).toEqual({ app: { work_mem: '64MB', jit: 'on' } });
  });

  it('follows anchors and merge keys', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  base: &service { login: true, connection_limit: 5 }',
      '  worker:',
      '    <<: *service',
      '    comment: queue worker',
    ]);

    expect(diagnostics).toEqual([]);
    expect(config!.roles.worker).toEqual({ login: true, connection_limit: 5, comment: 'queue worker' });
  });
});

describe('loadConfig paths', () => {
  it('reports a missing file', async () => {
    const result = await loadConfig('/nonexistent/aishell/security.yaml');

    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]!.summary).toBe('configuration not found: /nonexistent/aishell/security.yaml');
    expect(result.diagnostics[0]!.fix).toContain('-f');
  });

  it('reads a path relative to cwd', async () => {
    const result = await loadFiles({ 'conf/main.yaml': `${POSTGRES_HEAD.join('\n')}\n` }, 'conf/main.yaml');

    expect(result.diagnostics).toEqual([]);
    expect(result.config!.targets.prod!.engine).toBe('postgres');
  });
});
