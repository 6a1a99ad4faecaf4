import { randomBytes } from 'node:crypto';
import type { SourcedDiagnostic } from '../../engine/model/desired.js';
import { displayName, displayQualified } from '../../engine/model/names.js';
import type { Policy, RoleSetting } from '../../engine/model/types.js';
import type { NormaliseInput, NormaliseResult } from '../../engine/provider.js';
import type { SqlClient } from './client.js';
import { checkExpressionText } from './expression.js';
import { quoteIdent } from './quote.js';
import { createPolicySql, settingNameSql, settingValueSql } from './statements-security.js';

/** How long normalisation waits for a table lock before it reports the policy as not checked. */
const LOCK_TIMEOUT = '5s';

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Asks the server for the canonical form of declared values: policy expressions as pg_get_expr
 * prints them and role setting values as pg_db_role_setting stores them. Each value is created
 * for real inside a transaction that is always rolled back, one savepoint per value, so a value
 * that the server rejects becomes a diagnostic with the server's message and the others go on.
 */
export async function normaliseDeclared(
  primary: SqlClient,
  clients: Map<string, SqlClient>,
  input: NormaliseInput,
): Promise<NormaliseResult> {
  const diagnostics: SourcedDiagnostic[] = [];
  const roleSettings = await normaliseRoleSettings(primary, input.roleSettings, diagnostics);

  const policies: Policy[] = [];
  const byDatabase = new Map<string, Policy[]>();
  for (const policy of input.policies) byDatabase.set(policy.database, [...(byDatabase.get(policy.database) ?? []), policy]);
  for (const [database, declared] of byDatabase) {
    const client = clients.get(database);
    // A database the target does not manage is reported by diff; its policies are left as declared.
    if (!client) {
      policies.push(...declared);
      continue;
    }
    policies.push(...(await normalisePolicies(client, declared, diagnostics)));
  }
  return { policies, roleSettings, diagnostics };
}

/**
 * Creates each declared policy under a temporary name on its real table and reads back the
 * deparsed expressions. The roles are left out (TO PUBLIC), because declared roles may not exist
 * yet and do not change how an expression is printed.
 * NOTE: CREATE POLICY takes an ACCESS EXCLUSIVE lock on the table until the savepoint is rolled
 * back, so reads of the table wait for that moment. lock_timeout bounds the wait for the lock.
 */
async function normalisePolicies(client: SqlClient, declared: Policy[], diagnostics: SourcedDiagnostic[]): Promise<Policy[]> {
  const normalised: Policy[] = [];
  const temporaryName = `aishell_check_${randomBytes(6).toString('hex')}`;

  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    for (const policy of declared) {
      const problem = [policy.using, policy.withCheck].map((text) => (text === null ? null : checkExpressionText(text))).find(Boolean);
      if (problem) {
        diagnostics.push(policyError(policy, problem));
        continue;
      }

      await client.query('SAVEPOINT aishell_normalise');
      try {
        await client.query(createPolicySql({ ...policy, roles: ['PUBLIC'] }, temporaryName));
        const [row] = await client.query<{ using: string | null; with_check: string | null }>(
          `SELECT pg_get_expr(polqual, polrelid) AS using, pg_get_expr(polwithcheck, polrelid) AS with_check
           FROM pg_policy WHERE polrelid = $1::regclass AND polname = $2`,
          [`${quoteIdent(policy.schema)}.${quoteIdent(policy.table)}`, temporaryName],
        );
        normalised.push({ ...policy, using: row.using, withCheck: row.with_check });
      } catch (error) {
        diagnostics.push(policyError(policy, `the server rejected it: ${errorMessage(error)}`));
      } finally {
        await client.query('ROLLBACK TO SAVEPOINT aishell_normalise');
      }
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return normalised;
}

function policyError(policy: Policy, message: string): SourcedDiagnostic {
  return {
    severity: 'error',
    summary: `policy ${displayName(policy.name)} on table ${displayQualified(policy.schema, policy.table)} in database ${displayName(policy.database)}: ${message}`,
    fix: 'correct the table name or the USING and WITH CHECK expressions; the table and every function they call must exist before plan',
    source: policy.source,
  };
}

/**
 * Sets each declared value on a temporary role and reads back the stored `name=value` text, so
 * `30s`, `'$user', public` or a YAML number compare equal to what inspect reads later.
 */
async function normaliseRoleSettings(client: SqlClient, declared: RoleSetting[], diagnostics: SourcedDiagnostic[]): Promise<RoleSetting[]> {
  if (declared.length === 0) return [];
  const role = `aishell_check_${randomBytes(6).toString('hex')}`;
  const normalised: RoleSetting[] = [];

  await client.query('BEGIN');
  try {
    try {
      await client.query(`CREATE ROLE ${quoteIdent(role)} NOLOGIN`);
    } catch (error) {
      diagnostics.push({
        severity: 'warning',
        summary: `role settings are compared as written, because the connecting role cannot create a role to check them: ${errorMessage(error)}`,
        fix: 'connect as a role with CREATEROLE, or write each value as the server stores it (SELECT setconfig FROM pg_db_role_setting)',
      });
      return declared;
    }

    for (const setting of declared) {
      await client.query('SAVEPOINT aishell_normalise');
      try {
        await client.query(`ALTER ROLE ${quoteIdent(role)} SET ${settingNameSql(setting.name)} = ${settingValueSql(setting.name, setting.value)}`);
        const [row] = await client.query<{ entry: string }>(
          `SELECT s.setconfig[1] AS entry FROM pg_db_role_setting s
           WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND s.setdatabase = 0`,
          [role],
        );
        const split = row.entry.indexOf('=');
        normalised.push({ ...setting, name: row.entry.slice(0, split), value: row.entry.slice(split + 1) });
      } catch (error) {
        diagnostics.push({
          severity: 'error',
          summary: `setting ${setting.name} of role ${displayName(setting.role)}: the server rejected it: ${errorMessage(error)}`,
          fix: 'correct the parameter name or its value; SHOW ALL lists the parameters this server knows',
          source: setting.source,
        });
      } finally {
        await client.query('ROLLBACK TO SAVEPOINT aishell_normalise');
      }
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return normalised;
}
