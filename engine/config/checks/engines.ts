/**
 * Engine-specific fields. A field is an error when none of the targets its entry applies to runs
 * an engine that supports it, because it would be silently ignored everywhere. A role that spans
 * engines may carry the fields of each: every engine reads its own and skips the others.
 */
import { GRANT_SELECTORS, SELECTOR_ENGINES } from '../selectors.js';
import type { Engine, RoleConfig, SourceRef } from '../types.js';
import { at, CheckContext } from './context.js';

const POSTGRES: readonly Engine[] = ['postgres'];
const MYSQL_FAMILY: readonly Engine[] = ['mysql', 'mariadb'];
const POSTGRES_AND_MYSQL: readonly Engine[] = ['postgres', 'mysql', 'mariadb'];

/** Role fields that not every engine has; fields not listed apply to every engine. */
const ROLE_FIELD_ENGINES: Partial<Record<keyof RoleConfig, readonly Engine[]>> = {
  superuser: POSTGRES,
  createdb: POSTGRES,
  createrole: POSTGRES,
  replication: POSTGRES,
  bypassrls: POSTGRES,
  inherit: POSTGRES,
  connection_limit: POSTGRES,
  valid_until: POSTGRES,
  settings: POSTGRES,
  settings_in: POSTGRES,
  comment: POSTGRES,
  reassign_owned_to: POSTGRES_AND_MYSQL,
  hosts: MYSQL_FAMILY,
  require: MYSQL_FAMILY,
  max_user_connections: MYSQL_FAMILY,
  password_expire_days: MYSQL_FAMILY,
  default_roles: MYSQL_FAMILY,
  db: ['mongodb'],
};

const ENGINE_NAMES: Record<Engine, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
  mongodb: 'MongoDB',
};

export function checkEngineFields(context: CheckContext): void {
  checkRoleFields(context);
  checkGrantSelectors(context);
  checkPostgresSections(context);
  checkTargetFields(context);
}

function checkRoleFields(context: CheckContext): void {
  for (const [name, role] of Object.entries(context.config.roles)) {
    const engines = context.enginesOf(role.only);
    if (engines.size === 0) continue;
    const source = context.source('roles', name);

    for (const [field, supported] of Object.entries(ROLE_FIELD_ENGINES) as [keyof RoleConfig, readonly Engine[]][]) {
      if (role[field] === undefined) continue;
      reportUnsupported(context, `"${field}" of role "${name}"`, supported, engines, at(source, field));
    }

    // WITH INHERIT and WITH SET on a membership exist in PostgreSQL 16+ only.
    for (const [position, membership] of (role.member_of ?? []).entries()) {
      for (const option of ['inherit', 'set'] as const) {
        if (membership[option] === undefined) continue;
        reportUnsupported(context, `"${option}" of member_of[${position}] of role "${name}"`, POSTGRES, engines, at(source, 'member_of', position, option));
      }
    }
  }
}

function checkGrantSelectors(context: CheckContext): void {
  for (const [index, grant] of context.config.grants.entries()) {
    const engines = context.enginesOf(grant.only);
    if (engines.size === 0) continue;

    for (const selector of [...GRANT_SELECTORS, 'columns' as const]) {
      if (grant.on[selector] === undefined) continue;
      reportUnsupported(context, `"${selector}" in grants[${index}]`, SELECTOR_ENGINES[selector], engines, at(grant.source, 'on', selector), 'selector');
    }
  }
}

/** default_privileges, row_level_security and password_encryption exist only in PostgreSQL. */
function checkPostgresSections(context: CheckContext): void {
  for (const [index, entry] of context.config.default_privileges.entries()) {
    const engines = context.enginesOf(entry.only);
    if (engines.size === 0) continue;
    reportUnsupported(context, `default_privileges[${index}]`, POSTGRES, engines, entry.source, 'section');
  }

  const allEngines = context.enginesOf(undefined);
  if (allEngines.size === 0) return;

  for (const table of Object.keys(context.config.row_level_security)) {
    reportUnsupported(context, `row-level security of table "${table}"`, POSTGRES, allEngines, context.source('row_level_security', table), 'section');
  }
  if (context.config.encryption?.password_encryption !== undefined) {
    reportUnsupported(context, '"password_encryption" of encryption', POSTGRES, allEngines, at(context.sectionSource('encryption'), 'password_encryption'));
  }
}

function checkTargetFields(context: CheckContext): void {
  for (const [name, target] of Object.entries(context.config.targets)) {
    const engines = context.enginesOf([name]);
    if (engines.size === 0) continue;
    const source = context.source('targets', name);
    if (target.manage_public !== undefined) reportUnsupported(context, `"manage_public" of target "${name}"`, POSTGRES, engines, at(source, 'manage_public'));
  }
}

function reportUnsupported(
  context: CheckContext,
  subject: string,
  supported: readonly Engine[],
  engines: ReadonlySet<Engine>,
  ref: SourceRef,
  noun = 'field',
): void {
  if ([...engines].some((engine) => supported.includes(engine))) return;

  const supportedNames = [...new Set(supported.map((engine) => ENGINE_NAMES[engine]))].join('/');
  const usedNames = [...engines].map((engine) => ENGINE_NAMES[engine]).join(' and ');
  context.error(
    `${subject} is a ${supportedNames} ${noun}, but it applies only to ${usedNames} targets`,
    ref,
    `remove it; the ${usedNames} targets would ignore it`,
  );
}
