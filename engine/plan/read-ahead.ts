/**
 * Reads the catalog of the first target a command plans while the configuration itself is still
 * being loaded. Parsing and checking a file of several megabytes takes about as long as the
 * server takes to run the catalog queries, so a plan that starts both at once waits for the
 * longer one only, not for their sum.
 *
 * Before the file is parsed, only its top-level `targets:` block is read. A target is read ahead
 * only when that block alone is enough to reach it: a postgres url, and no password or a
 * `${env:NAME}` one. Everything read ahead is a guess until the configuration has loaded. `take`
 * hands out the session only when the loaded target connects the same way, and `close` closes it
 * otherwise. Read-only catalog queries are the only statements sent ahead.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseSecretRef } from '../config/references.js';
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
   * the one read ahead did. The caller owns the session from then on. Throws the error of a
   * connection that failed, so that a wrong password is not tried twice. Returns undefined when
   * nothing was read ahead for the target, when it differs, when its connection timed out or
   * was lost: the plan then connects as usual.
   */
  take(name: string, target: TargetConfig): Promise<EarlySession | undefined>;
  /** Closes the session unless take() handed it out, also one that is still opening. */
  close(): Promise<void>;
}

export interface ReadAheadOptions {
  configPath: string;
  env: NodeJS.ProcessEnv;
  /** The targets the command works on (-t), in the order it plans them; absent means every target. */
  targets?: readonly string[];
}

/** The connection settings of a target, as read from the targets block before the whole file is loaded. */
interface Connection {
  url: string;
  password?: SecretRef;
  databases: readonly string[];
}

type Opened = { early: EarlySession } | { error: unknown } | { dropped: true };

interface Pending {
  name: string;
  connection: Connection;
  abort: AbortController;
  opened: Promise<Opened>;
}

/**
 * A connection that does not open within this time is dropped, and the plan then connects
 * without a limit, as it does without read-ahead.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The maximum wait for the connection before loading goes on. Parsing keeps the process busy,
 * so a connection that is still opening then only completes after it. On a local server it
 * opens in a few milliseconds.
 */
const START_WAIT_MS = 250;

/**
 * Starts reading ahead the first target that the command plans. Later targets are planned one
 * after the other anyway, and opening them all at once would hold a connection and an
 * inspected state per target. It does not throw: whatever it cannot read ahead is left to the
 * plan.
 */
export async function startReadAhead(options: ReadAheadOptions): Promise<ReadAhead> {
  let first: [string, Connection] | undefined;
  try {
    first = await readFirstConnection(options);
  } catch {
    first = undefined;
  }

  let pending: Pending | undefined;
  if (first) {
    const [name, connection] = first;
    const abort = new AbortController();
    pending = { name, connection, abort, opened: openSession(name, connection, path.dirname(options.configPath), options.env, abort.signal) };
    await waitAtMost(pending.opened, START_WAIT_MS);
  }

  const drop = async (entry: Pending) => {
    entry.abort.abort();
    const opened = await entry.opened;
    if ('early' in opened) await opened.early.session.close().catch(() => undefined);
  };

  return {
    async take(name, target) {
      const entry = pending;
      if (!entry || entry.name !== name) return undefined;
      pending = undefined;

      // A different target is dropped at once, without waiting for a connection still opening.
      if (!sameConnection(entry.connection, target)) {
        await drop(entry);
        return undefined;
      }

      const opened = await entry.opened;
      if ('error' in opened) throw opened.error;
      if (!('early' in opened)) return undefined;

      // A connection that the server ended while the file loaded is replaced by a new one. The
      // query checks the socket itself, since pg may not have seen the end of it yet.
      await opened.early.inspection.catch(() => undefined);
      if (!(await opened.early.session.ping())) {
        await opened.early.session.close().catch(() => undefined);
        return undefined;
      }
      return opened.early;
    },

    async close() {
      const entry = pending;
      pending = undefined;
      if (entry) await drop(entry);
    },
  };
}

// NOTE: the `${env:…}` password goes to the host of the targets block before the rest of the file
// is validated, so a file that fails validation may still have sent it there.
async function openSession(name: string, connection: Connection, baseDir: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<Opened> {
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
      signal,
    });
    const inspection = session.inspect();
    // The plan awaits it later; until then a failure must not count as an unhandled rejection.
    inspection.catch(() => undefined);
    return { early: { session, inspection } };
  } catch (error) {
    // pg reports its connection timeout with this message (pg 8).
    const timedOut = error instanceof Error && /connection timeout/.test(error.message);
    return signal.aborted || timedOut ? { dropped: true } : { error };
  }
}

/**
 * Returns the first target that the command plans and its connection settings, read from the
 * targets block of a single-file configuration. A directory is left to the plan, because its
 * targets may sit in any of its files. So is a file whose top level is not a block mapping,
 * because there a line that starts with `targets:` may be part of a string.
 */
async function readFirstConnection(options: ReadAheadOptions): Promise<[string, Connection] | undefined> {
  if (!(await stat(options.configPath)).isFile()) return undefined;

  const text = await readFile(options.configPath, 'utf8');
  if (!startsWithBlockMapping(text)) return undefined;
  const block = targetsBlock(text);
  if (block === undefined) return undefined;

  const jsYaml = await import('js-yaml');
  const parsed = jsYaml.load(block, { schema: jsYaml.CORE_SCHEMA }) as { targets?: unknown } | null;
  const targets = parsed?.targets;
  if (targets === null || typeof targets !== 'object' || Array.isArray(targets)) return undefined;

  const declared = targets as Record<string, unknown>;
  const name = options.targets ? options.targets[0] : Object.keys(declared)[0];
  if (name === undefined || !Object.hasOwn(declared, name)) return undefined;
  const connection = toConnection(declared[name], options.env);
  return connection ? [name, connection] : undefined;
}

/** Tells whether the first line with content, after comments and directives, starts a mapping key in the first column. */
function startsWithBlockMapping(text: string): boolean {
  const first = /^(?![ \t]*(#|$)|%|---[ \t]*(#|$))[^\n]*/m.exec(text.replace(/^\uFEFF/, ''));
  return first !== null && /^[^\s{[\-?#&*!|>'"%@`,]/.test(first[0]);
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
    // Read as loading reads a password field. An empty variable counts as unset, as the plan's
    // secret resolver treats it.
    const ref = typeof target.password === 'string' ? parseSecretRef(target.password) : undefined;
    if (ref?.kind !== 'env' || !env[ref.name]) return undefined;
    password = ref;
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
