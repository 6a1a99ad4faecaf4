import { describe, expect, it } from 'vitest';
import { GRANT_SELECTORS, postgresPrivilegeKind, selectorOf } from '../../engine/config/selectors.js';

describe('selectorOf', () => {
  it('returns the one selector set', () => {
    for (const selector of GRANT_SELECTORS) {
      expect(selectorOf({ [selector]: selector === 'global' || selector === 'cluster' ? true : 'x' })).toBe(selector);
    }
  });

  it('ignores columns and undefined values', () => {
    expect(selectorOf({ table: 'public.t', columns: ['a'] })).toBe('table');
    expect(selectorOf({ table: undefined, schema: 'public' })).toBe('schema');
  });

  it('returns undefined for none or several', () => {
    expect(selectorOf({})).toBeUndefined();
    expect(selectorOf({ columns: ['a'] })).toBeUndefined();
    expect(selectorOf({ table: 'public.t', schema: 'public' })).toBeUndefined();
  });

  it('maps selectors to PostgreSQL kinds', () => {
    expect(postgresPrivilegeKind({ tables: ['public.t'], columns: ['a'] })).toBe('column');
    expect(postgresPrivilegeKind({ sequences: ['public.s'] })).toBe('sequence');
    expect(postgresPrivilegeKind({ global: true })).toBeUndefined();
  });
});
