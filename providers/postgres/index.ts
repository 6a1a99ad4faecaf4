import path from 'node:path';
import type { SecretRef } from '../../engine/config/types.js';
import type { Change } from '../../engine/diff/changes.js';
import type { PasswordStatus } from '../../engine/diff/roles.js';
import type { StoredPassword } from '../../engine/model/types.js';
import {
  ApplyError,
  ServerSettingError,
  type ConnectOptions,
  type PlannedStatement,
  type Provider,
  type ProviderSession,
  type StatementListener,
} from '../../engine/provider.js';
import { BATCH_STATEMENTS, BatchFailedError, StatementBatch } from './batch.js';
import { capabilitiesFor } from './capabilities.js';
import { connectPglite, connectServer, type SqlClient } from './client.js';
import { inspect, inspectServer } from './inspect.js';
import { normaliseDeclared } from './normalise.js';
import { quoteIdent } from './quote.js';
import { scramVerifier, verifyScram } from './scram.js';
import { postgresServerPolicy } from './server-policy.js';
import { statementsFor, type Statement } from './statements.js';

/** Key of the session advisory lock that keeps two applies to one cluster from interleaving. */
const APPLY_LOCK_KEY = '7306916945451001957';

/** The single database that an embedded PGlite instance has. */
const PGLITE_DATABASE = 'postgres';

async function openClients(options: ConnectOptions): Promise<{ primary: string; clients: Map<string, SqlClient> }> {
  if (options.url.startsWith('pglite://')) {
    const location = options.url.slice('pglite://'.length);
    const dataDir = location === 'memory' ? null : path.resolve(options.baseDir, location);
    const extra = (options.databases ?? []).filter((name) => name !== PGLITE_DATABASE);
    if (extra.length > 0) {
      throw new Error(`target ${options.targetName}: an embedded PGlite database has only the database "${PGLITE_DATABASE}", not ${extra.join(', ')}`);
    }
    return { primary: PGLITE_DATABASE, clients: new Map([[PGLITE_DATABASE, await connectPglite(dataDir)]]) };
  }

  const url = new URL(options.url);
  const primary = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres';
  const databases = options.databases && options.databases.length > 0 ? options.databases : [primary];
  const clients = new Map<string, SqlClient>();
  try {
    // The url's database is always opened: roles are cluster-wide and are changed through it.
    for (const name of [primary, ...databases.filter((each) => each !== primary)]) {
      const each = new URL(url);
      each.pathname = `/${encodeURIComponent(name)}`;
      clients.set(name, await connectServer(each.toString(), options.password, options.connectTimeoutMs, options.signal));
    }
  } catch (error) {
    await Promise.allSettled([...clients.values()].map((client) => client.close()));
    throw error;
  }
  return { primary, clients };
}

export const postgresProvider: Provider = {
  async connect(options) {
    const { primary, clients } = await openClients(options);
    const primaryClient = clients.get(primary)!;
    const managed = options.databases && options.databases.length > 0 ? options.databases : [primary];
    const embedded = options.url.startsWith('pglite://');
    let server;
    try {
      server = await inspectServer(primaryClient, embedded);
    } catch (error) {
      await Promise.allSettled([...clients.values()].map((client) => client.close()));
      throw error;
    }
    const capabilities = capabilitiesFor(server.version, embedded);
    let locked = false;

    const session: ProviderSession = {
      primaryDatabase: primary,
      managedDatabases: managed,
      privileges: capabilities.privileges,
      membershipOptions: capabilities.membershipOptions,

      get queryCount() {
        return [...clients.values()].reduce((sum, client) => sum + client.queryCount, 0);
      },

      async ping() {
        const replies = await Promise.all([...clients.values()].map((client) => client.query('SELECT 1').then(() => true, () => false)));
        return replies.every(Boolean);
      },

      inspect() {
        const managedClients = new Map(managed.map((name) => [name, clients.get(name)!]));
        return inspect(server, capabilities, primaryClient, managedClients);
      },

      normalise(input) {
        const managedClients = new Map(managed.map((name) => [name, clients.get(name)!]));
        return normaliseDeclared(primaryClient, managedClients, input);
      },

      serverPolicy(config, actual) {
        return postgresServerPolicy(config, actual, capabilities);
      },

      checkPassword(password: string, stored: StoredPassword): PasswordStatus {
        switch (stored.kind) {
          case 'scram':
            return verifyScram(password, stored.verifier) ? 'match' : 'differs';
          case 'none':
            return 'missing';
          case 'unreadable':
            return 'unknown';
          default:
            return 'not_scram';
        }
      },

      describe(change: Change): PlannedStatement[] {
        return statementsFor(change, null).map(({ database, display, outsideTransaction }) =>
          outsideTransaction ? { database, sql: display, outsideTransaction } : { database, sql: display },
        );
      },

      async lock() {
        const [row] = await primaryClient.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [APPLY_LOCK_KEY]);
        if (!row.locked) {
          throw new Error(`target ${options.targetName}: another aishell apply is running on this server; wait for it to finish and plan again`);
        }
        locked = true;
      },

      async execute(changes, resolveSecret, onStatement) {
        const hash = await passwordHasher(changes, resolveSecret);
        try {
          await executeInTransactions(primary, clients, changes, hash, { batchSize: BATCH_STATEMENTS, rehearsal: false }, onStatement);
        } catch (error) {
          if (!(error instanceof BatchFailedError)) throw error;
          // Everything was rolled back. Running the same changes again one statement at a time,
          // and rolling back once more, finds the statement that failed and the server's message.
          await executeInTransactions(primary, clients, changes, hash, { batchSize: 1, rehearsal: true });
          throw error.replayedError();
        }
      },

      async close() {
        if (locked) await primaryClient.query('SELECT pg_advisory_unlock($1::bigint)', [APPLY_LOCK_KEY]).catch(() => undefined);
        await Promise.allSettled([...clients.values()].map((client) => client.close()));
      },
    };
    return session;
  },
};

/** Resolves the plan's passwords once, before any statement runs. */
async function passwordHasher(changes: Change[], resolveSecret: (ref: SecretRef) => Promise<string>): Promise<(ref: SecretRef) => string> {
  const secrets = new Map<string, string>();
  for (const change of changes) {
    let ref: SecretRef | undefined;
    if (change.kind === 'create_role' || change.kind === 'set_password') ref = change.password;
    if (ref) secrets.set(`${ref.kind}:${ref.name}`, await resolveSecret(ref));
  }
  return (ref: SecretRef) => scramVerifier(secrets.get(`${ref.kind}:${ref.name}`)!);
}

interface ExecuteOptions {
  /** Statements sent per round trip; 1 sends each on its own, so a failure names its statement. */
  batchSize: number;
  /** Runs every statement, then rolls back instead of committing and skips ALTER SYSTEM. */
  rehearsal: boolean;
}

/**
 * Runs every statement inside one transaction per database and commits them together at the end,
 * so a failure anywhere rolls back every database.
 * NOTE: the commits themselves are not atomic across databases; a commit that fails after an
 * earlier database committed leaves that database changed. Two-phase commit would need
 * max_prepared_transactions > 0 on the server.
 */
async function executeInTransactions(
  primary: string,
  clients: Map<string, SqlClient>,
  changes: Change[],
  hash: (ref: SecretRef) => string,
  options: ExecuteOptions,
  onStatement?: StatementListener,
): Promise<void> {
  // In a target with several databases, a role is visible to another database's connection only
  // after its CREATE ROLE commits. New roles are therefore committed first, and dropped on failure.
  const multiDatabase = clients.size > 1;
  const created = multiDatabase ? await createRolesFirst(clients.get(primary)!, changes, hash, options.batchSize, onStatement) : [];
  // REASSIGN OWNED and DROP OWNED lock the role, so two open transactions that run them for one
  // role would wait on each other. Role drops therefore run after the other changes commit.
  const deferred: { change: Change; statement: Statement }[] = [];

  const open = new Set<string>();
  const clientFor = async (database: string | null) => {
    const name = database ?? primary;
    const client = clients.get(name);
    if (!client) throw new Error(`database ${name} is not connected`);
    if (!open.has(name)) {
      await client.query('BEGIN');
      open.add(name);
    }
    return client;
  };

  const afterCommit: { change: Change; statement: Statement }[] = [];
  const batch = new StatementBatch(options.batchSize, onStatement);
  try {
    await clientFor(primary);
    for (const change of changes) {
      if (multiDatabase && change.kind === 'create_role') continue;
      for (const statement of statementsFor(change, hash)) {
        if (multiDatabase && change.kind === 'drop_role') {
          deferred.push({ change, statement });
          continue;
        }
        if (statement.outsideTransaction) {
          afterCommit.push({ change, statement });
          continue;
        }
        await batch.run(await clientFor(statement.database), change, statement);
      }
    }
    await batch.flush();
    if (options.rehearsal) {
      await rollBack(clients, open);
      await dropCreatedRoles(clients.get(primary)!, created);
      return;
    }
    await commitAll(primary, clients, open, deferred, onStatement);
  } catch (error) {
    await rollBack(clients, open);
    await dropCreatedRoles(clients.get(primary)!, created);
    throw error;
  }

  await runServerSettings(clients.get(primary)!, afterCommit, onStatement);
}

async function rollBack(clients: Map<string, SqlClient>, open: Set<string>): Promise<void> {
  for (const name of open) await clients.get(name)!.query('ROLLBACK').catch(() => undefined);
  open.clear();
}

/**
 * Runs ALTER SYSTEM statements on the primary connection, outside any transaction because
 * PostgreSQL rejects ALTER SYSTEM inside one, then reloads the configuration once so that every
 * parameter that does not need a restart takes effect.
 */
async function runServerSettings(
  client: SqlClient,
  statements: { change: Change; statement: Statement }[],
  onStatement?: StatementListener,
): Promise<void> {
  if (statements.length === 0) return;
  let applied = 0;
  for (const { change, statement } of statements) {
    try {
      await client.query(statement.sql);
    } catch (error) {
      // The settings written before the failure are already in postgresql.auto.conf. A reload
      // makes the running server use them too, so the next plan compares against what runs.
      if (applied > 0) await client.query('SELECT pg_reload_conf()').catch(() => undefined);
      throw new ServerSettingError(change, statement.display, error instanceof Error ? error.message : String(error));
    }
    applied += 1;
    onStatement?.(change, { database: statement.database, sql: statement.display, outsideTransaction: true });
  }
  await client.query('SELECT pg_reload_conf()');
}

async function runStatement(client: SqlClient, change: Change, statement: Statement): Promise<void> {
  try {
    await client.query(statement.sql);
  } catch (error) {
    // The server's message can quote the statement, so it is reported against the masked form.
    const message = error instanceof Error ? error.message : String(error);
    throw new ApplyError(change, statement.display, message);
  }
}

/**
 * Commits every database, then runs the deferred role drops: each database's REASSIGN OWNED and
 * DROP OWNED in a transaction of its own, then DROP ROLE.
 * NOTE: this is not atomic across databases. A drop that fails leaves the other changes, and
 * the databases already cleaned, committed, and its error message states that. Two-phase commit
 * would need max_prepared_transactions > 0 on the server.
 */
async function commitAll(
  primary: string,
  clients: Map<string, SqlClient>,
  open: Set<string>,
  deferred: { change: Change; statement: Statement }[],
  onStatement?: StatementListener,
): Promise<void> {
  for (const name of [...open]) {
    await clients.get(name)!.query('COMMIT');
    open.delete(name);
  }

  for (const { change, statement } of deferred) {
    const client = clients.get(statement.database ?? primary)!;
    await client.query('BEGIN');
    try {
      await runStatement(client, change, statement);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof ApplyError) {
        throw new ApplyError(change, statement.display, `${error.serverMessage} (the changes before this role drop were committed)`);
      }
      throw error;
    }
    onStatement?.(change, { database: statement.database, sql: statement.display });
  }
}

/** Creates the plan's new roles in a transaction of their own and returns their names. */
async function createRolesFirst(
  client: SqlClient,
  changes: Change[],
  hash: (ref: SecretRef) => string,
  batchSize: number,
  onStatement?: StatementListener,
): Promise<string[]> {
  const creates = changes.filter((change) => change.kind === 'create_role');
  if (creates.length === 0) return [];
  await client.query('BEGIN');
  try {
    const batch = new StatementBatch(batchSize, onStatement);
    for (const change of creates) {
      for (const statement of statementsFor(change, hash)) await batch.run(client, change, statement);
    }
    await batch.flush();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return creates.map((change) => change.role.name);
}

/** Undoes createRolesFirst after a later failure; the roles own nothing, because all else rolled back. */
async function dropCreatedRoles(client: SqlClient, roles: string[]): Promise<void> {
  for (const role of roles) {
    await client.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => undefined);
  }
}
