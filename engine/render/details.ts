import type { SecretRef } from '../config/types.js';
import type { Change, ChangeKind, SetPassword } from '../diff/changes.js';
import { displayName } from '../model/names.js';
import { SECURITY_DETAILS } from './details-security.js';
import { ROLE_ATTRIBUTE_DEFAULTS, type RoleAttributes } from '../model/types.js';

/**
 * One line of detail under a change, such as `login: false -> true`. Values are plain text that
 * each renderer still escapes for its output. `before` is set when the line shows a transition.
 */
export interface ChangeDetail {
  label: string;
  value: string;
  before?: string;
  /** The value is a sentence, not a name or literal, so Markdown shows it as text, not code. */
  prose?: boolean;
}

/** Attribute labels, spelled as the keys of security.yaml. */
const ATTRIBUTE_LABELS: Record<keyof RoleAttributes, string> = {
  login: 'login',
  superuser: 'superuser',
  createdb: 'createdb',
  createrole: 'createrole',
  replication: 'replication',
  bypassrls: 'bypassrls',
  inherit: 'inherit',
  connectionLimit: 'connection_limit',
  validUntil: 'valid_until',
  comment: 'comment',
};

const PASSWORD_REASONS: Record<SetPassword['reason'], string> = {
  differs: 'the stored password differs from the declared one',
  missing: 'the role has no password',
  not_scram: 'the stored password is not a SCRAM-SHA-256 verifier',
  rotate: 'its vault credential gets a new generated value',
};

/** Shows where a password comes from, never its value: `(from env:APP_PW)`. */
export function passwordSource(ref: SecretRef): string {
  return `(from ${ref.kind}:${ref.name})`;
}

function attributeValue(attribute: keyof RoleAttributes, value: RoleAttributes[keyof RoleAttributes] | undefined): string {
  if (attribute === 'connectionLimit' && value === -1) return 'unlimited';
  if (attribute === 'validUntil' && value === null) return 'infinity';
  if (attribute === 'comment') return value === null || value === undefined ? '(none)' : JSON.stringify(value);
  return String(value);
}

function attributeKeys(attributes: Partial<RoleAttributes>): (keyof RoleAttributes)[] {
  return (Object.keys(ATTRIBUTE_LABELS) as (keyof RoleAttributes)[]).filter((key) => attributes[key] !== undefined);
}

const flag = (label: string, on: boolean | null): ChangeDetail[] => (on === null ? [] : [{ label, value: String(on) }]);

const DETAILS: { [K in ChangeKind]: (change: Extract<Change, { kind: K }>) => ChangeDetail[] } = {
  create_role(change) {
    const details = attributeKeys(change.role)
      .filter((key) => change.role[key] !== ROLE_ATTRIBUTE_DEFAULTS[key])
      .map((key) => ({ label: ATTRIBUTE_LABELS[key], value: attributeValue(key, change.role[key]) }));
    if (change.password) details.push({ label: 'password', value: passwordSource(change.password) });
    return details;
  },

  alter_role(change) {
    return attributeKeys(change.after).map((key) => ({
      label: ATTRIBUTE_LABELS[key],
      before: attributeValue(key, change.before[key]),
      value: attributeValue(key, change.after[key]),
    }));
  },

  set_password(change) {
    const details: ChangeDetail[] = [
      { label: 'password', value: passwordSource(change.password) },
      { label: 'reason', value: PASSWORD_REASONS[change.reason] ?? change.reason, prose: true },
    ];
    if (change.validUntil !== undefined) details.push({ label: 'valid_until', value: change.validUntil });
    return details;
  },

  drop_role(change) {
    const heir: ChangeDetail =
      change.reassignOwnedTo === null
        ? { label: 'reassign owned objects to', value: 'the connecting role', prose: true }
        : { label: 'reassign owned objects to', value: displayName(change.reassignOwnedTo) };
    return [
      heir,
      { label: 'in databases', value: change.databases.map(displayName).join(', ') },
    ];
  },

  grant(change) {
    return change.grant.grantOption ? [{ label: 'with grant option', value: 'true' }] : [];
  },

  revoke(change) {
    return change.grant.grantor ? [{ label: 'granted by', value: displayName(change.grant.grantor) }] : [];
  },

  grant_membership(change) {
    const { admin, inherit, set } = change.membership;
    return [...(admin ? flag('admin option', true) : []), ...flag('inherit', inherit), ...flag('set', set)];
  },

  revoke_membership() {
    return [];
  },

  grant_default_privilege(change) {
    return change.defaultPrivilege.grantOption ? [{ label: 'with grant option', value: 'true' }] : [];
  },

  revoke_default_privilege() {
    return [];
  },

  ...SECURITY_DETAILS,
};

/** Returns the detail lines of a change. The address names what changes, and these lines show how. */
export function changeDetails(change: Change): ChangeDetail[] {
  const describe = DETAILS[change.kind] as ((change: Change) => ChangeDetail[]) | undefined;
  return describe ? describe(change) : [];
}
