import { parseQualifiedName } from '../../model/names.js';
import type { CheckContext } from './context.js';

/** NAMEDATALEN - 1: PostgreSQL truncates longer policy names, so the plan would never converge. */
const POSTGRES_MAX_NAME_BYTES = 63;

/**
 * Checks row_level_security beyond the schema: one table written under several keys
 * (`orders`, `public.orders`, `"public"."orders"`), policy names PostgreSQL would truncate, and
 * PUBLIC listed beside other roles, which PostgreSQL reduces to PUBLIC alone.
 */
export function checkPolicies(context: CheckContext): void {
  const seen = new Map<string, string>();
  for (const [key, table] of Object.entries(context.config.row_level_security)) {
    const source = context.source('row_level_security', key);
    const name = parseQualifiedName(key);
    if (name) {
      const identity = `${table.database ?? ''}\0${name.schema}\0${name.name}`;
      const first = seen.get(identity);
      if (first !== undefined) {
        const where = context.config.sources.locate(context.source('row_level_security', first));
        context.error(
          `table ${JSON.stringify(key)} is the same table as ${JSON.stringify(first)} (${where.file}:${where.line})`,
          source,
          'declare each table once, under one key',
        );
      }
      seen.set(identity, key);
    }

    for (const [policyName, policy] of Object.entries(table.policies ?? {})) {
      const policySource = { file: source.file, path: [...source.path, 'policies', policyName] };
      if (Buffer.byteLength(policyName, 'utf8') > POSTGRES_MAX_NAME_BYTES) {
        context.error(
          `policy name ${JSON.stringify(policyName)} is longer than ${POSTGRES_MAX_NAME_BYTES} bytes, and PostgreSQL would shorten it`,
          policySource,
          'use a shorter policy name',
        );
      }
      const roles = policy.roles ?? [];
      if (roles.some((role) => role.toUpperCase() === 'PUBLIC') && roles.length > 1) {
        context.error(
          `policy ${JSON.stringify(policyName)} lists PUBLIC with other roles, and PostgreSQL keeps only PUBLIC`,
          { file: source.file, path: [...policySource.path, 'roles'] },
          'list PUBLIC alone, or only the other roles',
        );
      }
    }
  }
}
