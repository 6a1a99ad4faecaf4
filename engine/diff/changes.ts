import type { SecretRef, SourceRef } from '../config/types.js';
import type {
  DefaultPrivilege,
  DesiredRole,
  Grant,
  Membership,
  Policy,
  RlsTable,
  RoleAttributes,
  RoleSetting,
  ServerSetting,
} from '../model/types.js';

/**
 * The closed vocabulary of changes that a plan can hold. Providers turn each kind into
 * statements through an exhaustive `Record<ChangeKind, …>`, so a new kind does not compile until
 * every provider handles it.
 */
export type Change =
  | CreateRole
  | AlterRole
  | SetPassword
  | DropRole
  | GrantPrivilege
  | RevokePrivilege
  | GrantMembership
  | RevokeMembership
  | GrantDefaultPrivilege
  | RevokeDefaultPrivilege
  | AlterRowLevelSecurity
  | CreatePolicy
  | AlterPolicy
  | DropPolicy
  | SetRoleSetting
  | ResetRoleSetting
  | SetServerSetting;

export type ChangeKind = Change['kind'];

/** Fields shared by every change. */
interface ChangeBase {
  /** Stable address that reviewers quote, such as `prod/app: grant SELECT on table public.orders to readonly`. */
  address: string;
  /** Database whose transaction runs the change; null for cluster-wide changes (roles). */
  database: string | null;
  /** True when the change removes access or data: revokes and drops. */
  destructive: boolean;
  source?: SourceRef;
}

export interface CreateRole extends ChangeBase {
  kind: 'create_role';
  role: DesiredRole;
  /** Set when the role is created with a password; the value is resolved only at apply. */
  password?: SecretRef;
}

export interface AlterRole extends ChangeBase {
  kind: 'alter_role';
  role: string;
  /** Only the attributes that differ, before and after. */
  before: Partial<RoleAttributes>;
  after: Partial<RoleAttributes>;
}

export interface SetPassword extends ChangeBase {
  kind: 'set_password';
  role: string;
  password: SecretRef;
  /** Why the password is set: the stored verifier differs, or there was none. */
  reason: 'differs' | 'missing' | 'not_scram' | 'rotate';
  /** VALID UNTIL set with the password (password_policy.expiration_days), as ISO 8601 in UTC. */
  validUntil?: string;
}

export interface DropRole extends ChangeBase {
  kind: 'drop_role';
  role: string;
  /** Objects the role owns are reassigned here before DROP OWNED; null: the connecting role. */
  reassignOwnedTo: string | null;
  /** Every managed database, where REASSIGN OWNED and DROP OWNED run before the drop. */
  databases: string[];
}

export interface GrantPrivilege extends ChangeBase {
  kind: 'grant';
  grant: Grant;
}

export interface RevokePrivilege extends ChangeBase {
  kind: 'revoke';
  grant: Grant;
  /** True when only WITH GRANT OPTION is taken away and the privilege itself stays. */
  grantOptionOnly: boolean;
}

export interface GrantMembership extends ChangeBase {
  kind: 'grant_membership';
  membership: Membership;
}

export interface RevokeMembership extends ChangeBase {
  kind: 'revoke_membership';
  membership: Membership;
  /** True when only ADMIN OPTION is taken away and the membership stays. */
  adminOptionOnly: boolean;
}

export interface GrantDefaultPrivilege extends ChangeBase {
  kind: 'grant_default_privilege';
  defaultPrivilege: DefaultPrivilege;
}

export interface RevokeDefaultPrivilege extends ChangeBase {
  kind: 'revoke_default_privilege';
  defaultPrivilege: DefaultPrivilege;
  grantOptionOnly: boolean;
}

/** Turns row-level security of a table on or off, or forces it on the owner; only what differs. */
export interface AlterRowLevelSecurity extends ChangeBase {
  kind: 'alter_rls';
  table: { schema: string; name: string };
  before: Partial<Pick<RlsTable, 'enabled' | 'force'>>;
  after: Partial<Pick<RlsTable, 'enabled' | 'force'>>;
}

export interface CreatePolicy extends ChangeBase {
  kind: 'create_policy';
  policy: Policy;
}

/**
 * Changes the roles or expressions of a policy in place (ALTER POLICY). A change of command or
 * of permissive, or an expression removed, cannot be altered and is planned as drop and create.
 */
export interface AlterPolicy extends ChangeBase {
  kind: 'alter_policy';
  policy: Policy;
  before: Partial<Pick<Policy, 'roles' | 'using' | 'withCheck'>>;
  after: Partial<Pick<Policy, 'roles' | 'using' | 'withCheck'>>;
}

export interface DropPolicy extends ChangeBase {
  kind: 'drop_policy';
  policy: Policy;
}

/** ALTER ROLE … [IN DATABASE …] SET; `before` is the stored value, null when the role had none. */
export interface SetRoleSetting extends ChangeBase {
  kind: 'set_role_setting';
  setting: RoleSetting;
  before: string | null;
}

export interface ResetRoleSetting extends ChangeBase {
  kind: 'reset_role_setting';
  setting: RoleSetting;
}

/**
 * ALTER SYSTEM SET. It cannot run inside a transaction, so apply runs it after every database
 * transaction has committed, then reloads the configuration. `before` is the configured value,
 * null when the parameter was not set.
 */
export interface SetServerSetting extends ChangeBase {
  kind: 'set_server_setting';
  setting: ServerSetting;
  before: string | null;
}

/**
 * For a revoke that a role other than the owner makes: how many roles other than the owner
 * granted the privilege on its way to that role, as the diff read it from the catalog. Plans run
 * deeper revokes first, because a revoke further up the chain takes the privilege, with CASCADE,
 * from every role below. Kept beside the change rather than in it, because changes are written
 * into plan files.
 */
export const REVOKE_CHAIN_DEPTH = new WeakMap<Change, number>();

/** The plan symbol of each change kind, as users see it: + adds, ~ changes, - removes. */
export const CHANGE_SYMBOL: Record<ChangeKind, '+' | '~' | '-'> = {
  create_role: '+',
  alter_role: '~',
  set_password: '~',
  drop_role: '-',
  grant: '+',
  revoke: '-',
  grant_membership: '+',
  revoke_membership: '-',
  grant_default_privilege: '+',
  revoke_default_privilege: '-',
  alter_rls: '~',
  create_policy: '+',
  alter_policy: '~',
  drop_policy: '-',
  set_role_setting: '~',
  reset_role_setting: '-',
  set_server_setting: '~',
};
