import type { Change, ChangeKind } from '../../engine/diff/changes.js';
import { ApplyError, type StatementListener } from '../../engine/provider.js';
import type { SqlClient } from './client.js';
import type { Statement } from './statements.js';

/**
 * Statements per round trip during apply. An estate of 100,000 grants then costs about a hundred
 * round trips instead of 100,000, and a batch stays well below a megabyte of SQL.
 */
export const BATCH_STATEMENTS = 1_000;

/** A batch stops growing at this many characters of SQL, whatever its statement count. */
const BATCH_CHARACTERS = 1 << 20;

/** Between statements; the newline before the semicolon ends any `--` comment a statement ends with. */
const SEPARATOR = '\n;\n';

/**
 * Whether the statements of a change kind may share a batch. A batch is a simple query, which
 * runs every statement in its text. Policies embed expressions written in the file, so they run
 * alone over the extended protocol, which executes exactly one statement. An expression that
 * ends its statement early then fails instead of running what follows it. The other batched
 * kinds are built from quoted names, quoted literals and keywords only. ALTER SYSTEM runs after
 * the commit, outside any batch.
 */
const BATCHED: Record<ChangeKind, boolean> = {
  create_role: true,
  alter_role: true,
  set_password: true,
  drop_role: true,
  grant: true,
  revoke: true,
  grant_membership: true,
  revoke_membership: true,
  grant_default_privilege: true,
  revoke_default_privilege: true,
  alter_rls: true,
  create_policy: false,
  alter_policy: false,
  drop_policy: true,
  set_role_setting: true,
  reset_role_setting: true,
  set_server_setting: false,
};

/**
 * A batch of several statements failed. The server aborted the transaction at one of them but
 * does not say which, so the caller rolls back and replays the changes one statement at a time
 * to report the exact statement (see `replayedError`).
 */
export class BatchFailedError extends Error {
  constructor(
    readonly first: { change: Change; statement: Statement },
    readonly count: number,
    readonly serverMessage: string,
  ) {
    super(`one of ${count} statements failed: ${serverMessage}`);
    this.name = 'BatchFailedError';
  }

  /**
   * Builds the error to report when the one-at-a-time replay did not fail, because the failure
   * did not happen again (a lock or serialization conflict, or a concurrent change). The batch is
   * named by its first statement.
   */
  replayedError(): ApplyError {
    const others = this.count - 1;
    return new ApplyError(
      this.first.change,
      `${this.first.statement.display} (and the ${others} statement${others === 1 ? '' : 's'} sent with it; the failure did not recur when they were run one at a time)`,
      this.serverMessage,
    );
  }
}

/**
 * Runs the statements of an apply in order, sending up to `size` of them at a time on one
 * connection. A batch is sent when it is full, before a statement for another connection, and
 * on flush(). `onStatement` is called for each statement once its batch has succeeded.
 */
export class StatementBatch {
  private client: SqlClient | undefined;
  private pending: { change: Change; statement: Statement }[] = [];
  private characters = 0;

  constructor(
    private readonly size: number,
    private readonly onStatement?: StatementListener,
  ) {}

  async run(client: SqlClient, change: Change, statement: Statement): Promise<void> {
    if (this.client !== undefined && this.client !== client) await this.flush();
    if (!BATCHED[change.kind]) {
      await this.flush();
      this.client = client;
      this.pending.push({ change, statement });
      await this.flush();
      return;
    }

    this.client = client;
    this.pending.push({ change, statement });
    this.characters += statement.sql.length;
    if (this.pending.length >= this.size || this.characters >= BATCH_CHARACTERS) await this.flush();
  }

  /** Sends what is pending. Throws ApplyError for a single statement, BatchFailedError for more. */
  async flush(): Promise<void> {
    const client = this.client;
    const pending = this.pending;
    this.client = undefined;
    this.pending = [];
    this.characters = 0;
    if (!client || pending.length === 0) return;

    try {
      if (pending.length === 1) await client.query(pending[0]!.statement.sql);
      else await client.exec(pending.map(({ statement }) => statement.sql).join(SEPARATOR));
    } catch (error) {
      // The server's message can quote the statement, so it is reported against the masked form.
      const message = error instanceof Error ? error.message : String(error);
      if (pending.length === 1) throw new ApplyError(pending[0]!.change, pending[0]!.statement.display, message);
      throw new BatchFailedError(pending[0]!, pending.length, message);
    }

    for (const { change, statement } of pending) {
      this.onStatement?.(change, { database: statement.database, sql: statement.display });
    }
  }
}
