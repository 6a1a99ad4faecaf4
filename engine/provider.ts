import type { SecretRef } from './config/types.js';
import type { Change } from './diff/changes.js';
import type { PrivilegeLists } from './diff/expand.js';
import type { PasswordStatus } from './diff/roles.js';
import type { ActualState, StoredPassword } from './model/types.js';

/** Where and how to reach one target, with its connection password already resolved. */
export interface ConnectOptions {
  targetName: string;
  url: string;
  password?: string;
  /** Databases whose objects are managed; absent means the url's database. */
  databases?: string[];
  /** Directory that relative paths in the url (an embedded database) are resolved against. */
  baseDir: string;
}

/** One planned statement, with secrets shown only as where they come from. */
export interface PlannedStatement {
  database: string | null;
  sql: string;
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
  checkPassword(password: string, stored: StoredPassword): PasswordStatus;
  /** The statements of a change as plans show them: passwords masked. */
  describe(change: Change): PlannedStatement[];
  /** Takes the target's apply lock; throws when another apply holds it. */
  lock(): Promise<void>;
  /**
   * Runs the changes, one transaction per database, and commits only when every statement of
   * every database succeeded; otherwise rolls every database back and throws ApplyError.
   */
  execute(changes: Change[], resolveSecret: (ref: SecretRef) => Promise<string>, onStatement?: StatementListener): Promise<void>;
  close(): Promise<void>;
}

export interface Provider {
  connect(options: ConnectOptions): Promise<ProviderSession>;
}
