import type { Engine, GrantObjectConfig } from './types.js';
import type { PrivilegeObjectKind } from './privileges.js';

/** The object selectors of a grant's `on:`, exactly one of which a grant sets. */
export const GRANT_SELECTORS = [
  'database',
  'schema',
  'schemas',
  'table',
  'tables',
  'sequence',
  'sequences',
  'function',
  'functions',
  'global',
  'routine',
  'cluster',
  'collection',
] as const satisfies readonly (keyof GrantObjectConfig)[];

export type GrantSelector = (typeof GRANT_SELECTORS)[number];

/** Engines on which each selector means something. */
export const SELECTOR_ENGINES: Record<GrantSelector | 'columns', readonly Engine[]> = {
  database: ['postgres', 'mysql', 'mariadb', 'mongodb'],
  schema: ['postgres'],
  schemas: ['postgres'],
  table: ['postgres', 'mysql', 'mariadb'],
  tables: ['postgres'],
  columns: ['postgres', 'mysql', 'mariadb'],
  sequence: ['postgres'],
  sequences: ['postgres'],
  function: ['postgres'],
  functions: ['postgres'],
  global: ['mysql', 'mariadb'],
  routine: ['mysql', 'mariadb'],
  cluster: ['mongodb'],
  collection: ['mongodb'],
};

const SELECTOR_SET: ReadonlySet<string> = new Set(GRANT_SELECTORS);

/** Returns the selector that a grant's `on:` sets, or undefined when it sets none or several. */
export function selectorOf(on: GrantObjectConfig): GrantSelector | undefined {
  // The checks call this twice for every grant. An `on:` has one or two keys, so walking its keys
  // takes about half the time of asking it for each of the 13 selectors.
  let found: GrantSelector | undefined;
  for (const key in on) {
    if (!SELECTOR_SET.has(key) || on[key as GrantSelector] === undefined) continue;
    if (found !== undefined) return undefined;
    found = key as GrantSelector;
  }
  return found;
}

/** Returns the PostgreSQL privilege kind of a selector, or undefined for selectors of other engines. */
export function postgresPrivilegeKind(on: GrantObjectConfig): PrivilegeObjectKind | undefined {
  const selector = selectorOf(on);
  switch (selector) {
    case 'database':
      return 'database';
    case 'schema':
    case 'schemas':
      return 'schema';
    case 'table':
    case 'tables':
      return on.columns !== undefined ? 'column' : 'table';
    case 'sequence':
    case 'sequences':
      return 'sequence';
    case 'function':
    case 'functions':
      return 'function';
    default:
      return undefined;
  }
}
