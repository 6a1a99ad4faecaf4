/**
 * Checks of single role declarations that the schema cannot express: names PostgreSQL would
 * reject or truncate, fields that only make sense together, and conflicts with `ignore_roles`.
 */
import type { SourceRef } from '../types.js';
import { at, CheckContext, isPublic } from './context.js';
import { globToRegExp } from '../../glob.js';

/** NAMEDATALEN - 1: PostgreSQL truncates longer identifiers, so the plan would never converge. */
const POSTGRES_MAX_NAME_BYTES = 63;

/** Role names that CREATE ROLE rejects as reserved (PostgreSQL 16). */
const POSTGRES_RESERVED = new Set(['public', 'none', 'current_user', 'session_user', 'current_role']);

export function checkRoles(context: CheckContext): void {
  const ignored = new Map<string, RegExp>();
  const isIgnoredBy = (pattern: string, name: string): boolean => {
    let regExp = ignored.get(pattern);
    if (!regExp) {
      regExp = globToRegExp(pattern);
      ignored.set(pattern, regExp);
    }
    return regExp.test(name);
  };

  for (const [name, role] of context.roleEntries()) {
    // Looked up only for a finding, because most roles have none.
    const source = (): SourceRef => context.source('roles', name);

    if (context.enginesOf(role.only).has('postgres')) checkPostgresName(context, name);

    if (role.reassign_owned_to !== undefined && role.state !== 'absent') {
      context.error(
        `role "${name}" sets reassign_owned_to, which applies only when the role is dropped`,
        at(source(), 'reassign_owned_to'),
        'add state: absent to drop the role, or remove reassign_owned_to',
      );
    }
    if (role.reassign_owned_to === name) {
      context.error(`role "${name}" reassigns its objects to itself`, at(source(), 'reassign_owned_to'), 'name the role that takes over the objects', true);
    }

    if (role.password !== undefined && role.login !== true && role.state !== 'absent') {
      context.warning(
        `role "${name}" has a password but cannot log in (login is false)`,
        at(source(), 'password'),
        'add login: true, or remove the password',
      );
    }

    if (role.default_roles !== undefined && role.default_roles.length > 0) {
      const groups = new Set((role.member_of ?? []).map((membership) => membership.role));
      for (const [position, defaultRole] of role.default_roles.entries()) {
        if (groups.has(defaultRole)) continue;
        context.error(
          `default role "${defaultRole}" of role "${name}" is not in its member_of`,
          at(source(), 'default_roles', position),
          `add "${defaultRole}" to member_of; MySQL activates only roles that are granted`,
          true,
        );
      }
    }

    for (const [targetName, target] of context.targetsOf(role.only)) {
      const pattern = target.ignore_roles?.find((each) => isIgnoredBy(each, name));
      if (pattern === undefined) continue;
      context.error(
        `role "${name}" is declared, but target "${targetName}" ignores it (ignore_roles: ${pattern})`,
        source(),
        `remove the role, narrow the pattern, or exclude the target with only:`,
      );
    }

    if (role.valid_until !== undefined && !isRealDate(role.valid_until)) {
      context.error(`"valid_until" of role "${name}" is not a real date: ${role.valid_until}`, at(source(), 'valid_until'), undefined, true);
    }
  }
}

function checkPostgresName(context: CheckContext, name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  const lowerCase = name.toLowerCase();

  if (bytes > POSTGRES_MAX_NAME_BYTES) {
    context.error(
      `role name "${name}" is ${bytes} bytes long; PostgreSQL truncates names to ${POSTGRES_MAX_NAME_BYTES} bytes`,
      context.source('roles', name),
      'shorten the name',
    );
  }
  if (isPublic(name) || POSTGRES_RESERVED.has(lowerCase)) {
    context.error(`role name "${name}" is reserved in PostgreSQL`, context.source('roles', name), 'choose another name');
  } else if (lowerCase.startsWith('pg_')) {
    context.error(`role name "${name}" starts with pg_, which PostgreSQL reserves for system roles`, context.source('roles', name), 'choose another name');
  }
}

/** Tells whether the date part names a real day (no 2027-02-30); the schema checks only its form. */
function isRealDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!match) return true;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
