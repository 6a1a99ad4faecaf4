import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { detectActor } from './actor.js';
import { FileCheckpointStore, type CheckpointStore } from './anchors.js';
import type { LedgerBackend } from './backend.js';
import { LedgerError } from './errors.js';
import { FileBackend } from './file-backend.js';
import { FileKeyStore, type KeyStore } from './keys.js';
import { Ledger } from './ledger.js';

export interface OpenLedgerOptions {
  /** Ledger file; default `AISHELL_LEDGER` or `~/.aishell/ledger`. Ignored when `url` is set. */
  path?: string;
  /** PostgreSQL URL of a shared ledger; default `AISHELL_LEDGER_URL`. */
  url?: string;
  /** PostgreSQL schema of the ledger tables (default `aishell_ledger`). */
  schema?: string;
  /** Signing key file; default `AISHELL_LEDGER_KEY`, else `<ledger path>.key` or `~/.aishell/ledger.key`. */
  keyPath?: string;
  /** Anchor file; default `AISHELL_LEDGER_ANCHOR` or `~/.aishell/ledger.anchor`. */
  anchorPath?: string;
  /** Replaces the key file, for example with the vault's key store. */
  keyStore?: KeyStore;
  /** More places to keep checkpoints, such as the vault; the anchor file is always used. */
  checkpointStores?: CheckpointStore[];
  /** Environment for defaults and for the actor (user, CI job). */
  env?: NodeJS.ProcessEnv;
  /** Base for relative paths (default: the process's working directory). */
  cwd?: string;
  checkpointOnClose?: boolean;
  now?: () => Date;
}

export interface ResolvedLocations {
  path?: string;
  url?: string;
  keyPath: string;
  anchorPath: string;
}

/** Applies the documented defaults, so that the CLI can print where things are. */
export function resolveLocations(options: OpenLedgerOptions): ResolvedLocations {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const home = env.HOME || homedir();
  const stateDir = join(home, '.aishell');

  const url = options.url ?? (options.path ? undefined : env.AISHELL_LEDGER_URL || undefined);
  const path = url ? undefined : resolve(cwd, options.path ?? (env.AISHELL_LEDGER || join(stateDir, 'ledger')));
  const keyPath = resolve(cwd, options.keyPath ?? (env.AISHELL_LEDGER_KEY || (path ? `${path}.key` : join(stateDir, 'ledger.key'))));
  const anchorPath = resolve(cwd, options.anchorPath ?? (env.AISHELL_LEDGER_ANCHOR || join(stateDir, 'ledger.anchor')));
  return { path, url, keyPath, anchorPath };
}

/**
 * Opens the ledger: a JSON Lines file by default, or a PostgreSQL table when a URL is given.
 * Nothing is created until the first append.
 */
export async function openLedger(options: OpenLedgerOptions = {}): Promise<Ledger> {
  const env = options.env ?? process.env;
  const locations = resolveLocations(options);

  let backend: LedgerBackend;
  if (locations.url) {
    // pg is loaded only for a shared ledger, so file-only commands start fast.
    const { PostgresBackend } = await import('./postgres-backend.js');
    backend = await PostgresBackend.connect(locations.url, options.schema ?? 'aishell_ledger');
  } else if (locations.path) {
    backend = new FileBackend(locations.path);
  } else {
    throw new LedgerError('LEDGER_CONFIG', 'no ledger location: set ledger.path or ledger.url');
  }

  const keyStore = options.keyStore ?? new FileKeyStore(locations.keyPath);
  const checkpointStores = [new FileCheckpointStore(locations.anchorPath), ...(options.checkpointStores ?? [])];

  return new Ledger({
    backend,
    keyStore,
    checkpointStores,
    actor: detectActor(env),
    checkpointOnClose: options.checkpointOnClose,
    now: options.now,
  });
}
