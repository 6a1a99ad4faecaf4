import type { PasswordPolicyConfig, SecretRef, SecurityConfig } from '../config/types.js';
import { SecretError, type SecretResolver } from '../secrets.js';
import { parseDuration } from './duration.js';
import type { CredentialAction, PlannedCredential } from './types.js';

/** The part of the vault that credentials need; engine/vault's Vault implements it. */
export interface CredentialVault {
  has(name: string): Promise<boolean>;
  get(name: string, options?: { reason?: string; allowExpired?: boolean }): Promise<string>;
  entry(name: string): Promise<{ version: number; updated: Date; pending: { created: Date } | null }>;
  history(name: string, options?: { reason?: string }): Promise<string[]>;
  setPending(name: string, value: string, options?: { reason?: string; replace?: boolean }): Promise<void>;
  getPending(name: string, options?: { reason?: string }): Promise<string>;
  commitPending(name: string, options?: { reason?: string }): Promise<unknown>;
  discardPending(name: string, options?: { reason?: string }): Promise<void>;
}

/** State of one declared credential before any target is inspected. */
type Assessment =
  | { state: 'missing' }
  | { state: 'current' }
  | { state: 'due'; updated: Date }
  | { state: 'pending'; hasCommittedValue: boolean };

const GENERATED_LENGTH = 32;
/** Attempts before giving up on a generated value that differs from every kept value. */
const MAX_GENERATE_ATTEMPTS = 20;

/**
 * Resolves secrets for plan and apply, and carries declared credentials through rotation. A new
 * value is stored as pending, set in the databases, and made current only after they commit. A
 * failure at any step therefore leaves the vault and the databases agreeing on one password.
 */
export class CredentialManager implements SecretResolver {
  private vault?: Promise<CredentialVault>;
  private readonly assessments = new Map<string, Assessment>();
  /** Pending credentials whose new value some role already has (found while planning). */
  private readonly pendingTaken = new Set<string>();
  private readonly rolesByCredential = new Map<string, string[]>();
  /** Credentials rotated by this apply: their pending value is what statements use. */
  private readonly rotating = new Set<string>();

  constructor(
    private readonly config: SecurityConfig,
    private readonly env: NodeJS.ProcessEnv,
    private readonly openVault?: () => Promise<CredentialVault>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private getVault(purpose: string): Promise<CredentialVault> {
    if (!this.openVault) throw new SecretError(`${purpose} refers to the vault, but no vault is configured`);
    this.vault ??= this.openVault();
    return this.vault;
  }

  /** True when `name` is declared under credentials, so aishell generates and rotates it. */
  isDeclared(name: string): boolean {
    return Object.hasOwn(this.config.credentials, name);
  }

  /** Reads the vault state of every declared credential; call once before planning targets. */
  async assess(): Promise<void> {
    for (const [name, declared] of Object.entries(this.config.credentials)) {
      const vault = await this.getVault(`credential ${name}`);
      if (!(await vault.has(name))) {
        this.assessments.set(name, { state: 'missing' });
        continue;
      }
      const entry = await vault.entry(name);
      if (entry.pending) {
        this.assessments.set(name, { state: 'pending', hasCommittedValue: entry.version > 0 });
        continue;
      }
      const every = declared.rotate_every ? parseDuration(declared.rotate_every) : null;
      const due = every !== null && this.now().getTime() - entry.updated.getTime() >= every;
      this.assessments.set(name, due ? { state: 'due', updated: entry.updated } : { state: 'current' });
    }
  }

  /** Whether a role's password from `ref` must be set to a newly generated value by this plan. */
  needsNewValue(ref: SecretRef): boolean {
    if (ref.kind !== 'vault') return false;
    const state = this.assessments.get(ref.name)?.state;
    return state === 'missing' || state === 'due';
  }

  /** Returns the values a stored verifier may match: the pending one first, if any. */
  async candidates(ref: SecretRef, purpose: string): Promise<{ value: string; pending: boolean }[]> {
    const assessment = ref.kind === 'vault' ? this.assessments.get(ref.name) : undefined;
    if (assessment?.state !== 'pending') return [{ value: await this.resolve(ref, purpose), pending: false }];

    const vault = await this.getVault(purpose);
    const values = [{ value: await vault.getPending(ref.name, { reason: purpose }), pending: true }];
    if (assessment.hasCommittedValue) values.push({ value: await vault.get(ref.name, { reason: purpose }), pending: false });
    return values;
  }

  /** Returns the last `count` values an entry had before its current one, newest first. */
  async previousValues(name: string, count: number): Promise<string[]> {
    const vault = await this.getVault(`vault entry ${name}`);
    return (await vault.history(name, { reason: 'password_policy.history' })).slice(0, count);
  }

  /** Records that a role's stored password equals the pending value of an interrupted rotation. */
  notePendingTaken(name: string): void {
    this.pendingTaken.add(name);
  }

  noteRole(ref: SecretRef, role: string): void {
    if (ref.kind !== 'vault' || !this.isDeclared(ref.name)) return;
    this.rolesByCredential.set(ref.name, [...(this.rolesByCredential.get(ref.name) ?? []), role]);
  }

  /** Returns the credential actions of the plan, once every target has been planned. */
  planned(): PlannedCredential[] {
    const planned: PlannedCredential[] = [];
    for (const [name, assessment] of this.assessments) {
      const roles = this.rolesByCredential.get(name) ?? [];
      const add = (action: CredentialAction, reason: string) => planned.push({ name, action, reason, roles });
      const every = this.config.credentials[name]?.rotate_every;
      switch (assessment.state) {
        case 'missing':
          add('generate', 'the vault has no value for this entry yet');
          break;
        case 'due':
          add('rotate', `last set ${assessment.updated.toISOString().slice(0, 10)}, rotate_every ${every}`);
          break;
        case 'pending':
          if (this.pendingTaken.has(name)) add('complete', 'an interrupted rotation: a database already has the new value');
          else add('discard', 'an interrupted rotation: no database took the new value');
          break;
        case 'current':
          break;
      }
    }
    return planned;
  }

  async resolve(ref: SecretRef, purpose: string): Promise<string> {
    if (ref.kind === 'env') {
      const value = this.env[ref.name];
      if (value === undefined || value === '') {
        throw new SecretError(`environment variable ${ref.name} (${purpose}) is not set; export it before running aishell`);
      }
      return value;
    }
    const vault = await this.getVault(purpose);
    if (this.rotating.has(ref.name)) return vault.getPending(ref.name, { reason: purpose });
    return vault.get(ref.name, { reason: purpose });
  }

  /**
   * Prepares apply: finishes interrupted rotations, then stores a new pending value for every
   * credential to generate or rotate.
   */
  async beginApply(credentials: PlannedCredential[], policy: PasswordPolicyConfig | undefined): Promise<void> {
    for (const credential of credentials) {
      const vault = await this.getVault(`credential ${credential.name}`);
      const reason = `aishell apply: ${credential.action} ${credential.name}`;
      if (credential.action === 'complete') await vault.commitPending(credential.name, { reason });
      if (credential.action === 'discard') await vault.discardPending(credential.name, { reason });
      if (credential.action === 'generate' || credential.action === 'rotate') {
        const value = await this.generate(credential.name, vault, policy);
        await vault.setPending(credential.name, value, { reason, replace: true });
        this.rotating.add(credential.name);
      }
      // From here on the entry has the value that apply sets, so plans made during this apply
      // (under the lock, and after the commit) compare against it.
      this.assessments.set(credential.name, { state: 'current' });
    }
  }

  /**
   * Ends apply. When some database committed the new values they become current; otherwise they
   * are dropped, so the vault keeps the value the databases still have.
   */
  async finishApply(committed: boolean): Promise<void> {
    for (const name of this.rotating) {
      const vault = await this.getVault(`credential ${name}`);
      const reason = committed ? 'aishell apply committed' : 'aishell apply failed before any database committed';
      if (committed) await vault.commitPending(name, { reason });
      else await vault.discardPending(name, { reason });
    }
    this.rotating.clear();
  }

  private async generate(name: string, vault: CredentialVault, policy: PasswordPolicyConfig | undefined): Promise<string> {
    const { generatePassword } = await import('../vault/password-generator.js');
    const declared = this.config.credentials[name]?.generate ?? {};
    const length = Math.max(Number(declared.length ?? GENERATED_LENGTH), policy?.min_length ?? 0);
    const require = policy?.require ?? ['uppercase', 'lowercase', 'digits'];
    const previous = (await vault.has(name)) && (await vault.entry(name)).version > 0 ? await vault.history(name) : [];
    const recent = new Set(policy?.history ? previous.slice(0, policy.history) : previous);
    // An expired value can still be rotated away, so it is read even past its expiry.
    if ((await vault.has(name)) && (await vault.entry(name)).version > 0) recent.add(await vault.get(name, { allowExpired: true }));

    for (let attempt = 0; attempt < MAX_GENERATE_ATTEMPTS; attempt++) {
      const value = generatePassword({ length, require });
      if (!recent.has(value)) return value;
    }
    throw new SecretError(`could not generate a value for credential ${name} that differs from its previous values`);
  }
}
