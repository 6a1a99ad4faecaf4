import { describe, expect, it } from 'vitest';
import { buildDesiredState } from '../../engine/model/desired.js';
import type { SecurityConfig } from '../../engine/config/types.js';

function config(grants: SecurityConfig['grants']): SecurityConfig {
  return {
    version: 1,
    targets: { prod: { engine: 'postgres', url: 'postgres://admin@db/app' } },
    roles: {},
    grants,
    default_privileges: [],
    row_level_security: {},
    credentials: {},
    sources: { keys: new Map(), locate: () => ({ file: 'security.yaml', line: 1, column: 1 }) },
  } as unknown as SecurityConfig;
}

describe('buildDesiredState', () => {
  it('rejects columns with a schema wildcard', () => {
    const source = { file: 'security.yaml', path: ['grants', 0] };
    const { desired, diagnostics } = buildDesiredState(
      config([{ to: ['analyst'], privileges: ['SELECT'], on: { tables: ['app.*'], columns: ['id'] }, source }]),
      'prod',
      'app',
    );
    expect(desired.grants).toEqual([]);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0].summary).toBe('columns cannot be combined with app.*: a column grant names one table');
    expect(diagnostics[0].source).toEqual(source);
  });

  it('keeps columns on a named table', () => {
    const { desired, diagnostics } = buildDesiredState(
      config([{ to: ['analyst'], privileges: ['SELECT'], on: { table: 'app.users', columns: ['id', 'name'] }, source: { file: 'f', path: [] } }]),
      'prod',
      'app',
    );
    expect(diagnostics).toEqual([]);
    expect(desired.grants[0].selector).toEqual({ kind: 'table', schema: 'app', name: 'users', columns: ['id', 'name'] });
  });
});
