import { describe, expect, it } from 'vitest';
import { appliedRecords } from '../../engine/cli/record.js';
import type { Change } from '../../engine/diff/changes.js';

const createRole: Change = {
  kind: 'create_role',
  address: 'prod: create role app',
  database: null,
  destructive: false,
  role: { name: 'app', login: true, superuser: false, createdb: false, createrole: false, replication: false, bypassrls: false, inherit: true, connectionLimit: -1, validUntil: null, comment: null },
};
const dropRole: Change = { kind: 'drop_role', address: 'prod: drop role old', database: null, destructive: true, role: 'old', reassignOwnedTo: null, databases: ['app'] };

describe('appliedRecords', () => {
  it('records every committed change as ok', () => {
    const records = appliedRecords({
      target: 'prod',
      changes: [createRole],
      statements: [{ change: createRole, statement: { database: null, sql: 'CREATE ROLE "app" WITH LOGIN' } }],
    });
    expect(records.map((record) => [record.kind, record.outcome])).toEqual([
      ['apply.change', 'ok'],
      ['apply.summary', 'ok'],
    ]);
    expect(records[0].details?.statements).toEqual(['CREATE ROLE "app" WITH LOGIN']);
  });

  it('marks a failed step and what never ran', () => {
    const records = appliedRecords({
      target: 'prod',
      changes: [createRole, dropRole],
      statements: [],
      failure: { address: createRole.address, message: 'permission denied' },
    });
    expect(records.map((record) => record.outcome)).toEqual(['failed', 'not-run', 'failed']);
    expect(records[0].details?.error).toBe('permission denied');
  });
});
