import type { SecretRef, SecurityConfig } from './config/types.js';
import type { Change } from './diff/changes.js';
import type { PrivilegeLists } from './diff/expand.js';
import type { PasswordStatus } from './diff/roles.js';
import type { SourcedDiagnostic } from './model/desired.js';
import type { ActualState, Policy, RoleSetting, ServerSetting, StoredPassword } from './model/types.js';

/** Where and how to reach one target, with its connection password already resolved. */
export interface ConnectOptions {
  targetName: string;
  url: string;
  password?: string;
  /** Databases whose objects are managed; absent means the url's database. */
  databases?: string[];
  /** Directory that relative paths in the url (an embedded database) are resolved against. */
  baseDir: string;
  /** Gives up connecting to a server after this many milliseconds; absent waits as long as the network does. */
  connectTimeoutMs?: number;
  /** Aborting it drops every connection the session opened, even one that is still opening. */
  signal?: AbortSignal;
}

/** One planned statement, with secrets shown only as where they come from. */
export interface PlannedStatement {
  database: string | null;
  sql: string;
  /** Runs after every database transaction has committed, such as ALTER SYSTEM. */
  outsideTransaction?: boolean;
}

/** Declared values that the server must canonicalise before diff compares them. */
export interface NormaliseInput {
  policies: Policy[];
  roleSettings: RoleSetting[];
}

/**
 * The same values in the server's own form. A value the server rejected is left out and reported
 * as an error diagnostic with the server's message.
 */
export interface NormaliseResult {
  policies: Policy[];
  roleSettings: RoleSetting[];
  diagnostics: SourcedDiagnostic[];
}

/**
 * The meaning of the engine-wide audit and encryption sections on one engine: the server
 * parameters and role settings to converge, and findings that a database connection cannot change.
 */
export interface ServerPolicy {
  serverSettings: ServerSetting[];
  roleSettings: RoleSetting[];
  diagnostics: SourcedDiagnostic[];
}

/** Why an apply stopped: the change and the statement that failed, and the server's message. */
export class ApplyError extends Error {
  constructor(
    readonly change: Change,
    readonly statement: string,
    readonly serverMessage: string,
  ) {
    super(`${change.address}\n  statement: ${statement}\n  error: ${serverMessage}`);
    this.name = 'ApplyError';
  }
}

/**
 * A server setting that failed after the database transactions had committed: those changes
 * stay, and the settings from `change` on were not applied.
 */
export class ServerSettingError extends Error {
  constructor(
    readonly change: Change,
    readonly statement: string,
    readonly serverMessage: string,
  ) {
    super(
      `${change.address}\n  statement: ${statement}\n  error: ${serverMessage}\n  the changes made in transactions were committed before this server setting ran; fix the cause and run plan again to apply the remaining settings`,
    );
    this.name = 'ServerSettingError';
  }
}

/** Called for each statement that ran, with its display form (secrets masked). */
export type StatementListener = (change: Change, statement: PlannedStatement) => void;

export interface ProviderSession {
  /** The database of the target's url; cluster-wide changes run in its transaction. */
  readonly primaryDatabase: string;
  readonly managedDatabases: string[];
  readonly privileges: PrivilegeLists;
  readonly membershipOptions: boolean;
  /** Queries sent so far over every connection of this session. */
  readonly queryCount: number;

  inspect(): Promise<ActualState>;
  /** Sends a trivial query on every connection; false when one of them was lost (the server ended it, say). */
  ping(): Promise<boolean>;
  /** Canonicalises declared policy expressions and role setting values by asking the server. */
  normalise(input: NormaliseInput): Promise<NormaliseResult>;
  /** Maps the audit and encryption sections onto this engine, given the inspected state. */
  serverPolicy(config: SecurityConfig, actual: ActualState): ServerPolicy;
  checkPassword(password: string, stored: StoredPassword): PasswordStatus;
  /** The statements of a change as plans show them: passwords masked. */
  describe(change: Change): PlannedStatement[];
  /** Takes the target's apply lock; throws when another apply holds it. */
  lock(): Promise<void>;
  /**
   * Runs the changes, one transaction per database, and commits only when every statement of
   * every database succeeded; otherwise rolls every database back and throws ApplyError. Changes
   * that cannot run in a transaction (server settings) run after the commits. When one of them
   * fails, ServerSettingError reports that the transactions were already committed.
   */
  execute(changes: Change[], resolveSecret: (ref: SecretRef) => Promise<string>, onStatement?: StatementListener): Promise<void>;
  close(): Promise<void>;
}

export interface Provider {
  connect(options: ConnectOptions): Promise<ProviderSession>;
}
