import { displayName, displayQualified } from '../model/names.js';
import type { DefaultPrivilege, Grant, Membership, ObjectRef, Policy, RoleSetting, ServerSetting } from '../model/types.js';

/**
 * Addresses are the stable names of changes that reviewers quote in a pull request, such as
 * `prod/app: grant SELECT on table public.orders to readonly`. They depend only on what changes,
 * never on the order of the plan, so the same change has the same address in every plan.
 */

export function clusterPrefix(target: string): string {
  return `${target}:`;
}

export function databasePrefix(target: string, database: string): string {
  return `${target}/${database}:`;
}

export function describeObject(object: ObjectRef): string {
  switch (object.kind) {
    case 'database':
    case 'schema':
      return `${object.kind} ${displayName(object.name)}`;
    case 'column':
      return `column ${displayQualified(object.schema, object.name)}.${displayName(object.column ?? '')}`;
    case 'function':
      return `function ${displayName(object.schema ?? '')}.${object.name}`;
    default:
      return `${object.kind} ${displayQualified(object.schema, object.name)}`;
  }
}

export function grantee(name: string): string {
  return name === 'PUBLIC' ? 'PUBLIC' : displayName(name);
}

export function grantAddress(target: string, grant: Grant, verb: 'grant' | 'revoke', grantOptionOnly = false): string {
  const what = grantOptionOnly ? `grant option for ${grant.privilege}` : grant.privilege;
  const direction = verb === 'grant' ? 'to' : 'from';
  return `${databasePrefix(target, grant.database)} ${verb} ${what} on ${describeObject(grant.object)} ${direction} ${grantee(grant.grantee)}`;
}

export function defaultPrivilegeAddress(
  target: string,
  entry: DefaultPrivilege,
  verb: 'grant' | 'revoke',
  grantOptionOnly = false,
): string {
  const where = entry.schema === null ? '' : ` in schema ${displayName(entry.schema)}`;
  const what = grantOptionOnly ? `grant option for ${entry.privilege}` : entry.privilege;
  const direction = verb === 'grant' ? 'to' : 'from';
  return `${databasePrefix(target, entry.database)} default privileges for ${displayName(entry.forRole)}${where}: ${verb} ${what} on ${entry.objectType} ${direction} ${grantee(entry.grantee)}`;
}

export function membershipAddress(target: string, membership: Membership, verb: 'grant' | 'revoke', adminOnly = false): string {
  const what = adminOnly ? `admin option for role ${displayName(membership.role)}` : `role ${displayName(membership.role)}`;
  const direction = verb === 'grant' ? 'to' : 'from';
  return `${clusterPrefix(target)} ${verb} ${what} ${direction} ${displayName(membership.member)}`;
}

export function roleAddress(target: string, verb: string, role: string): string {
  return `${clusterPrefix(target)} ${verb} role ${displayName(role)}`;
}

export function rlsAddress(target: string, database: string, schema: string, table: string): string {
  return `${databasePrefix(target, database)} alter row level security of table ${displayQualified(schema, table)}`;
}

export function policyAddress(target: string, verb: 'create' | 'alter' | 'drop', policy: Policy): string {
  return `${databasePrefix(target, policy.database)} ${verb} policy ${displayName(policy.name)} on table ${displayQualified(policy.schema, policy.table)}`;
}

/** `prod: set statement_timeout of role app_user` or `… of role app_user in database app`. */
export function roleSettingAddress(target: string, verb: 'set' | 'reset', setting: RoleSetting): string {
  const where = setting.database === null ? '' : ` in database ${displayName(setting.database)}`;
  return `${clusterPrefix(target)} ${verb} ${setting.name} of role ${displayName(setting.role)}${where}`;
}

/** `prod: set pgaudit.log = 'ddl, role' (server, needs reload)`. */
export function serverSettingAddress(target: string, setting: ServerSetting): string {
  const effect = setting.needsRestart ? 'needs restart' : 'needs reload';
  return `${clusterPrefix(target)} set ${setting.name} = '${setting.value.replace(/'/g, "''")}' (server, ${effect})`;
}
