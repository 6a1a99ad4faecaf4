import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import lockfile from 'proper-lockfile';

import { writeFileAtomic } from './atomic-file.js';
import { parseCheckpoint } from './checkpoint.js';
import { LedgerError } from './errors.js';
import type { SecretStore } from './keys.js';

/**
 * The latest signed head of one ledger, kept outside the ledger. Only a copy kept elsewhere can
 * reveal that the ledger was truncated or replaced by an older copy.
 */
export interface AnchoredHead {
  /** Location of the ledger (file path, or database URL without password), the key in a store. */
  ledger: string;
  origin: string;
  size: number;
  /** Base64 root hash, as in the note. */
  root: string;
  /** The signed note (C2SP tlog-checkpoint). */
  note: string;
  /** Seq and hex leaf hash of the `ledger.checkpoint` record that carries this note. */
  checkpointSeq?: number;
  checkpointLeaf?: string;
  written: string;
  /** Earlier heads, oldest first, so that verify can tell where a replaced copy diverges. */
  history?: HeadSummary[];
}

/** An earlier anchored head without its note. */
export interface HeadSummary {
  size: number;
  root: string;
  checkpointSeq?: number;
  checkpointLeaf?: string;
}

/** How many earlier heads an anchor keeps. */
export const ANCHOR_HISTORY = 64;

/** A place that keeps anchored heads: the anchor file, the vault, a CI artifact. */
export interface CheckpointStore {
  /** Description of the store for messages, such as `anchor file /home/ci/.aishell/ledger.anchor`. */
  readonly description: string;
  load(ledger: string): Promise<AnchoredHead | undefined>;
  /**
   * Stores the head unless the store already contains a larger one of the same ledger, because
   * concurrent writers may finish out of order. The replaced head moves to `history`.
   */
  save(head: AnchoredHead): Promise<void>;
}

/**
 * Returns the origin, size and root of a head as its signed note states them. The plain fields
 * beside the note are not signed, so no decision uses them.
 */
export function signedState(head: Pick<AnchoredHead, 'note'>): { origin: string; size: number; root: string } | undefined {
  try {
    const checkpoint = parseCheckpoint(head.note);
    return { origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.root.toString('base64') };
  } catch {
    return undefined;
  }
}

/** The head a store should keep after `save(head)`, given what it held before. */
export function mergeHead(previous: AnchoredHead | undefined, head: AnchoredHead): AnchoredHead {
  if (!previous) {
    return { ...head, history: [] };
  }
  const kept = signedState(previous);
  const next = signedState(head);
  if (kept && next && kept.origin === next.origin && (kept.size > next.size || (kept.size === next.size && kept.root === next.root))) {
    return previous;
  }
  const summary: HeadSummary = {
    size: kept?.size ?? previous.size,
    root: kept?.root ?? previous.root,
    checkpointSeq: previous.checkpointSeq,
    checkpointLeaf: previous.checkpointLeaf,
  };
  return { ...head, history: [...(previous.history ?? []), summary].slice(-ANCHOR_HISTORY) };
}

interface AnchorFile {
  format: 'aishell-ledger-anchor';
  v: 1;
  heads: Record<string, AnchoredHead>;
}

/**
 * A JSON file with the latest head of each ledger, keyed by the ledger's location. One anchor
 * file can serve several ledgers, and a ledger replaced by a new one is still compared with the
 * head of the old one. The file is written atomically under a lock.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly description: string;

  constructor(readonly path: string) {
    this.description = `anchor file ${path}`;
  }

  async load(ledger: string): Promise<AnchoredHead | undefined> {
    const file = await this.read();
    return file.heads[ledger];
  }

  async save(head: AnchoredHead): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const release = await lockfile.lock(this.path, {
      realpath: false,
      stale: 10_000,
      retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
    });
    try {
      const file = await this.read();
      file.heads[head.ledger] = mergeHead(file.heads[head.ledger], head);
      await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
    } finally {
      await release();
    }
  }

  private async read(): Promise<AnchorFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { format: 'aishell-ledger-anchor', v: 1, heads: {} };
      }
      throw error;
    }

    if (text.trim() === '') {
      return { format: 'aishell-ledger-anchor', v: 1, heads: {} };
    }

    let parsed: AnchorFile;
    try {
      parsed = JSON.parse(text) as AnchorFile;
    } catch (error) {
      throw new LedgerError('LEDGER_CHECKPOINT', `anchor file ${this.path} is not valid JSON`, { cause: error });
    }
    if (parsed.format !== 'aishell-ledger-anchor' || typeof parsed.heads !== 'object' || parsed.heads === null) {
      throw new LedgerError('LEDGER_CHECKPOINT', `anchor file ${this.path} is not an aishell ledger anchor file`);
    }
    return parsed;
  }
}

/** Anchored heads kept as JSON entries of a secret store such as the vault, one entry per ledger. */
export class SecretStoreCheckpointStore implements CheckpointStore {
  readonly description: string;

  constructor(
    private readonly store: SecretStore,
    private readonly label = 'vault',
  ) {
    this.description = label;
  }

  async load(ledger: string): Promise<AnchoredHead | undefined> {
    const text = await this.store.get(entryName(ledger));
    if (text === undefined) {
      return undefined;
    }
    try {
      return JSON.parse(text) as AnchoredHead;
    } catch (error) {
      throw new LedgerError('LEDGER_CHECKPOINT', `${this.label} entry ${entryName(ledger)} is not valid JSON`, { cause: error });
    }
  }

  async save(head: AnchoredHead): Promise<void> {
    // NOTE: without the vault's check-and-set, two writers may both pass the size check; the
    // anchor file, written under its own lock, stays exact.
    const merged = mergeHead(await this.load(head.ledger), head);
    await this.store.put(entryName(head.ledger), JSON.stringify(merged));
  }
}

/** Vault entry names allow only `[a-z0-9._-]`, so the location is replaced by a short hash. */
function entryName(ledger: string): string {
  return `ledger-anchor.${createHash('sha256').update(ledger).digest('hex').slice(0, 16)}`;
}
