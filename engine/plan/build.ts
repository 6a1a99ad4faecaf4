import path from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';
import type { SecurityConfig, SourcePosition, SourceRef } from '../config/types.js';
import type { Change } from '../diff/changes.js';
import { CHANGE_SYMBOL } from '../diff/changes.js';
import { diff } from '../diff/diff.js';
import type { PasswordStatus } from '../diff/roles.js';
import { buildDesiredState, type SourcedDiagnostic } from '../model/desired.js';
import { resolveSessionRoles } from '../model/desired-rls.js';
import type { ActualState, DesiredState, Policy } from '../model/types.js';
import type { ProviderSession } from '../provider.js';
import type { CredentialManager } from '../credentials/manager.js';
import type { SecretResolver } from '../secrets.js';
import { fingerprint, referencedRoles } from './fingerprint.js';
import { orderChanges } from './order.js';
import { checkPasswordPolicy, storedPasswordFindings } from './password-policy.js';
import { providerFor, redactUrl } from './providers.js';
import type { PlannedChange, TargetPlan } from './types.js';

export interface PlanContext {
  config: SecurityConfig;
  configPath: string;
  secrets: SecretResolver;
  /** Declared vault credentials and their rotation; absent when the file declares none. */
  credentials?: CredentialManager;
}

const ACTIONS: Record<'+' | '~' | '-', PlannedChange['action']> = { '+': 'create', '~': 'update', '-': 'delete' };

/** Opens a provider session on a target, with its connection password resolved. */
export async function connectTarget(context: PlanContext, targetName: string): Promise<ProviderSession> {
  const target = context.config.targets[targetName];
  const provider = await providerFor(target.engine);
  const password = target.password
    ? await context.secrets.resolve(target.password, `password of target ${targetName}`)
    : undefined;
  return provider.connect({
    targetName,
    url: target.url,
    password,
    databases: target.databases,
    baseDir: path.dirname(path.resolve(context.configPath)),
  });
}

/**
 * Inspects one target and computes its ordered changes. The session stays open. `inspection` is
 * the session's own inspection when it was started earlier.
 */
export async function planTarget(
  context: PlanContext,
  targetName: string,
  session: ProviderSession,
  inspection?: Promise<ActualState>,
): Promise<{ plan: TargetPlan; actual: ActualState }> {
  const { config } = context;
  const target = config.targets[targetName];
  const actual = await (inspection ?? session.inspect());
  const built = buildDesiredState(config, targetName, session.primaryDatabase);
  const now = new Date();

  // Policy expressions and role setting values are compared in the server's own form, and the
  // audit and encryption sections become server settings. Both need the provider, so they are
  // resolved here, and diff stays a pure comparison.
  const serverPolicy = session.serverPolicy(config, actual);
  const policies = resolveSessionRoles(built.desired.policies, actual.currentUser);

  // A declared expression already written as the server prints it needs no check: a converged
  // database, the usual case for scheduled drift checks, then takes no table lock at all.
  const stored = new Map<string, Policy>();
  for (const database of actual.databases) {
    for (const policy of database.policies) stored.set(policyKey(policy), policy);
  }
  const canonical = (policy: Policy) => {
    const current = stored.get(policyKey(policy));
    return current !== undefined && current.using === policy.using && current.withCheck === policy.withCheck;
  };
  const normalised = await session.normalise({ policies: policies.filter((policy) => !canonical(policy)), roleSettings: built.desired.roleSettings });
  const desired: DesiredState = {
    ...built.desired,
    policies: [...policies.filter(canonical), ...normalised.policies],
    roleSettings: [...normalised.roleSettings, ...serverPolicy.roleSettings],
    serverSettings: serverPolicy.serverSettings,
  };

  const passwordCheck = await checkPasswords(session, targetName, desired, actual, context);
  const result = diff({
    target: targetName,
    desired,
    actual,
    now,
    scope: {
      ignoreRoles: target.ignore_roles ?? [],
      dropUnmanagedRoles: target.drop_unmanaged_roles ?? false,
      managePublic: target.manage_public ?? false,
    },
    managedDatabases: session.managedDatabases,
    privileges: session.privileges,
    membershipOptions: session.membershipOptions,
    passwords: passwordCheck.statuses,
  });

  const policyDiagnostics = await checkPasswordPolicy(config.password_policy, result.changes, context.secrets, context.credentials);
  const checkHashes = config.password_policy !== undefined || config.encryption?.password_encryption === 'scram-sha-256';
  const passwordSource = config.sources.keys.get('password_policy');
  const findings = storedPasswordFindings(config.password_policy, checkHashes, desired, actual, result.changes, now, passwordSource);

  const diagnostics = [
    ...built.diagnostics,
    ...normalised.diagnostics,
    ...serverPolicy.diagnostics,
    ...result.diagnostics,
    ...policyDiagnostics,
    ...findings,
  ].map((each) => locate(context, each));
  diagnostics.push(...passwordCheck.diagnostics);

  const changes = orderChanges(result.changes).map((change) => toPlanned(change, session));
  const scope: FingerprintScope = {
    roles: target.drop_unmanaged_roles ? null : referencedRoles(desired),
    settings: new Set((desired.serverSettings ?? []).map((setting) => setting.name)),
  };
  const plan: TargetPlan = {
    name: targetName,
    engine: target.engine,
    url: redactUrl(target.url),
    databases: session.managedDatabases,
    serverVersion: actual.serverVersion,
    fingerprint: fingerprint(actual, scope.roles, scope.settings),
    changes,
    diagnostics,
    unmanagedRoles: result.unmanagedRoles,
  };
  scopes.set(plan, scope);
  return { actual, plan };
}

/** The roles and server settings that the fingerprint of a target plan covers; see fingerprint(). */
export interface FingerprintScope {
  roles: ReadonlySet<string> | null;
  settings: ReadonlySet<string>;
}

/** The scopes of the target plans that this process made; a plan read from a file has none. */
const scopes = new WeakMap<TargetPlan, FingerprintScope>();

/**
 * Returns what the fingerprint of `plan` covers when this process made the plan, so that apply
 * can take the same fingerprint of the live state again without planning again.
 */
export function fingerprintScope(plan: TargetPlan): FingerprintScope | undefined {
  return scopes.get(plan);
}

function toPlanned(change: Change, session: ProviderSession): PlannedChange {
  const symbol = CHANGE_SYMBOL[change.kind];
  return {
    address: change.address,
    action: ACTIONS[symbol],
    symbol,
    destructive: change.destructive,
    change,
    statements: session.describe(change),
  };
}

function locate(context: PlanContext, diagnostic: SourcedDiagnostic): Diagnostic {
  const { source, ...rest } = diagnostic;
  if (!source) return rest;
  try {
    return { ...rest, position: context.config.sources.locate(source) };
  } catch {
    return rest;
  }
}

/**
 * Compares each declared password of an existing role with its stored SCRAM verifier, so that a
 * password that already matches is not set again and the second plan stays empty. A password from
 * a credential due for rotation is marked to be set to a new generated value. During an
 * interrupted rotation, both the pending and the current value count as a match.
 */
async function checkPasswords(
  session: ProviderSession,
  targetName: string,
  desired: DesiredState,
  actual: ActualState,
  context: PlanContext,
): Promise<{ statuses: Map<string, PasswordStatus>; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const statuses = new Map<string, PasswordStatus>();
  const existing = new Map(actual.roles.map((role) => [role.name, role]));
  const credentials = context.credentials;
  const unreadable: string[] = [];

  for (const role of desired.roles) {
    if (!role.password) continue;
    credentials?.noteRole(role.password, `${targetName}: ${role.name}`);
    const current = existing.get(role.name);
    if (!current) continue;

    if (credentials?.needsNewValue(role.password)) {
      statuses.set(role.name, 'rotate');
      continue;
    }
    if (current.password.kind === 'unreadable') {
      statuses.set(role.name, 'unknown');
      unreadable.push(role.name);
      continue;
    }

    const purpose = `password of role ${role.name}`;
    let candidates: { value: string; pending: boolean }[];
    try {
      candidates = credentials
        ? await credentials.candidates(role.password, purpose)
        : [{ value: await context.secrets.resolve(role.password, purpose), pending: false }];
    } catch (error) {
      // Reported with the role's line; the other roles are still checked, so one run lists all.
      const position = role.source ? locatePosition(context, { file: role.source.file, path: [...role.source.path, 'password'] }) : undefined;
      diagnostics.push({
        severity: 'error',
        summary: `the password of role ${role.name} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        fix: role.password.kind === 'env' ? `export ${role.password.name}, then plan again` : `store vault entry ${role.password.name}, then plan again`,
        ...(position ? { position } : {}),
      });
      statuses.set(role.name, 'unknown');
      continue;
    }
    let status: PasswordStatus = 'differs';
    for (const candidate of candidates) {
      status = session.checkPassword(candidate.value, current.password);
      if (status !== 'differs') {
        if (status === 'match' && candidate.pending && role.password.kind === 'vault') credentials?.notePendingTaken(role.password.name);
        break;
      }
    }
    statuses.set(role.name, status);
  }

  if (unreadable.length > 0) {
    diagnostics.push({
      severity: 'warning',
      summary: `the stored passwords of ${unreadable.length} existing role(s) cannot be read by the connecting role, so they are not compared and not set again: ${unreadable.join(', ')}`,
      fix: 'connect as a superuser to manage passwords of existing roles',
    });
  }
  return { statuses, diagnostics };
}

export function formatDiagnostics(diagnostics: Diagnostic[]): string {
  return diagnostics.map(formatDiagnostic).join('\n');
}

function locatePosition(context: PlanContext, source: SourceRef): SourcePosition | undefined {
  try {
    return context.config.sources.locate(source);
  } catch {
    return undefined;
  }
}

function policyKey(policy: Policy): string {
  return [policy.database, policy.schema, policy.table, policy.name].join('\0');
}
