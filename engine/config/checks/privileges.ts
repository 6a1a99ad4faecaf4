/**
 * PostgreSQL rules for grants, default privileges and policies that a JSON Schema cannot state:
 * which privileges fit which object kind, and which clauses fit together.
 */
import { canonicalPrivilege, privilegesFor, type PrivilegeObjectKind } from '../privileges.js';
import { postgresPrivilegeKind } from '../selectors.js';
import { closestMatch } from '../suggest.js';
import type { SourceRef } from '../types.js';
import { at, CheckContext, isPublic } from './context.js';

const KIND_NAMES: Record<PrivilegeObjectKind, string> = {
  database: 'a database',
  schema: 'a schema',
  table: 'tables',
  column: 'columns',
  sequence: 'sequences',
  function: 'functions',
  tables: 'tables',
  sequences: 'sequences',
  functions: 'functions',
  types: 'types',
  schemas: 'schemas',
};

const ALL_POSTGRES_PRIVILEGES = new Set(
  (['database', 'schema', 'table', 'sequence', 'function', 'types'] as const).flatMap((kind) => privilegesFor(kind)),
);

export function checkPrivileges(context: CheckContext): void {
  const { grants } = context.config;
  for (let index = 0; index < grants.length; index++) {
    const grant = grants[index]!;
    if (!appliesToPostgres(context, grant.only)) continue;
    const kind = postgresPrivilegeKind(grant.on);
    // The name of the grant is built only for a finding, because most grants have none.
    if (kind && !allValid(grant.privileges, kind)) checkPrivilegeNames(context, grant.privileges, kind, grant.source, `grants[${index}]`);
    if (grant.with_grant_option === true) checkGrantOptionToPublic(context, grant.to, grant.with_grant_option, grant.source, `grants[${index}]`);
  }

  for (const [index, entry] of context.config.default_privileges.entries()) {
    const owner = `default_privileges[${index}]`;
    if (!appliesToPostgres(context, entry.only)) continue;
    // `on` is any text when the schema reported it, such as `constructor`.
    if (Object.hasOwn(KIND_NAMES, entry.on)) checkPrivilegeNames(context, entry.privileges, entry.on, entry.source, owner);
    checkGrantOptionToPublic(context, entry.to, entry.with_grant_option, entry.source, owner);

    if (entry.on === 'schemas' && entry.in_schema !== undefined) {
      context.error(
        `${owner} sets in_schema with on: schemas; PostgreSQL has no default privileges for schemas inside a schema`,
        at(entry.source, 'in_schema'),
        'remove in_schema',
      );
    }
  }

  checkPolicies(context);
}

/**
 * Entries of a configuration without valid targets are checked as PostgreSQL, the default engine.
 * NOTE: privilege names of grants that apply only to MySQL, MariaDB or MongoDB are not checked here.
 */
function appliesToPostgres(context: CheckContext, only: readonly string[] | undefined): boolean {
  const engines = context.enginesOf(only);
  return engines.size === 0 || engines.has('postgres');
}

/** Privileges that each object kind accepts, with ALL. */
const VALID_PRIVILEGES = Object.create(null) as Record<PrivilegeObjectKind, readonly string[]>;
for (const kind of Object.keys(KIND_NAMES) as PrivilegeObjectKind[]) VALID_PRIVILEGES[kind] = [...privilegesFor(kind), 'ALL'];

/** Tells whether every privilege is valid for the kind. A name already in canonical form is not converted. */
function allValid(privileges: readonly string[], kind: PrivilegeObjectKind): boolean {
  const valid = VALID_PRIVILEGES[kind];
  for (const privilege of privileges) {
    if (!valid.includes(privilege) && !valid.includes(canonicalPrivilege(privilege))) return false;
  }
  return true;
}

function checkPrivilegeNames(context: CheckContext, privileges: readonly string[], kind: PrivilegeObjectKind, source: SourceRef, owner: string): void {
  const valid = VALID_PRIVILEGES[kind];

  for (const [position, privilege] of privileges.entries()) {
    const canonical = canonicalPrivilege(privilege);
    if (valid.includes(canonical)) continue;

    const closest = closestMatch(canonical, valid);
    const fix = closest !== undefined ? `did you mean "${closest}"?` : `privileges for ${KIND_NAMES[kind]}: ${valid.join(', ')}`;
    const summary = ALL_POSTGRES_PRIVILEGES.has(canonical)
      ? `privilege "${privilege}" in ${owner} does not apply to ${KIND_NAMES[kind]}`
      : `unknown privilege "${privilege}" in ${owner}`;
    context.error(summary, at(source, 'privileges', position), fix, true);
  }
}

function checkGrantOptionToPublic(
  context: CheckContext,
  grantees: readonly string[],
  withGrantOption: boolean | undefined,
  source: SourceRef,
  owner: string,
): void {
  if (withGrantOption !== true) return;
  const position = grantees.findIndex(isPublic);
  if (position < 0) return;
  context.error(
    `${owner} gives PUBLIC the grant option, which PostgreSQL allows only for roles`,
    at(source, 'with_grant_option'),
    'remove with_grant_option, or grant to a role',
  );
}

/** PostgreSQL rejects USING on INSERT policies and WITH CHECK on SELECT and DELETE policies. */
function checkPolicies(context: CheckContext): void {
  for (const [table, rls] of Object.entries(context.config.row_level_security)) {
    const source = context.source('row_level_security', table);
    for (const [name, policy] of Object.entries(rls.policies ?? {})) {
      const command = policy.command ?? 'ALL';
      const ref = at(source, 'policies', name);

      if (command === 'INSERT' && typeof policy.using === 'string') {
        context.error(`policy "${name}" of table "${table}" is for INSERT, which takes no "using" expression`, at(ref, 'using'), 'move the condition to with_check');
      }
      if ((command === 'SELECT' || command === 'DELETE') && typeof policy.with_check === 'string') {
        context.error(
          `policy "${name}" of table "${table}" is for ${command}, which takes no "with_check" expression`,
          at(ref, 'with_check'),
          'move the condition to using',
        );
      }
    }
  }
}
