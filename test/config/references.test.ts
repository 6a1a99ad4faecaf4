import { describe, expect, it } from 'vitest';
import { findDiagnostic, loadYaml } from './helpers.js';

const HEAD = ['version: 1', 'targets:', '  prod:', '    engine: postgres'];

describe('references', () => {
  it('password references become SecretRefs, unresolved', async () => {
    const { config, diagnostics } = await loadYaml([
      ...HEAD,
      '    url: postgres://admin@127.0.0.1/app',
      '    password: ${env:PGPASSWORD}',
      'roles:',
      '  app:',
      '    login: true',
      '    password: ${vault:app-password}',
    ]);

    expect(diagnostics).toEqual([]);
    expect(config!.targets.prod!.password).toEqual({ kind: 'env', name: 'PGPASSWORD' });
    expect(config!.roles.app!.password).toEqual({ kind: 'vault', name: 'app-password' });
  });

  it('env references elsewhere are resolved at load time', async () => {
    const { config, diagnostics } = await loadYaml(
      [...HEAD, '    url: postgres://admin@${env:DB_HOST}:${env:DB_PORT}/app', '    databases: [app, "$${literal}"]'],
      { DB_HOST: 'db.internal', DB_PORT: '6432' },
    );

    expect(diagnostics.filter((diagnostic) => diagnostic.severity === 'error')).toEqual([]);
    expect(config!.targets.prod!.url).toBe('postgres://admin@db.internal:6432/app');
    expect(config!.targets.prod!.databases).toEqual(['app', '${literal}']);
  });

  it('escaped dollar sign starts a reference', async () => {
    const { config, diagnostics } = await loadYaml(
      [
        ...HEAD,
        '    url: "postgres://admin@\\x24{env:DB_HOST}/app"',
        '    password: "\\u0024{env:PGPASSWORD}"',
        '    databases: ["app$\\',
        '      {env:DB_NAME}"]',
      ],
      { DB_HOST: 'db.internal', DB_NAME: 'reports' },
    );

    expect(diagnostics.filter((diagnostic) => diagnostic.severity === 'error')).toEqual([]);
    expect(config!.targets.prod!.url).toBe('postgres://admin@db.internal/app');
    expect(config!.targets.prod!.password).toEqual({ kind: 'env', name: 'PGPASSWORD' });
    expect(config!.targets.prod!.databases).toEqual(['appreports']);
  });

  it('file without references keeps its values', async () => {
    const { config, diagnostics } = await loadYaml([...HEAD, '    url: postgres://admin@127.0.0.1/app', '    databases: [app, "$", "{x}"]']);

    expect(diagnostics).toEqual([]);
    expect(config!.targets.prod!.databases).toEqual(['app', '$', '{x}']);
  });

  it('missing env variable names it and its line', async () => {
    const { config, diagnostics } = await loadYaml([...HEAD, '    url: postgres://admin@${env:DB_HOST}/app']);

    expect(config).toBeUndefined();
    expect(diagnostics).toEqual([
      {
        severity: 'error',
        summary: 'environment variable DB_HOST is not set (used in "url" of target "prod")',
        fix: 'set DB_HOST before running aishell, or replace ${env:DB_HOST} with the value',
        position: { file: 'security.yaml', line: 5, column: 10 },
      },
    ]);
  });

  it('vault reference outside a password field', async () => {
    const { diagnostics } = await loadYaml([...HEAD, '    url: postgres://admin:${vault:prod}@127.0.0.1/app']);

    const diagnostic = findDiagnostic(diagnostics, '${vault:prod}');
    expect(diagnostic.summary).toBe('${vault:prod} is not allowed in "url" of target "prod"; vault references are allowed only in password fields');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 5, column: 10 });
  });

  it('unknown reference kind', async () => {
    const { diagnostics } = await loadYaml([...HEAD, '    url: postgres://admin@${file:host}/app']);

    findDiagnostic(diagnostics, 'unknown reference ${file:host}');
  });

  it('resolved values never appear in diagnostics', async () => {
    const secret = 's3cr3t-value-from-env';
    const { diagnostics } = await loadYaml(
      [
        ...HEAD,
        '    url: ${env:DATABASE_URL}',
        'roles:',
        '  app:',
        '    comment: ${env:DATABASE_URL}',
        '    login: maybe',
        'grants:',
        '  - to: ${env:DATABASE_URL}',
        '    privileges: [SELECT]',
        '    on: { table: public.t }',
      ],
      { DATABASE_URL: `mysql://admin:${secret}@db/app` },
    );

    // The URL's scheme does not fit the engine and the grantee is unknown: both are reported.
    findDiagnostic(diagnostics, 'has scheme "mysql:"');
    findDiagnostic(diagnostics, 'is not declared in roles');
    expect(JSON.stringify(diagnostics)).not.toContain(secret);
  });

  it('url from the environment that is not a URL stays hidden', async () => {
    const { diagnostics } = await loadYaml([...HEAD, '    url: ${env:PROD_URL}'], { PROD_URL: 'hunter2:secret-part' });

    const diagnostic = findDiagnostic(diagnostics, '"url" of target "prod"');
    expect(diagnostic.summary).toBe('"url" of target "prod" does not start with a scheme that fits engine postgres');
    expect(JSON.stringify(diagnostics)).not.toContain('hunter2');
  });
});
