import type { PasswordPolicyConfig, SecretRef, SourceRef } from '../config/types.js';
import type { Change } from '../diff/changes.js';
import { expiryDate } from '../diff/roles.js';
import type { SourcedDiagnostic } from '../model/desired.js';
import { displayName } from '../model/names.js';
import type { ActualState, DesiredState } from '../model/types.js';
import type { SecretResolver } from '../secrets.js';

const CLASSES: Record<NonNullable<PasswordPolicyConfig['require']>[number], { test: RegExp; missing: string }> = {
  uppercase: { test: /\p{Lu}/u, missing: 'no uppercase letter' },
  lowercase: { test: /\p{Ll}/u, missing: 'no lowercase letter' },
  digits: { test: /\p{Nd}/u, missing: 'no digit' },
  special: { test: /[^\p{L}\p{Nd}]/u, missing: 'no special character' },
};

/**
 * Lists how a password falls short of the policy, in words that never contain the password: its
 * length in characters (code points) and the character classes it lacks.
 */
export function passwordProblems(password: string, policy: PasswordPolicyConfig): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (policy.min_length !== undefined && length < policy.min_length) {
    problems.push(`shorter than ${policy.min_length} characters`);
  }
  for (const required of policy.require ?? []) {
    if (!CLASSES[required].test.test(password)) problems.push(CLASSES[required].missing);
  }
  return problems;
}

/** The passwords that the changes would set: one per role, with where it is declared. */
function passwordsToSet(changes: Change[]): { role: string; ref: SecretRef; source?: SourceRef }[] {
  const passwords: { role: string; ref: SecretRef; source?: SourceRef }[] = [];
  for (const change of changes) {
    if (change.kind === 'create_role' && change.password) passwords.push({ role: change.role.name, ref: change.password, source: change.source });
    if (change.kind === 'set_password') passwords.push({ role: change.role, ref: change.password, source: change.source });
  }
  return passwords;
}

/** The credential manager's methods that the policy check uses. */
export interface PolicyCredentials {
  needsNewValue(ref: SecretRef): boolean;
  previousValues(name: string, count: number): Promise<string[]>;
}

/**
 * Checks every password the plan would set. It must be readable now (an environment variable that
 * is set, a vault entry that exists and has not expired), so that apply cannot fail on it. It must
 * also meet password_policy, so a weak password stops the plan before anything is applied. The
 * values never appear in a message: an error names the role and where its password comes from.
 */
export async function checkPasswordPolicy(
  policy: PasswordPolicyConfig | undefined,
  changes: Change[],
  secrets: SecretResolver,
  credentials?: PolicyCredentials,
): Promise<SourcedDiagnostic[]> {
  const diagnostics: SourcedDiagnostic[] = [];
  for (const { role, ref, source } of passwordsToSet(changes)) {
    // A value that apply generates meets the policy by construction and does not exist yet.
    if (credentials?.needsNewValue(ref)) continue;
    let value: string;
    try {
      value = await secrets.resolve(ref, `password of role ${role}`);
    } catch (error) {
      diagnostics.push({
        severity: 'error',
        summary: `the password of role ${displayName(role)} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        fix: ref.kind === 'env' ? `export ${ref.name}, then plan again` : `store vault entry ${ref.name} with aishell vault store, then plan again`,
        source: source ? { file: source.file, path: [...source.path, 'password'] } : undefined,
      });
      continue;
    }
    if (!policy) continue;
    const problems = passwordProblems(value, policy);
    if (policy.history && ref.kind === 'vault' && credentials) {
      const previous = await credentials.previousValues(ref.name, policy.history);
      if (previous.includes(value)) problems.push(`it equals one of the last ${policy.history} values of vault entry ${ref.name}`);
    }
    if (problems.length === 0) continue;
    diagnostics.push({
      severity: 'error',
      summary: `the password of role ${displayName(role)} (from ${ref.kind}:${ref.name}) does not meet the password policy: ${problems.join(', ')}`,
      fix: `set ${ref.kind === 'env' ? `environment variable ${ref.name}` : `vault entry ${ref.name}`} to a password that meets password_policy, then plan again`,
      source: source ? { file: source.file, path: [...source.path, 'password'] } : undefined,
    });
  }
  return diagnostics;
}

/**
 * Reports stored passwords that the policy would not accept and that this plan does not replace:
 * roles whose expiry lies beyond expiration_days, and passwords that are not SCRAM-SHA-256
 * verifiers. A connection can fix neither without a new password, so these are warnings.
 */
export function storedPasswordFindings(
  policy: PasswordPolicyConfig | undefined,
  checkHashes: boolean,
  desired: DesiredState,
  actual: ActualState,
  changes: Change[],
  now: Date,
  policySource?: SourceRef,
): SourcedDiagnostic[] {
  const diagnostics: SourcedDiagnostic[] = [];
  const replaced = new Set(passwordsToSet(changes).map((each) => each.role));
  const declared = new Map(desired.roles.map((role) => [role.name, role]));

  const days = policy?.expiration_days;
  if (days !== undefined) {
    const limit = expiryDate(now, days);
    for (const role of actual.roles) {
      const wanted = declared.get(role.name);
      if (!wanted?.login || replaced.has(role.name) || role.password.kind === 'none') continue;
      if (role.validUntil !== null && role.validUntil <= limit) continue;
      diagnostics.push({
        severity: 'warning',
        summary: `role ${displayName(role.name)} has a password valid until ${role.validUntil ?? 'infinity'}, beyond the ${days} days of password_policy.expiration_days`,
        fix: wanted.passwordExpiryDays !== undefined
          ? 'rotate the password (change the value it comes from); aishell sets VALID UNTIL whenever it sets a password'
          : `set valid_until of role ${role.name} to a date within ${days} days, or remove it so that the policy sets the expiry`,
        source: wanted.source ?? policySource,
      });
    }
  }

  if (checkHashes) {
    for (const role of actual.roles) {
      if (role.system || replaced.has(role.name)) continue;
      if (role.password.kind !== 'md5' && role.password.kind !== 'other') continue;
      const kind = role.password.kind === 'md5' ? 'an MD5 hash' : 'not a SCRAM-SHA-256 verifier';
      diagnostics.push({
        severity: 'warning',
        summary: `role ${displayName(role.name)} has a stored password that is ${kind}`,
        fix: declared.get(role.name)?.password
          ? 'plan again after the current plan is applied; aishell replaces it when the declared password is set'
          : `declare a password for role ${role.name} (password: \${vault:NAME}) so that aishell stores a SCRAM-SHA-256 verifier, or set one with ALTER ROLE … PASSWORD while password_encryption is scram-sha-256`,
        source: declared.get(role.name)?.source ?? policySource,
      });
    }
  }
  return diagnostics;
}
