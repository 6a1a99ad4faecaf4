import { describe, expect, it } from 'vitest';
import { findDiagnostic, loadYaml, POSTGRES_HEAD } from './helpers.js';

describe('schema errors', () => {
  it('unknown key names the closest valid key', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  app_user:',
      '    login: true',
      '    conection_limit: 10',
    ]);

    expect(config).toBeUndefined();
    const diagnostic = findDiagnostic(diagnostics, 'conection_limit');
    expect(diagnostic).toEqual({
      severity: 'error',
      summary: 'unknown key "conection_limit" in role "app_user"',
      fix: 'did you mean "connection_limit"?',
      position: { file: 'security.yaml', line: 9, column: 5 },
    });
  });

  it('unknown top-level key', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'rolez:', '  app: {}']);

    const diagnostic = findDiagnostic(diagnostics, 'rolez');
    expect(diagnostic.summary).toBe('unknown top-level key "rolez"');
    expect(diagnostic.fix).toBe('did you mean "roles"?');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 6, column: 1 });
  });

  it('unknown key without a close match lists the valid keys', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'vault:', '  location_of_the_vault: x']);

    const diagnostic = findDiagnostic(diagnostics, 'location_of_the_vault');
    expect(diagnostic.fix).toBe('valid keys: path, id, slot_fingerprint, pkcs11_module, aws_kms_endpoint, gcp_kms_endpoint');
  });

  it('boolean given as yes', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app_user:', '    login: yes']);

    const diagnostic = findDiagnostic(diagnostics, '"login"');
    expect(diagnostic.summary).toBe('"login" of role "app_user" must be true or false, got "yes"');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 8, column: 12 });
  });

  it('engine not in the list suggests the closest', async () => {
    const { diagnostics } = await loadYaml(['version: 1', 'targets:', '  prod:', '    engine: postgress', '    url: postgres://a@h/app']);

    const diagnostic = findDiagnostic(diagnostics, '"engine"');
    expect(diagnostic.summary).toBe('"engine" of target "prod" must be one of postgres, mysql, mariadb, mongodb, got "postgress"');
    expect(diagnostic.fix).toBe('did you mean "postgres"?');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 4, column: 13 });
  });

  it('missing required key', async () => {
    const { diagnostics } = await loadYaml(['version: 1', 'targets:', '  prod:', '    engine: postgres']);

    const diagnostic = findDiagnostic(diagnostics, 'required');
    expect(diagnostic.summary).toBe('target "prod" is missing the required key "url"');
    expect(diagnostic.fix).toMatch(/^add url: \(Connection URL/);
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 3, column: 3 });
  });

  it('plain-text password is rejected without showing it', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app_user:', '    password: hunter2-secret']);

    const diagnostic = findDiagnostic(diagnostics, '"password"');
    expect(diagnostic.summary).toBe(
      '"password" of role "app_user" must be a ${vault:NAME} or ${env:NAME} reference; plain-text passwords are not allowed',
    );
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 8, column: 15 });
    expect(JSON.stringify(diagnostics)).not.toContain('hunter2');
  });

  it('valid_until that is not a date', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app_user:', '    valid_until: next year']);

    const diagnostic = findDiagnostic(diagnostics, 'valid_until');
    expect(diagnostic.summary).toBe(
      '"valid_until" of role "app_user" must be a date (2027-06-30), a timestamp with time zone (2027-06-30T12:00:00Z) or infinity, got "next year"',
    );
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 8, column: 18 });
  });

  it('number below its minimum', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app_user:', '    connection_limit: -5']);

    const diagnostic = findDiagnostic(diagnostics, 'connection_limit');
    expect(diagnostic.summary).toBe('"connection_limit" of role "app_user" must be >= -1, got -5');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 8, column: 23 });
  });

  it('unsupported version', async () => {
    const { diagnostics } = await loadYaml(['version: 2', 'targets:', '  prod: { engine: postgres, url: postgres://a@h/app }']);

    const diagnostic = findDiagnostic(diagnostics, 'version');
    expect(diagnostic.summary).toBe('unsupported version 2');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 1, column: 10 });
  });

  it('grant object with no selector', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'grants:', '  - to: app', '    privileges: [SELECT]', '    on: {}']);

    const diagnostic = findDiagnostic(diagnostics, 'names no object');
    expect(diagnostic.summary).toBe('"on" of grants[0] names no object');
    expect(diagnostic.fix).toMatch(/^add one of: database, schema, schemas, table, tables/);
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 9, column: 5 });
  });

  it('grant object with two selectors', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'grants:',
      '  - to: app',
      '    privileges: [SELECT]',
      '    on: { table: public.t, schema: public }',
    ]);

    expect(diagnostics.map((diagnostic) => diagnostic.summary)).toContain('"on" of grants[0] names 2 objects (schema, table); a grant takes exactly one');
    // The per-branch errors of the oneOf are folded into that one message.
    expect(diagnostics.filter((diagnostic) => diagnostic.summary.includes('required'))).toEqual([]);
  });

  it('columns without a table', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'grants:',
      '  - to: app',
      '    privileges: [SELECT]',
      '    on: { schema: public, columns: [id] }',
    ]);

    const diagnostic = findDiagnostic(diagnostics, '"columns"');
    expect(diagnostic.summary).toBe('"columns" in "on" of grants[0] needs "table" or "tables"');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 9, column: 27 });
  });

  it('invalid target name', async () => {
    const { diagnostics } = await loadYaml(['version: 1', 'targets:', '  "prod db":', '    engine: postgres', '    url: postgres://a@h/app']);

    const diagnostic = findDiagnostic(diagnostics, 'target name');
    expect(diagnostic.summary).toBe('invalid target name "prod db": must be letters, digits, _, . and - (starting with a letter, digit or _)');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 3, column: 3 });
  });

  it('ledger with both path and url', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'ledger:', '  path: ./ledger', '  url: postgres://a@h/ledger']);

    const diagnostic = findDiagnostic(diagnostics, 'ledger');
    expect(diagnostic.summary).toBe('ledger sets both "path" and "url"');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 6, column: 1 });
  });

  it('repeated entry in a list that must be unique', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'audit:', '  operations: [ddl, write, ddl]']);

    const diagnostic = findDiagnostic(diagnostics, 'twice');
    expect(diagnostic.summary).toBe('"operations" of audit lists "ddl" twice');
  });

  it('enum item inside a list', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'compliance:', '  profiles: [cis, pci]']);

    const diagnostic = findDiagnostic(diagnostics, 'profiles');
    expect(diagnostic.summary).toBe('"profiles[1]" of compliance must be one of cis, pci-dss, hipaa, soc2, gdpr, got "pci"');
    expect(diagnostic.fix).toBe('did you mean "pci-dss"?');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 7, column: 19 });
  });

  it('reports every problem of a file at once', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  a:',
      '    login: yes',
      '    superuserr: true',
      '  b:',
      '    connection_limit: many',
      'grants:',
      '  - to: a',
      '    on: { table: t }',
    ]);

    expect(config).toBeUndefined();
    expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.summary])).toEqual([
      [8, '"login" of role "a" must be true or false, got "yes"'],
      [9, 'unknown key "superuserr" in role "a"'],
      [11, '"connection_limit" of role "b" must be a whole number, got "many"'],
      [13, 'grants[0] is missing the required key "privileges"'],
    ]);
  });
});
