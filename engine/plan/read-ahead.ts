/**
 * Reads the catalogs of a configuration's targets while the configuration itself is still being
 * loaded. Parsing and checking a file of several megabytes takes about as long as the server
 * takes to answer the catalog queries, so a plan that starts both at once waits for the longer
 * one only, not for their sum.
 *
 * Before the file is parsed, only its top-level `targets:` block is read. A target is read ahead
 * only when that block alone tells how to reach it: a postgres url, and no password or a
 * `${env:NAME}` one. Everything read ahead is a guess until the configuration has loaded: `take`
 * hands out a session only when the loaded target connects the same way, and every session that
 * nobody took is closed. Read-only catalog queries are the only statements sent ahead.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SecretRef, TargetConfig } from '../config/types.js';
import type { ActualState } from '../model/types.js';
import type { ProviderSession } from '../provider.js';
import { providerFor } from './providers.js';

/** A session opened ahead of the plan, with its catalog inspection already sent. */
export interface EarlySession {
  session: ProviderSession;
  inspection: Promise<ActualState>;
}

export interface ReadAhead {
  /**
   * Returns the session opened ahead for a target when `target`, as loaded, connects exactly as
   * the one read ahead did. The caller owns the session from then on. Returns undefined when
   * nothing was read ahead for the target, when it differs, or when connecting failed: the plan
   * then connects as usual and reports any error itself.
   */
  take(name: string, target: TargetConfig): Promise<EarlySession | undefined>;
  /** Closes every session that was not taken. */
  close(): Promise<void>;
}

export interface ReadAheadOptions {
  configPath: string;
  env: NodeJS.ProcessEnv;
  /** The targets the command works on (-t); absent means every target. */
  targets?: readonly string[];
}

/** How a target connects, as read from the targets block before the whole file is loaded. */
interface Connection {
  url: string;
  password?: SecretRef;
  databases: readonly string[];
}

interface Pending {
  connection: Connection;
  opened: Promise<EarlySession | undefined>;
}

/**
 * A connection that does not open within this time is dropped, and the plan then connects
 * without a limit, as it does without read-ahead. It keeps an unreachable server from holding a
 * command that stopped at a configuration error.
 *
 * NOTE: the limit covers opening the connection only. A server that accepts it but does not
 * reply to the first queries (a pooler without a free server connection, say) holds take() and
 * close() until it replies, even after a configuration error.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The maximum wait for the connections before loading goes on. Parsing keeps the process busy,
 * so a connection that is still opening then only completes after it. On a local server the
 * connections open in a few milliseconds.
 */
const START_WAIT_MS = 250;

/** Starts reading ahead. It does not throw: whatever it cannot read ahead is left to the plan. */
export async function startReadAhead(options: ReadAheadOptions): Promise<ReadAhead> {
  const pending = new Map<string, Pending>();
  let connections: Map<string, Connection>;
  try {
    connections = await readConnections(options);
  } catch {
    connections = new Map();
  }

  const baseDir = path.dirname(options.configPath);
  for (const [name, connection] of connections) {
    const opened = openSession(name, connection, baseDir, options.env);
    pending.set(name, { connection, opened });
  }
  if (pending.size > 0) await waitAtMost(Promise.all([...pending.values()].map((each) => each.opened)), START_WAIT_MS);

  return {
    async take(name, target) {
      const entry = pending.get(name);
      if (!entry) return undefined;
      pending.delete(name);

      const early = await entry.opened;
      if (!early) return undefined;
      if (sameConnection(entry.connection, target)) return early;
      await early.session.close().catch(() => undefined);
      return undefined;
    },

    async close() {
      const left = [...pending.values()];
      pending.clear();
      await Promise.all(left.map(async (entry) => (await entry.opened)?.session.close().catch(() => undefined)));
    },
  };
}

async function openSession(name: string, connection: Connection, baseDir: string, env: NodeJS.ProcessEnv): Promise<EarlySession | undefined> {
  try {
    const password = connection.password ? env[connection.password.name] : undefined;
    const provider = await providerFor('postgres');
    const session = await provider.connect({
      targetName: name,
      url: connection.url,
      password,
      databases: connection.databases.length > 0 ? [...connection.databases] : undefined,
      baseDir,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    const inspection = session.inspect();
    // The plan awaits it later; until then a failure must not count as an unhandled rejection.
    inspection.catch(() => undefined);
    return { session, inspection };
  } catch {
    return undefined;
  }
}

/**
 * Reads the targets block of a single-file configuration. A directory is left to the plan,
 * because its targets may sit in any of its files.
 */
async function readConnections(options: ReadAheadOptions): Promise<Map<string, Connection>> {
  const connections = new Map<string, Connection>();
  if (!(await stat(options.configPath)).isFile()) return connections;

  const text = await readFile(options.configPath, 'utf8');
  const block = targetsBlock(text);
  if (block === undefined) return connections;

  const jsYaml = await import('js-yaml');
  const parsed = jsYaml.load(block, { schema: jsYaml.CORE_SCHEMA }) as { targets?: unknown } | null;
  const targets = parsed?.targets;
  if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) return connections;

  for (const [name, value] of Object.entries(targets as Record<string, unknown>)) {
    if (options.targets && !options.targets.includes(name)) continue;
    const connection = toConnection(value, options.env);
    if (connection) connections.set(name, connection);
  }
  return connections;
}

/**
 * Returns the text of the top-level `targets:` mapping written in block style: its key line and
 * every line after it up to the next line that starts in the first column.
 */
function targetsBlock(text: string): string | undefined {
  const start = /^targets:[ \t]*(#.*)?\r?$/m.exec(text);
  if (!start) return undefined;

  const next = /\n(?=[^ \t\r\n#])/g;
  next.lastIndex = start.index + start[0].length;
  const end = next.exec(text);
  return text.slice(start.index, end ? end.index : text.length);
}

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
const ENV_PASSWORD = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

function toConnection(value: unknown, env: NodeJS.ProcessEnv): Connection | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const target = value as Record<string, unknown>;
  if (target.engine !== 'postgres' || typeof target.url !== 'string') return undefined;

  // `${env:NAME}` in the url is replaced as loading replaces it. Any other `$` form is left to
  // the loader, and so is an unset variable.
  let unresolved = false;
  const url = target.url.replace(ENV_REFERENCE, (_, name: string) => {
    const resolved = env[name];
    if (resolved === undefined) unresolved = true;
    return resolved ?? '';
  });
  if (unresolved || url.includes('$') || !/^postgres(ql)?:\/\//.test(url)) return undefined;

  let password: SecretRef | undefined;
  if (target.password !== undefined) {
    // An empty variable counts as unset, as the plan's secret resolver treats it.
    const match = typeof target.password === 'string' ? ENV_PASSWORD.exec(target.password) : null;
    if (!match || !env[match[1]!]) return undefined;
    password = { kind: 'env', name: match[1]! };
  }

  const databases = target.databases ?? [];
  if (!Array.isArray(databases) || !databases.every((name) => typeof name === 'string' && !name.includes('$'))) return undefined;
  return { url, password, databases };
}

function sameConnection(connection: Connection, target: TargetConfig): boolean {
  const databases = target.databases ?? [];
  return (
    target.engine === 'postgres' &&
    target.url === connection.url &&
    target.password?.kind === connection.password?.kind &&
    target.password?.name === connection.password?.name &&
    databases.length === connection.databases.length &&
    databases.every((name, index) => name === connection.databases[index])
  );
}

async function waitAtMost(work: Promise<unknown>, milliseconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, milliseconds);
  });
  await Promise.race([work, timeout]);
  clearTimeout(timer);
}
