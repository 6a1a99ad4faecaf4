import type { DefaultObjectType, GrantObjectKind } from '../../engine/model/types.js';

/**
 * What a PostgreSQL server supports, by version. Every version check of the provider lives here,
 * so inspect, diff and statements ask a flag instead of comparing version numbers themselves.
 */
export interface PostgresCapabilities {
  serverVersion: number;
  /** MAINTAIN on tables (PostgreSQL 17+). */
  maintainPrivilege: boolean;
  /** INHERIT and SET options on a membership (PostgreSQL 16+). */
  membershipOptions: boolean;
  /** Privileges that ALL expands to, per object kind. */
  privileges: Record<GrantObjectKind | DefaultObjectType, string[]>;
  /**
   * ALTER SYSTEM and a configuration reload reach a running server. False for embedded PGlite,
   * which has no postmaster to reload and no network, so audit and TLS settings do not apply.
   */
  serverConfiguration: boolean;
  /** Major version in Debian's package names, such as 15 in postgresql-15-pgaudit. */
  majorVersion: number;
}

export function capabilitiesFor(serverVersion: number, embedded = false): PostgresCapabilities {
  const maintainPrivilege = serverVersion >= 170000;
  const table = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
  if (maintainPrivilege) table.push('MAINTAIN');
  const sequence = ['USAGE', 'SELECT', 'UPDATE'];
  const routine = ['EXECUTE'];
  const schema = ['USAGE', 'CREATE'];

  return {
    serverVersion,
    maintainPrivilege,
    membershipOptions: serverVersion >= 160000,
    serverConfiguration: !embedded,
    majorVersion: Math.floor(serverVersion / 10000),
    privileges: {
      database: ['CREATE', 'CONNECT', 'TEMPORARY'],
      schema,
      table,
      column: ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'],
      sequence,
      function: routine,
      tables: table,
      sequences: sequence,
      functions: routine,
      types: ['USAGE'],
      schemas: schema,
    },
  };
}
