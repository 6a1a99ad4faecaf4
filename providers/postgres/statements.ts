import type { SecretRef } from '../../engine/config/types.js';
import type { Change, ChangeKind } from '../../engine/diff/changes.js';
import type { DefaultPrivilege, Grant, Membership, ObjectRef, RoleAttributes } from '../../engine/model/types.js';
import { quoteGrantee, quoteIdent, quoteLiteral, quoteQualified } from './quote.js';
import { SECURITY_BUILDERS, type SecurityStatement } from './statements-security.js';

/**
 * One SQL statement of a change. `sql` is what runs; `display` is what plans, logs and the
 * ledger show, with every password replaced by where it comes from.
 */
export interface Statement {
  sql: string;
  display: string;
  /** Database whose connection runs it; null: the target's primary connection. */
  database: string | null;
  /** Runs after every transaction has committed (ALTER SYSTEM cannot run in a transaction). */
  outsideTransaction?: boolean;
}

/** Turns a declared password into the SCRAM verifier sent to the server, or null at plan time. */
export type PasswordHasher = ((ref: SecretRef) => string) | null;

type Builder<K extends ChangeKind> = (change: Extract<Change, { kind: K }>, hash: PasswordHasher) => Statement[];

const ATTRIBUTE_KEYWORDS: [keyof RoleAttributes, string, string][] = [
  ['login', 'LOGIN', 'NOLOGIN'],
  ['superuser', 'SUPERUSER', 'NOSUPERUSER'],
  ['createdb', 'CREATEDB', 'NOCREATEDB'],
  ['createrole', 'CREATEROLE', 'NOCREATEROLE'],
  ['replication', 'REPLICATION', 'NOREPLICATION'],
  ['bypassrls', 'BYPASSRLS', 'NOBYPASSRLS'],
  ['inherit', 'INHERIT', 'NOINHERIT'],
];

/** Builds the role options of CREATE ROLE or ALTER ROLE for the given attributes. */
function roleOptions(attributes: Partial<RoleAttributes>): string[] {
  const options: string[] = [];
  for (const [field, yes, no] of ATTRIBUTE_KEYWORDS) {
    const value = attributes[field];
    if (value !== undefined) options.push(value ? yes : no);
  }
  if (attributes.connectionLimit !== undefined) options.push(`CONNECTION LIMIT ${Math.trunc(attributes.connectionLimit)}`);
  if (attributes.validUntil !== undefined) {
    options.push(`VALID UNTIL ${quoteLiteral(attributes.validUntil ?? 'infinity')}`);
  }
  return options;
}

function passwordOption(ref: SecretRef, hash: PasswordHasher): { sql: string; display: string } {
  // Not valid SQL on purpose: the placeholder can never be mistaken for a literal password.
  const masked = `PASSWORD <secret from ${ref.kind}:${ref.name}>`;
  return { sql: hash ? `PASSWORD ${quoteLiteral(hash(ref))}` : masked, display: masked };
}

function plain(sql: string, database: string | null = null): Statement {
  return { sql, display: sql, database };
}

function commentStatement(role: string, comment: string | null): Statement {
  return plain(`COMMENT ON ROLE ${quoteIdent(role)} IS ${comment === null ? 'NULL' : quoteLiteral(comment)}`);
}

/** Formats an object for GRANT and REVOKE: the keyword after ON and the quoted name. */
function objectSql(object: ObjectRef): string {
  switch (object.kind) {
    case 'database':
      return `DATABASE ${quoteIdent(object.name)}`;
    case 'schema':
      return `SCHEMA ${quoteIdent(object.name)}`;
    case 'table':
    case 'column':
      return `TABLE ${quoteQualified(object.schema, object.name)}`;
    case 'sequence':
      return `SEQUENCE ${quoteQualified(object.schema, object.name)}`;
    case 'function':
      return `ROUTINE ${routineSql(object)}`;
  }
}

/**
 * Formats a routine as `"schema"."name"(integer, text)`. The bare name is quoted on its own,
 * because a name may contain parentheses. The argument list comes from format_type on the
 * server, which quotes every type name that needs it, and never from the file.
 */
function routineSql(object: ObjectRef): string {
  const routine = object.routine;
  if (routine === undefined || !object.name.startsWith(`${routine}(`) || !object.name.endsWith(')')) {
    throw new Error(`function ${object.name} has no bare name from the catalog; plan again to refresh it`);
  }
  return `${quoteQualified(object.schema, routine)}${object.name.slice(routine.length)}`;
}

function privilegeSql(grant: Grant): string {
  return grant.object.kind === 'column' ? `${grant.privilege} (${quoteIdent(grant.object.column ?? '')})` : grant.privilege;
}

function defaultPrivilegePrefix(entry: DefaultPrivilege): string {
  const schema = entry.schema === null ? '' : ` IN SCHEMA ${quoteIdent(entry.schema)}`;
  return `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(entry.forRole)}${schema}`;
}

function defaultObjectKeyword(entry: DefaultPrivilege): string {
  return entry.objectType.toUpperCase();
}

function membershipOptions(membership: Membership): string {
  const options: string[] = [];
  if (membership.admin) options.push('ADMIN OPTION');
  if (membership.inherit !== null) options.push(`INHERIT ${membership.inherit ? 'TRUE' : 'FALSE'}`);
  if (membership.set !== null) options.push(`SET ${membership.set ? 'TRUE' : 'FALSE'}`);
  return options.length > 0 ? ` WITH ${options.join(', ')}` : '';
}

/** Adapts a builder of statements-security.ts, whose statements hold no secret to mask. */
function security<K extends keyof typeof SECURITY_BUILDERS>(kind: K): Builder<K> {
  const build = SECURITY_BUILDERS[kind] as (change: Extract<Change, { kind: K }>) => SecurityStatement[];
  return (change) => build(change).map((statement) => ({ ...statement, display: statement.sql }));
}

const BUILDERS: { [K in ChangeKind]: Builder<K> } = {
  create_role(change, hash) {
    const options = roleOptions(change.role);
    const password = change.password ? passwordOption(change.password, hash) : null;
    const head = `CREATE ROLE ${quoteIdent(change.role.name)} WITH ${options.join(' ')}`;
    const statements: Statement[] = [
      password
        ? { sql: `${head} ${password.sql}`, display: `${head} ${password.display}`, database: null }
        : plain(head),
    ];
    if (change.role.comment !== null) statements.push(commentStatement(change.role.name, change.role.comment));
    return statements;
  },

  alter_role(change) {
    const { comment, ...attributes } = change.after;
    const statements: Statement[] = [];
    const options = roleOptions(attributes);
    if (options.length > 0) statements.push(plain(`ALTER ROLE ${quoteIdent(change.role)} WITH ${options.join(' ')}`));
    if (comment !== undefined) statements.push(commentStatement(change.role, comment));
    return statements;
  },

  set_password(change, hash) {
    const password = passwordOption(change.password, hash);
    const expiry = change.validUntil === undefined ? '' : ` VALID UNTIL ${quoteLiteral(change.validUntil)}`;
    const head = `ALTER ROLE ${quoteIdent(change.role)} WITH`;
    return [{ sql: `${head} ${password.sql}${expiry}`, display: `${head} ${password.display}${expiry}`, database: null }];
  },

  drop_role(change) {
    const role = quoteIdent(change.role);
    const heir = change.reassignOwnedTo === null ? 'CURRENT_USER' : quoteIdent(change.reassignOwnedTo);
    const statements: Statement[] = [];
    for (const database of change.databases) {
      statements.push(plain(`REASSIGN OWNED BY ${role} TO ${heir}`, database));
      statements.push(plain(`DROP OWNED BY ${role}`, database));
    }
    statements.push(plain(`DROP ROLE ${role}`));
    return statements;
  },

  grant(change) {
    const grant = change.grant;
    const option = grant.grantOption ? ' WITH GRANT OPTION' : '';
    return [plain(`GRANT ${privilegeSql(grant)} ON ${objectSql(grant.object)} TO ${quoteGrantee(grant.grantee)}${option}`, grant.database)];
  },

  revoke(change) {
    const grant = change.grant;
    const what = change.grantOptionOnly ? `GRANT OPTION FOR ${privilegeSql(grant)}` : privilegeSql(grant);
    // CASCADE also takes away what the grantee passed on with its grant option; without it the
    // revoke fails with "dependent privileges exist".
    const revoke = plain(`REVOKE ${what} ON ${objectSql(grant.object)} FROM ${quoteGrantee(grant.grantee)} CASCADE`, grant.database);
    if (!grant.grantor) return [revoke];

    // A grant made by a role other than the owner can only be revoked by that role: before
    // PostgreSQL 16, GRANTED BY accepts only the current user.
    return [plain(`SET ROLE ${quoteIdent(grant.grantor)}`, grant.database), revoke, plain('RESET ROLE', grant.database)];
  },

  grant_membership(change) {
    const { role, member } = change.membership;
    return [plain(`GRANT ${quoteIdent(role)} TO ${quoteIdent(member)}${membershipOptions(change.membership)}`)];
  },

  revoke_membership(change) {
    const { role, member } = change.membership;
    const what = change.adminOptionOnly ? `ADMIN OPTION FOR ${quoteIdent(role)}` : quoteIdent(role);
    // PostgreSQL 16+ keeps one membership per grantor; GRANTED BY names the one to remove.
    const grantor = change.membership.grantor ? ` GRANTED BY ${quoteIdent(change.membership.grantor)}` : '';
    return [plain(`REVOKE ${what} FROM ${quoteIdent(member)}${grantor}`)];
  },

  grant_default_privilege(change) {
    const entry = change.defaultPrivilege;
    const option = entry.grantOption ? ' WITH GRANT OPTION' : '';
    return [
      plain(
        `${defaultPrivilegePrefix(entry)} GRANT ${entry.privilege} ON ${defaultObjectKeyword(entry)} TO ${quoteGrantee(entry.grantee)}${option}`,
        entry.database,
      ),
    ];
  },

  revoke_default_privilege(change) {
    const entry = change.defaultPrivilege;
    const what = change.grantOptionOnly ? `GRANT OPTION FOR ${entry.privilege}` : entry.privilege;
    return [
      plain(
        `${defaultPrivilegePrefix(entry)} REVOKE ${what} ON ${defaultObjectKeyword(entry)} FROM ${quoteGrantee(entry.grantee)}`,
        entry.database,
      ),
    ];
  },

  alter_rls: security('alter_rls'),
  create_policy: security('create_policy'),
  alter_policy: security('alter_policy'),
  drop_policy: security('drop_policy'),
  set_role_setting: security('set_role_setting'),
  reset_role_setting: security('reset_role_setting'),
  set_server_setting: security('set_server_setting'),
};

/** Builds the statements of one change. With `hash` null, passwords appear only as their source. */
export function statementsFor(change: Change, hash: PasswordHasher): Statement[] {
  const build = BUILDERS[change.kind] as Builder<ChangeKind>;
  return build(change as never, hash);
}
