import type { SecurityConfig, SourceRef } from '../config/types.js';
import type { SourcedDiagnostic } from './desired.js';
import { parseQualifiedName } from './names.js';
import { PUBLIC, type Policy, type RlsTable } from './types.js';

/**
 * Builds the declared row-level security of one target: one RlsTable per table key of
 * `row_level_security` and one Policy per declared policy. Expressions are still as written;
 * the provider replaces them with the server's deparsed form before diff.
 */
export function buildRowLevelSecurity(
  config: SecurityConfig,
  primaryDatabase: string,
): { tables: RlsTable[]; policies: Policy[]; diagnostics: SourcedDiagnostic[] } {
  const tables: RlsTable[] = [];
  const policies: Policy[] = [];
  const diagnostics: SourcedDiagnostic[] = [];

  for (const [key, entry] of Object.entries(config.row_level_security)) {
    const source = config.sources.keys.get(`row_level_security.${key}`);
    const name = parseQualifiedName(key);
    if (!name) {
      diagnostics.push({
        severity: 'error',
        summary: `invalid table name ${JSON.stringify(key)} in row_level_security`,
        fix: 'write schema.table, such as public.orders',
        source,
      });
      continue;
    }

    const database = entry.database ?? primaryDatabase;
    tables.push({ database, ...splitName(name), enabled: entry.enabled ?? true, force: entry.force ?? false, source });

    for (const [policyName, policy] of Object.entries(entry.policies ?? {})) {
      policies.push({
        database,
        ...splitName(name),
        name: policyName,
        command: policy.command ?? 'ALL',
        roles: canonicalPolicyRoles(policy.roles ?? []),
        permissive: policy.permissive ?? true,
        using: policy.using ?? null,
        withCheck: policy.with_check ?? null,
        source: source ? policySource(source, policyName) : undefined,
      });
    }
  }
  return { tables, policies, diagnostics };
}

function splitName(name: { schema: string; name: string }): { schema: string; table: string } {
  return { schema: name.schema, table: name.name };
}

function policySource(table: SourceRef, policy: string): SourceRef {
  return { file: table.file, path: [...table.path, 'policies', policy] };
}

/**
 * Puts the roles of a policy in the form the catalog lists them: sorted, without duplicates,
 * PUBLIC in upper case (the keyword is case-insensitive in SQL), and PUBLIC alone for no role.
 */
export function canonicalPolicyRoles(roles: readonly string[]): string[] {
  const names = new Set(roles.map((role) => (role.toLowerCase() === 'public' ? PUBLIC : role)));
  if (names.size === 0) return [PUBLIC];
  return [...names].sort();
}

/** Role keywords that a policy may name; PostgreSQL stores the role they stand for at creation. */
const SESSION_ROLES = new Set(['current_user', 'current_role', 'session_user']);

/**
 * Replaces CURRENT_USER, CURRENT_ROLE and SESSION_USER in policy roles with the connecting role,
 * which is what they mean when aishell runs CREATE POLICY, so they compare with the catalog.
 */
export function resolveSessionRoles(policies: Policy[], currentUser: string): Policy[] {
  return policies.map((policy) =>
    policy.roles.some((role) => SESSION_ROLES.has(role.toLowerCase()))
      ? { ...policy, roles: canonicalPolicyRoles(policy.roles.map((role) => (SESSION_ROLES.has(role.toLowerCase()) ? currentUser : role))) }
      : policy,
  );
}
