import { describe, expect, it } from 'vitest';
import { canonicalPrivilege, isValidPrivilege, privilegesFor } from '../../engine/config/privileges.js';

describe('privilege lists', () => {
  it('lists the privileges of each object kind', () => {
    expect(privilegesFor('database')).toEqual(['CREATE', 'CONNECT', 'TEMPORARY']);
    expect(privilegesFor('schema')).toEqual(['USAGE', 'CREATE']);
    expect(privilegesFor('table')).toEqual(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN']);
    expect(privilegesFor('column')).toEqual(['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']);
    expect(privilegesFor('sequence')).toEqual(['USAGE', 'SELECT', 'UPDATE']);
    expect(privilegesFor('function')).toEqual(['EXECUTE']);
    expect(privilegesFor('tables')).toEqual(privilegesFor('table'));
    expect(privilegesFor('types')).toEqual(['USAGE']);
    expect(privilegesFor('schemas')).toEqual(['USAGE', 'CREATE']);
  });

  it('canonicalises case, spacing and aliases', () => {
    expect(canonicalPrivilege('select')).toBe('SELECT');
    expect(canonicalPrivilege(' temp ')).toBe('TEMPORARY');
    expect(canonicalPrivilege('all   privileges')).toBe('ALL');
  });

  it('accepts ALL for every kind and rejects privileges of other kinds', () => {
    expect(isValidPrivilege('all', 'function')).toBe(true);
    expect(isValidPrivilege('Temp', 'database')).toBe(true);
    expect(isValidPrivilege('DELETE', 'column')).toBe(false);
    expect(isValidPrivilege('EXECUTE', 'table')).toBe(false);
  });
});
