/**
 * PostgreSQL privilege names per object kind, as GRANT accepts them (PostgreSQL 17 documentation,
 * "GRANT" and "ALTER DEFAULT PRIVILEGES"). The validator checks declared privileges against these
 * lists; expanding ALL into them is the model's job, because it depends on the server version.
 */

/** Object kinds of grants (singular) and of default privileges (plural, as `on:` spells them). */
export type PrivilegeObjectKind =
  | 'database'
  | 'schema'
  | 'table'
  | 'column'
  | 'sequence'
  | 'function'
  | 'tables'
  | 'sequences'
  | 'functions'
  | 'types'
  | 'schemas';

const DATABASE = ['CREATE', 'CONNECT', 'TEMPORARY'] as const;
const SCHEMA = ['USAGE', 'CREATE'] as const;

/** MAINTAIN exists from PostgreSQL 17 on; older servers reject it when the grant runs. */
const TABLE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN'] as const;
const COLUMN = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'] as const;
const SEQUENCE = ['USAGE', 'SELECT', 'UPDATE'] as const;
const FUNCTION = ['EXECUTE'] as const;
const TYPE = ['USAGE'] as const;

const PRIVILEGES: Record<PrivilegeObjectKind, readonly string[]> = {
  database: DATABASE,
  schema: SCHEMA,
  table: TABLE,
  column: COLUMN,
  sequence: SEQUENCE,
  function: FUNCTION,
  tables: TABLE,
  sequences: SEQUENCE,
  functions: FUNCTION,
  types: TYPE,
  schemas: SCHEMA,
};

/** Alternative spellings that PostgreSQL accepts, mapped to the name it stores. */
export const PRIVILEGE_ALIASES: Readonly<Record<string, string>> = {
  TEMP: 'TEMPORARY',
  'ALL PRIVILEGES': 'ALL',
};

/**
 * Returns the canonical privileges of an object kind, without ALL. Columns take fewer privileges
 * than tables; `types` and `schemas` occur only in default privileges.
 */
export function privilegesFor(kind: PrivilegeObjectKind): readonly string[] {
  return PRIVILEGES[kind];
}

/** Upper-cases a privilege name, collapses inner whitespace and resolves aliases (TEMP → TEMPORARY). */
export function canonicalPrivilege(name: string): string {
  const upper = name.trim().replace(/\s+/g, ' ').toUpperCase();
  return PRIVILEGE_ALIASES[upper] ?? upper;
}

/** Tells whether a privilege name (any case, aliases allowed) is valid for the kind; ALL always is. */
export function isValidPrivilege(name: string, kind: PrivilegeObjectKind): boolean {
  const canonical = canonicalPrivilege(name);
  return canonical === 'ALL' || PRIVILEGES[kind].includes(canonical);
}
