import { describe, expect, it } from 'vitest';
import { findDiagnostic, loadYaml, POSTGRES_HEAD } from './helpers.js';

const MIXED_HEAD = [
  'version: 1',
  'targets:',
  '  pg:',
  '    engine: postgres',
  '    url: postgres://admin@127.0.0.1:5432/app',
  '  shop:',
  '    engine: mysql',
  '    url: mysql://root@127.0.0.1:3306',
];

describe('role references', () => {
  it('undeclared grantee is a warning, once per name', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  readers: {}',
      'grants:',
      '  - to: [reader, PUBLIC]',
      '    privileges: [SELECT]',
      '    on: { tables: public.* }',
      '  - to: reader',
      '    privileges: [INSERT]',
      '    on: { tables: public.* }',
    ]);

    expect(config).toBeDefined();
    expect(diagnostics).toEqual([
      {
        severity: 'warning',
        summary: 'role "reader" is not declared in roles (used by grants[0] and 1 more place); aishell will not manage it',
        fix: 'did you mean "readers"?',
        position: { file: 'security.yaml', line: 9, column: 10 },
      },
    ]);
  });

  it('undeclared membership, owner and policy role are warnings', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  app:',
      '    member_of: [group_a]',
      'default_privileges:',
      '  - for_role: owner_x',
      '    on: tables',
      '    to: app',
      '    privileges: [SELECT]',
      'row_level_security:',
      '  public.orders:',
      '    policies:',
      '      own_rows:',
      '        roles: [sales, current_user]',
      '        using: "owner = current_user"',
    ]);

    expect(diagnostics.map((diagnostic) => [diagnostic.severity, diagnostic.position?.line, diagnostic.summary])).toEqual([
      ['warning', 8, 'role "group_a" is not declared in roles (used by role "app"); aishell will not manage it'],
      ['warning', 10, 'role "owner_x" is not declared in roles (used by default_privileges[0]); aishell will not manage it'],
      ['warning', 18, 'role "sales" is not declared in roles (used by policy "own_rows" of table "public.orders"); aishell will not manage it'],
    ]);
  });

  it('reference to a role that is being dropped is an error', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  old:',
      '    state: absent',
      'grants:',
      '  - to: old',
      '    privileges: [SELECT]',
      '    on: { table: public.t }',
    ]);

    expect(config).toBeUndefined();
    const diagnostic = findDiagnostic(diagnostics, 'state: absent');
    expect(diagnostic.summary).toBe('grants[0] names role "old", which is declared with state: absent');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 10, column: 9 });
  });

  it('membership in PUBLIC is an error', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    member_of: [PUBLIC]']);

    const diagnostic = findDiagnostic(diagnostics, 'PUBLIC');
    expect(diagnostic.summary).toBe('role "app" names PUBLIC, which is not a role here');
  });
});

describe('memberships', () => {
  it('member of itself', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    member_of: [base, app]', '  base: {}']);

    expect(diagnostics).toEqual([
      {
        severity: 'error',
        summary: 'role "app" is a member of itself',
        fix: 'remove "app" from its member_of',
        position: { file: 'security.yaml', line: 8, column: 23 },
      },
    ]);
  });

  it('cycle through three roles', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  a:',
      '    member_of: [b]',
      '  b:',
      '    member_of: [{ role: c, admin: true }]',
      '  c:',
      '    member_of: [a]',
      '  d:',
      '    member_of: [a]',
    ]);

    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.summary).toBe('membership cycle: "a" → "b" → "c" → "a" (each role is a member of the next)');
    expect(diagnostics[0]!.position).toEqual({ file: 'security.yaml', line: 8, column: 17 });
  });

  it('cycle reached only through a group of a cycle', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  top: {}',
      '  x:',
      '    member_of: [top, y]',
      '  y:',
      '    member_of: [z]',
      '  z:',
      '    member_of: [y, top]',
      '  user:',
      '    member_of: [x]',
    ]);

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [11, 'membership cycle: "y" → "z" → "y" (each role is a member of the next)'],
    ]);
  });

  it('long chain without a cycle', async () => {
    const lines = [...POSTGRES_HEAD, 'roles:'];
    for (let index = 0; index < 20_000; index++) lines.push(`  r${index}: { member_of: [r${index + 1}] }`);
    lines.push('  r20000: {}');

    const { diagnostics } = await loadYaml(lines);

    expect(diagnostics).toEqual([]);
  });
});

describe('targets', () => {
  it('only names an unknown target', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    only: [prd]']);

    expect(diagnostics).toEqual([
      {
        severity: 'error',
        summary: 'role "app" names unknown target "prd" in "only"',
        fix: 'did you mean "prod"?',
        position: { file: 'security.yaml', line: 8, column: 12 },
      },
    ]);
  });

  it('grant database not managed by the target', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      '    databases: [app, reporting]',
      'grants:',
      '  - to: PUBLIC',
      '    privileges: [USAGE]',
      '    on: { schema: public }',
      '    database: reportin',
      '  - to: PUBLIC',
      '    privileges: [USAGE]',
      '    on: { schema: public }',
    ]);

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [11, 'grants[0] names database "reportin", which target "prod" does not manage'],
      [12, 'grants[1] does not say which database of target "prod" it applies to'],
    ]);
  });

  it('database from the url when databases is absent', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'grants:',
      '  - to: PUBLIC',
      '    privileges: [USAGE]',
      '    on: { schema: public }',
      '    database: other',
    ]);

    const diagnostic = findDiagnostic(diagnostics, 'does not manage');
    expect(diagnostic.fix).toBe('use one of app, or add "other" to the databases of target "prod"');
  });

  it('url scheme that does not fit the engine', async () => {
    const { diagnostics } = await loadYaml(['version: 1', 'targets:', '  prod:', '    engine: mysql', '    url: postgres://a@h/app']);

    const diagnostic = findDiagnostic(diagnostics, 'url');
    expect(diagnostic.summary).toBe('"url" of target "prod" has scheme "postgres:", which does not fit engine mysql');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 5, column: 10 });
  });
});

describe('engine-specific fields', () => {
  it('MySQL field on a role of PostgreSQL targets', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    login: true', '    hosts: ["%"]']);

    expect(diagnostics).toEqual([
      {
        severity: 'error',
        summary: '"hosts" of role "app" is a MySQL/MariaDB field, but it applies only to PostgreSQL targets',
        fix: 'remove it; the PostgreSQL targets would ignore it',
        position: { file: 'security.yaml', line: 9, column: 5 },
      },
    ]);
  });

  it('PostgreSQL field on a role limited to a MySQL target', async () => {
    const { diagnostics } = await loadYaml([...MIXED_HEAD, 'roles:', '  app:', '    only: [shop]', '    bypassrls: true']);

    const diagnostic = findDiagnostic(diagnostics, 'bypassrls');
    expect(diagnostic.summary).toBe('"bypassrls" of role "app" is a PostgreSQL field, but it applies only to MySQL targets');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 12, column: 5 });
  });

  it('role spanning engines may carry the fields of each', async () => {
    const { diagnostics } = await loadYaml([...MIXED_HEAD, 'roles:', '  app:', '    login: true', '    bypassrls: true', '    hosts: ["10.0.0.%"]']);

    expect(diagnostics).toEqual([]);
  });

  it('PostgreSQL selector and sections on a MySQL target', async () => {
    const { diagnostics } = await loadYaml([
      'version: 1',
      'targets:',
      '  shop: { engine: mariadb, url: mariadb://root@127.0.0.1:3306 }',
      'grants:',
      '  - to: PUBLIC',
      '    privileges: [USAGE]',
      '    on: { schema: public }',
      'default_privileges:',
      '  - { for_role: owner, on: tables, to: PUBLIC, privileges: [SELECT] }',
      'row_level_security:',
      '  public.orders: { enabled: true }',
    ]);

    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
    expect(errors.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [7, '"schema" in grants[0] is a PostgreSQL selector, but it applies only to MariaDB targets'],
      [9, 'default_privileges[0] is a PostgreSQL section, but it applies only to MariaDB targets'],
      [11, 'row-level security of table "public.orders" is a PostgreSQL section, but it applies only to MariaDB targets'],
    ]);
  });

  it('membership option of PostgreSQL 16 on MySQL', async () => {
    const { diagnostics } = await loadYaml([
      'version: 1',
      'targets:',
      '  shop: { engine: mysql, url: mysql://root@127.0.0.1:3306 }',
      'roles:',
      '  app:',
      '    member_of: [{ role: base, set: false }]',
      '  base: {}',
    ]);

    const diagnostic = findDiagnostic(diagnostics, '"set"');
    expect(diagnostic.summary).toBe('"set" of member_of[0] of role "app" is a PostgreSQL field, but it applies only to MySQL targets');
  });
});

describe('privileges', () => {
  it('misspelt privilege suggests the closest', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'grants:', '  - to: PUBLIC', '    privileges: [select, SELEC]', '    on: { table: public.t }']);

    expect(diagnostics).toEqual([
      {
        severity: 'error',
        summary: 'unknown privilege "SELEC" in grants[0]',
        fix: 'did you mean "SELECT"?',
        position: { file: 'security.yaml', line: 8, column: 26 },
      },
    ]);
  });

  it('privilege of another object kind', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'grants:',
      '  - to: PUBLIC',
      '    privileges: [USAGE, temp]',
      '    on: { database: app }',
      '  - to: PUBLIC',
      '    privileges: [SELECT, DELETE]',
      '    on: { table: public.t, columns: [a, b] }',
      '  - to: PUBLIC',
      '    privileges: [all privileges]',
      '    on: { function: "public.f(integer)" }',
    ]);

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary, diagnostic.fix])).toEqual([
      [8, 'privilege "USAGE" in grants[0] does not apply to a database', 'privileges for a database: CREATE, CONNECT, TEMPORARY, ALL'],
      [11, 'privilege "DELETE" in grants[1] does not apply to columns', 'privileges for columns: SELECT, INSERT, UPDATE, REFERENCES, ALL'],
    ]);
  });

  it('default privileges on schemas inside a schema', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'default_privileges:',
      '  - for_role: PUBLIC',
      '    in_schema: public',
      '    on: schemas',
      '    to: PUBLIC',
      '    privileges: [EXECUTE]',
    ]);

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [7, 'default_privileges[0] names PUBLIC, which is not a role here'],
      [8, 'default_privileges[0] sets in_schema with on: schemas; PostgreSQL has no default privileges for schemas inside a schema'],
      [11, 'privilege "EXECUTE" in default_privileges[0] does not apply to schemas'],
    ]);
  });

  it('default privileges on an inherited property name', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  owner: {}',
      'default_privileges:',
      '  - for_role: owner',
      '    on: constructor',
      '    to: owner',
      '    privileges: [SELECT]',
    ]);

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [10, '"on" of default_privileges[0] must be one of tables, sequences, functions, types, schemas, got "constructor"'],
    ]);
  });

  it('grant option to PUBLIC', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'grants:',
      '  - to: PUBLIC',
      '    privileges: [SELECT]',
      '    on: { table: public.t }',
      '    with_grant_option: true',
    ]);

    const diagnostic = findDiagnostic(diagnostics, 'grant option');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 10, column: 5 });
  });

  it('policy clauses that the command does not take', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'row_level_security:',
      '  public.orders:',
      '    policies:',
      '      add_own:',
      '        command: INSERT',
      '        using: "owner = current_user"',
      '      read_own:',
      '        command: SELECT',
      '        with_check: "owner = current_user"',
    ]);

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [11, 'policy "add_own" of table "public.orders" is for INSERT, which takes no "using" expression'],
      [14, 'policy "read_own" of table "public.orders" is for SELECT, which takes no "with_check" expression'],
    ]);
  });
});

describe('role declarations', () => {
  it('names PostgreSQL rejects or truncates', async () => {
    const long = 'x'.repeat(64);
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  pg_monitor_copy: {}', '  none: {}', `  ${long}: {}`]);

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [7, 'role name "pg_monitor_copy" starts with pg_, which PostgreSQL reserves for system roles'],
      [8, 'role name "none" is reserved in PostgreSQL'],
      [9, `role name "${long}" is 64 bytes long; PostgreSQL truncates names to 63 bytes`],
    ]);
  });

  it('declared role that the target ignores', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, '    ignore_roles: ["legacy_*"]', 'roles:', '  legacy_app: {}']);

    const diagnostic = findDiagnostic(diagnostics, 'ignores it');
    expect(diagnostic.summary).toBe('role "legacy_app" is declared, but target "prod" ignores it (ignore_roles: legacy_*)');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 8, column: 3 });
  });

  it('reassign_owned_to without state absent', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  owner: {}', '  old:', '    reassign_owned_to: owner']);

    const diagnostic = findDiagnostic(diagnostics, 'reassign_owned_to');
    expect(diagnostic.fix).toBe('add state: absent to drop the role, or remove reassign_owned_to');
    expect(diagnostic.position!.line).toBe(9);
  });

  it('password on a role that cannot log in', async () => {
    const { config, diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    password: ${vault:app}']);

    expect(config).toBeDefined();
    const diagnostic = findDiagnostic(diagnostics, 'cannot log in');
    expect(diagnostic.severity).toBe('warning');
  });

  it('date that does not exist', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    valid_until: 2027-02-30']);

    findDiagnostic(diagnostics, 'is not a real date: 2027-02-30');
  });

  it('generated credential shorter than the password policy', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'password_policy: { min_length: 20 }',
      'credentials:',
      '  app-password:',
      '    generate: { length: 16 }',
    ]);

    const diagnostic = findDiagnostic(diagnostics, 'credential "app-password"');
    expect(diagnostic.summary).toBe('credential "app-password" generates 16 characters, fewer than password_policy.min_length (20)');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 9, column: 25 });
  });
});
