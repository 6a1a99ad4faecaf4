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

const ROLE_FIELDS = Object.entries(ROLE_FIELD_ENGINES) as FieldEngines<keyof RoleConfig>[];

const SELECTORS_AND_COLUMNS = [...GRANT_SELECTORS, 'columns' as const];

// A large configuration has hundreds of thousands of fields and rarely an unsupported one. So the
// loops below look only for the fields that the engines of an entry do not support, computed once
// per set of engines, and build messages and key paths only for a field they report.

/** A field and the engines that support it. */
type FieldEngines<Field> = readonly [Field, readonly Engine[]];

/** Returns the entries of `fields` that none of `engines` supports, in the order of `fields`. */
function unsupportedOf<Field>(
  cache: Map<ReadonlySet<Engine>, readonly FieldEngines<Field>[]>,
  engines: ReadonlySet<Engine>,
  fields: readonly FieldEngines<Field>[],
): readonly FieldEngines<Field>[] {
  let unsupported = cache.get(engines);
  if (!unsupported) {
    unsupported = fields.filter(([, supported]) => !supportsAny(engines, supported));
    cache.set(engines, unsupported);
  }
  return unsupported;
}

function checkRoleFields(context: CheckContext): void {
  const cache = new Map<ReadonlySet<Engine>, readonly FieldEngines<keyof RoleConfig>[]>();

  for (const [name, role] of context.roleEntries()) {
    const engines = context.enginesOf(role.only);
    if (engines.size === 0) continue;

    for (const [field, supported] of unsupportedOf(cache, engines, ROLE_FIELDS)) {
      if (role[field] === undefined) continue;
      reportUnsupported(context, `"${field}" of role "${name}"`, supported, engines, at(context.source('roles', name), field));
    }

    // WITH INHERIT and WITH SET on a membership exist in PostgreSQL 16+ only.
    if (supportsAny(engines, POSTGRES)) continue;
    for (const [position, membership] of (role.member_of ?? []).entries()) {
      for (const option of ['inherit', 'set'] as const) {
        if (membership[option] === undefined) continue;
        const ref = at(context.source('roles', name), 'member_of', position, option);
        reportUnsupported(context, `"${option}" of member_of[${position}] of role "${name}"`, POSTGRES, engines, ref);
      }
    }
  }
}

const SELECTOR_FIELDS = SELECTORS_AND_COLUMNS.map((selector) => [selector, SELECTOR_ENGINES[selector]] as const);

function checkGrantSelectors(context: CheckContext): void {
  const cache = new Map<ReadonlySet<Engine>, readonly FieldEngines<(typeof SELECTORS_AND_COLUMNS)[number]>[]>();
  const { grants } = context.config;

  for (let index = 0; index < grants.length; index++) {
    const grant = grants[index]!;
    const engines = context.enginesOf(grant.only);
    if (engines.size === 0) continue;

    for (const [selector, supported] of unsupportedOf(cache, engines, SELECTOR_FIELDS)) {
      if (grant.on[selector] === undefined) continue;
      reportUnsupported(context, `"${selector}" in grants[${index}]`, supported, engines, at(grant.source, 'on', selector), 'selector');
    }
  }
}

/** default_privileges, row_level_security and password_encryption exist only in PostgreSQL. */
function checkPostgresSections(context: CheckContext): void {
  for (const [index, entry] of context.config.default_privileges.entries()) {
    const engines = context.enginesOf(entry.only);
    if (engines.size === 0 || supportsAny(engines, POSTGRES)) continue;
    reportUnsupported(context, `default_privileges[${index}]`, POSTGRES, engines, entry.source, 'section');
  }

  const allEngines = context.enginesOf(undefined);
  if (allEngines.size === 0 || supportsAny(allEngines, POSTGRES)) return;

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
    if (engines.size === 0 || target.manage_public === undefined || supportsAny(engines, POSTGRES)) continue;
    reportUnsupported(context, `"manage_public" of target "${name}"`, POSTGRES, engines, at(context.source('targets', name), 'manage_public'));
  }
}

/** Tells whether one of the engines an entry applies to supports a field. */
function supportsAny(engines: ReadonlySet<Engine>, supported: readonly Engine[]): boolean {
  for (const engine of engines) if (supported.includes(engine)) return true;
  return false;
}

/** Reports a field that none of the engines an entry applies to supports. */
function reportUnsupported(
  context: CheckContext,
  subject: string,
  supported: readonly Engine[],
  engines: ReadonlySet<Engine>,
  ref: SourceRef,
  noun = 'field',
): void {
  const supportedNames = [...new Set(supported.map((engine) => ENGINE_NAMES[engine]))].join('/');
  const usedNames = [...engines].map((engine) => ENGINE_NAMES[engine]).join(' and ');
  context.error(
    `${subject} is a ${supportedNames} ${noun}, but it applies only to ${usedNames} targets`,
    ref,
    `remove it; the ${usedNames} targets would ignore it`,
  );
}
