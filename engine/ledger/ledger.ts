import { createHash, randomUUID } from 'node:crypto';

import { signedState, type AnchoredHead, type CheckpointStore } from './anchors.js';
import { kindOf, type BackendWriter, type LedgerBackend } from './backend.js';
import {
  findValidSigner,
  formatVerifierKey,
  parseCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  type Checkpoint,
  type SigningKey,
} from './checkpoint.js';
import { LedgerError } from './errors.js';
import type { KeyStore } from './keys.js';
import { CompactRange, MerkleTree, leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import { GENESIS_PREV, buildRecord, completeNextRecord, readLine } from './records.js';
import { matchesFilter } from './filter.js';
import type { Actor, JsonObject, LedgerRecord, LedgerRecordInput, RecordFilter } from './types.js';
import { verifyLedger, type ExternalHead, type VerifyReport } from './verify.js';

export interface LedgerParts {
  backend: LedgerBackend;
  keyStore: KeyStore;
  checkpointStores: CheckpointStore[];
  actor: Actor;
  /** Writes a checkpoint in `close()` when this instance appended records (default true). */
  checkpointOnClose?: boolean;
  /** Clock for record times; tests pass a fixed one. */
  now?: () => Date;
}

export interface CheckpointResult {
  checkpoint: Checkpoint;
  /** Seq of the `ledger.checkpoint` record that carries it. */
  seq: number;
  /** True when nothing was appended since the previous checkpoint, which was kept. */
  reused: boolean;
  /** Descriptions of the stores that now hold this head. */
  stored: string[];
  /** Stores that could not be written, with the reason. */
  failed: { store: string; error: string }[];
}

export interface VerifyOptions {
  /** Signed notes or anchor files' JSON from outside, each with where it came from. */
  checkpoints?: { source: string; text: string }[];
  /** Verifier keys (`name+id+key`) that alone may sign checkpoints. */
  trustedKeys?: string[];
  /** Also check the heads in the configured anchor stores (default true). */
  useStores?: boolean;
  /** Stores that could not be opened, such as a locked vault, listed as skipped with the reason. */
  skippedStores?: { source: string; reason: string }[];
  /** Accept a ledger that does not exist or has no records (default: a problem). */
  allowEmpty?: boolean;
}

export interface PruneResult {
  before: number;
  removed: number;
  markerSeq?: number;
}

export interface InclusionResult {
  seq: number;
  size: number;
  leaf: string;
  root: string;
  proof: string[];
  verified: boolean;
}

export interface ConsistencyResult {
  oldSize: number;
  newSize: number;
  oldRoot: string;
  newRoot: string;
  proof: string[];
  verified: boolean;
}

/** A checkpoint appended under the lock, still to be written to the stores. */
interface SealedHead {
  checkpoint: Checkpoint;
  seq: number;
  line: Buffer;
  reused: boolean;
}

interface TailState {
  origin: string;
  size: number;
  range: CompactRange;
  /** Roots at each size from the previous checkpoint on, to compare anchors cheaply. */
  roots: Map<number, Buffer>;
  signers: string[];
  lastKind?: string;
  previousCheckpoint?: { seq: number; note: string };
}

const FORMAT = 'aishell-ledger/1';

/**
 * The audit ledger: append-only records, hash-chained and covered by an RFC 6962 Merkle tree,
 * with Ed25519-signed checkpoints kept in the ledger and in stores outside it.
 */
export class Ledger {
  /** Shared by every record this instance writes, so one command's records can be grouped. */
  readonly run = randomUUID();
  private appended = 0;
  private readonly now: () => Date;

  constructor(private readonly parts: LedgerParts) {
    this.now = parts.now ?? (() => new Date());
  }

  get location(): string {
    return this.parts.backend.location;
  }

  /** Appends records under the write lock; returns them with seq, time, prev, actor and run set. */
  async append(inputs: LedgerRecordInput[]): Promise<LedgerRecord[]> {
    if (inputs.length === 0) {
      return [];
    }
    const written = await this.parts.backend.exclusive((writer) => this.appendLocked(writer, inputs, false));
    this.appended += written.length;
    // Genesis and repair records written on the way are not the caller's.
    return written.slice(written.length - inputs.length);
  }

  private async appendLocked(writer: BackendWriter, inputs: LedgerRecordInput[], internal: boolean): Promise<LedgerRecord[]> {
    const records: LedgerRecordInput[] = [];
    const internalFlags: boolean[] = [];

    const repair = await repairTornTail(writer);
    if (repair) {
      records.push(repair.record);
      internalFlags.push(true);
    }

    let last = await writer.lastLine();
    if (!last) {
      const genesis = await this.genesisRecords();
      records.unshift(...genesis);
      internalFlags.unshift(...genesis.map(() => true));
    }

    // Loops, not push(...inputs): an apply of 100,000 changes would overflow the call stack.
    for (const input of inputs) {
      records.push(input);
      internalFlags.push(internal);
    }

    let seq = 0;
    let prev = GENESIS_PREV;
    if (last) {
      const lastRecord = readLine(last);
      if (!lastRecord) {
        throw new LedgerError(
          'LEDGER_CORRUPT',
          `the last record of ${this.location} is damaged, so no record can be chained to it; run aishell audit verify`,
        );
      }
      seq = lastRecord.seq + 1;
      prev = leafHash(last).toString('hex');
    }

    const time = this.now();
    const lines: Buffer[] = [];
    const built: LedgerRecord[] = [];
    records.forEach((input, index) => {
      const { record, line } = buildRecord(input, { seq, prev, actor: this.parts.actor, run: this.run, time }, internalFlags[index]);
      lines.push(line);
      built.push(record);
      seq += 1;
      prev = leafHash(line).toString('hex');
      last = line;
    });

    await writer.append(lines);
    return built;
  }

  private async genesisRecords(): Promise<LedgerRecordInput[]> {
    const key = await this.parts.keyStore.loadOrCreate();
    const id = randomUUID();
    return [
      { kind: 'ledger.open', details: { ledger: id, origin: `aishell.ledger/${id}`, format: FORMAT }, outcome: 'ok' },
      signerRecord(key, this.parts.keyStore.description),
    ];
  }

  /**
   * Signs the current head, appends it as a `ledger.checkpoint` record and writes it to every
   * checkpoint store. Throws LEDGER_ROLLED_BACK when a store contains a head that this ledger
   * does not extend.
   */
  async checkpoint(): Promise<CheckpointResult | undefined> {
    const sealed = await this.parts.backend.exclusive((writer) => this.checkpointLocked(writer));
    this.appended = 0;
    if (!sealed) {
      return undefined;
    }
    // Anchors are written after the lock is released, so that a database transaction has
    // committed the checkpoint record before any store refers to it.
    const { stored, failed } = await this.saveAnchors(sealed);
    return { checkpoint: sealed.checkpoint, seq: sealed.seq, reused: sealed.reused, stored, failed };
  }

  private async checkpointLocked(writer: BackendWriter): Promise<SealedHead | undefined> {
    const repair = await repairTornTail(writer);
    if (repair) {
      await this.appendLocked(writer, [repair.record], true);
    }

    const lines = await writer.linesSinceLast('ledger.checkpoint');
    if (lines.length === 0) {
      return undefined;
    }
    const anchoredSizes = await this.anchoredSizes();
    let state = tailState(lines, anchoredSizes);

    if (state.lastKind === 'ledger.checkpoint' && state.previousCheckpoint) {
      const checkpoint = parseCheckpoint(state.previousCheckpoint.note);
      await this.checkAnchors(state, checkpoint.size, checkpoint.root);
      return { checkpoint, seq: state.previousCheckpoint.seq, line: lines[lines.length - 1], reused: true };
    }

    const key = await this.parts.keyStore.loadOrCreate();
    const verifier = formatVerifierKey(key);
    if (!state.signers.includes(verifier)) {
      await this.appendLocked(writer, [signerRecord(key, this.parts.keyStore.description)], true);
      state = tailState(await writer.linesSinceLast('ledger.checkpoint'), anchoredSizes);
    }

    const root = state.range.root();
    await this.checkAnchors(state, state.size, root);
    const checkpoint = signCheckpoint(state.origin, state.size, root, key);

    const details: JsonObject = {
      origin: state.origin,
      size: state.size,
      root: root.toString('base64'),
      range: state.range.hashes().map((hash) => hash.toString('hex')),
      note: checkpoint.note,
      signers: state.signers,
    };
    const [record] = await this.appendLocked(writer, [{ kind: 'ledger.checkpoint', details, outcome: 'ok' }], true);
    const line = (await writer.lastLine()) as Buffer;
    return { checkpoint, seq: record.seq, line, reused: false };
  }

  private async anchoredSizes(): Promise<Set<number>> {
    const sizes = new Set<number>();
    for (const store of this.parts.checkpointStores) {
      const head = await store.load(this.location).catch(() => undefined);
      const signed = head ? signedState(head) : undefined;
      if (signed) {
        sizes.add(signed.size);
      }
    }
    return sizes;
  }

  /**
   * Throws when a store contains a head that the ledger, as it is now, does not extend. Only the
   * signed note of a stored head counts, with a signature by a key this ledger registered: the
   * plain fields beside it are unsigned, and `audit verify` ignores them too.
   */
  private async checkAnchors(state: TailState, size: number, root: Buffer): Promise<void> {
    for (const store of this.parts.checkpointStores) {
      let head: AnchoredHead | undefined;
      try {
        head = await store.load(this.location);
      } catch {
        // An unreadable store is reported by saveAnchors; it cannot prove a rollback either.
        continue;
      }
      if (!head) {
        continue;
      }

      let note: Checkpoint;
      try {
        note = parseCheckpoint(head.note);
      } catch (error) {
        throw new LedgerError(
          'LEDGER_CHECKPOINT',
          `${store.description} contains an invalid checkpoint for ${this.location}: ${(error as Error).message}. Run aishell audit verify; no checkpoint was written`,
        );
      }
      if (note.origin !== state.origin) {
        throw new LedgerError(
          'LEDGER_ROLLED_BACK',
          `${store.description} contains a checkpoint of ledger ${note.origin}, but ${this.location} is ledger ${state.origin}: ` +
            `the ledger was replaced. Run aishell audit verify; if the replacement was deliberate, remove the entry for ${this.location} from the store`,
        );
      }
      if (!findValidSigner(note, state.signers.map(parseVerifierKey))) {
        throw new LedgerError(
          'LEDGER_CHECKPOINT',
          `${store.description} contains a checkpoint for ${this.location} that no key registered in the ledger signed: ` +
            'the store or the ledger was altered. Run aishell audit verify; no checkpoint was written',
        );
      }
      if (note.size > size) {
        throw new LedgerError(
          'LEDGER_ROLLED_BACK',
          `${store.description} contains a signed checkpoint of size ${note.size}, but ${this.location} has only ${size} records: ` +
            'the ledger was truncated or replaced by an older copy. Run aishell audit verify; no checkpoint was written',
        );
      }
      const known = note.size === size ? root : state.roots.get(note.size);
      if (known && !known.equals(note.root)) {
        throw new LedgerError(
          'LEDGER_ROLLED_BACK',
          `${this.location} does not extend the checkpoint of size ${note.size} in ${store.description}: ` +
            'the ledger was rewritten or replaced by another copy. Run aishell audit verify; no checkpoint was written',
        );
      }
    }
  }

  private async saveAnchors(sealed: SealedHead): Promise<Pick<CheckpointResult, 'stored' | 'failed'>> {
    const stored: string[] = [];
    const failed: { store: string; error: string }[] = [];
    const head: AnchoredHead = {
      ledger: this.location,
      origin: sealed.checkpoint.origin,
      size: sealed.checkpoint.size,
      root: sealed.checkpoint.root.toString('base64'),
      note: sealed.checkpoint.note,
      checkpointSeq: sealed.seq,
      checkpointLeaf: leafHash(sealed.line).toString('hex'),
      written: this.now().toISOString(),
    };

    for (const store of this.parts.checkpointStores) {
      try {
        await store.save(head);
        stored.push(store.description);
      } catch (error) {
        failed.push({ store: store.description, error: (error as Error).message });
      }
    }
    return { stored, failed };
  }

  /** Finds the latest checkpoint record of the ledger, without writing anything. */
  async latestCheckpoint(): Promise<{ checkpoint: Checkpoint; seq: number } | undefined> {
    let latest: { checkpoint: Checkpoint; seq: number } | undefined;
    for await (const line of this.parts.backend.scan()) {
      if (kindOf(line) !== 'ledger.checkpoint') {
        continue;
      }
      const record = readLine(line);
      if (record) {
        latest = { checkpoint: parseCheckpoint(String(record.details.note)), seq: record.seq };
      }
    }
    return latest;
  }

  /** Checks the whole ledger and every head kept outside it; see VerifyReport. */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    return (await this.verifyWithTree(options)).report;
  }

  private async verifyWithTree(options: VerifyOptions): Promise<{ report: VerifyReport; tree?: MerkleTree }> {
    const externalHeads: ExternalHead[] = (options.checkpoints ?? []).map(({ source, text }) => externalHeadFromText(source, text));

    if (options.useStores !== false) {
      for (const store of this.parts.checkpointStores) {
        try {
          const head = await store.load(this.location);
          // A store without a head is listed too, so the report names every store it consulted.
          externalHeads.push(head ? { source: store.description, head } : { source: store.description, error: `no checkpoint of ${this.location}` });
        } catch (error) {
          externalHeads.push({ source: store.description, error: (error as Error).message });
        }
      }
    }

    for (const skipped of options.skippedStores ?? []) {
      externalHeads.push({ source: skipped.source, error: skipped.reason });
    }

    const trustedKeys = options.trustedKeys?.map(parseVerifierKey);
    return verifyLedger(this.parts.backend, { externalHeads, trustedKeys, allowEmpty: options.allowEmpty });
  }

  /** Reads the ledger's origin line from its first record or retention marker. */
  async origin(): Promise<string | undefined> {
    for await (const line of this.parts.backend.scan()) {
      const record = readLine(line);
      if (record && typeof record.details.origin === 'string') {
        return record.details.origin;
      }
    }
    return undefined;
  }

  /** Streams the records in storage order, skipping damaged lines (verify reports those). */
  async *records(): AsyncIterable<LedgerRecord> {
    for await (const line of this.parts.backend.scan()) {
      const record = readLine(line);
      if (record) {
        yield record;
      }
    }
  }

  /** Records matching every field of the filter, oldest first; `limit` keeps the newest N. */
  async read(filter: RecordFilter = {}): Promise<LedgerRecord[]> {
    const matches: LedgerRecord[] = [];
    for await (const record of this.records()) {
      if (matchesFilter(record, filter)) {
        matches.push(record);
        if (filter.limit !== undefined && matches.length > filter.limit) {
          matches.shift();
        }
      }
    }
    return matches;
  }

  /** Proves that record `seq` is in the tree of `size` records (default: the whole ledger). */
  async proveInclusion(seq: number, size?: number): Promise<InclusionResult> {
    const tree = await this.tree();
    const treeSize = size ?? tree.size;
    const proof = tree.inclusionProof(seq, treeSize);
    const root = tree.root(treeSize);
    const leaf = tree.subtreeHash(seq, seq + 1);
    return {
      seq,
      size: treeSize,
      leaf: leaf.toString('hex'),
      root: root.toString('hex'),
      proof: proof.map((hash) => hash.toString('hex')),
      verified: verifyInclusion(seq, treeSize, leaf, proof, root),
    };
  }

  /** Proves that the tree of `oldSize` records is a prefix of the tree of `newSize`. */
  async proveConsistency(oldSize: number, newSize?: number): Promise<ConsistencyResult> {
    const tree = await this.tree();
    const size = newSize ?? tree.size;
    const proof = tree.consistencyProof(oldSize, size);
    const oldRoot = tree.root(oldSize);
    const newRoot = tree.root(size);
    return {
      oldSize,
      newSize: size,
      oldRoot: oldRoot.toString('hex'),
      newRoot: newRoot.toString('hex'),
      proof: proof.map((hash) => hash.toString('hex')),
      verified: verifyConsistency(oldSize, size, oldRoot, newRoot, proof),
    };
  }

  private async tree(): Promise<MerkleTree> {
    const { report, tree } = await this.verifyWithTree({ useStores: false, allowEmpty: true });
    if (!tree) {
      throw new LedgerError('LEDGER_CORRUPT', `cannot build the Merkle tree of ${this.location}: ${report.problems[0]?.message ?? 'unknown error'}`);
    }
    return tree;
  }

  /**
   * Repairs the end of the ledger after a crash and records the repair: an incomplete last line
   * is removed, and a complete record that only lacks its newline gets the newline back.
   */
  async repair(): Promise<RepairResult | undefined> {
    return this.parts.backend.exclusive(async (writer) => {
      const repair = await repairTornTail(writer);
      if (!repair) {
        return undefined;
      }
      await this.appendLocked(writer, [repair.record], true);
      this.appended += 1;
      return repair.result;
    });
  }

  /**
   * Deletes records older than `before` and leaves a signed `retention.prune` marker holding the
   * compact range of the removed records, so the remaining ones still verify. Refuses to prune a
   * ledger that does not verify, because pruning would hide the evidence.
   */
  async prune(before: Date): Promise<PruneResult> {
    const { result, sealed } = await this.parts.backend.exclusive((writer) => this.pruneLocked(writer, before));
    if (sealed) {
      await this.saveAnchors(sealed);
    }
    return result;
  }

  private async pruneLocked(writer: BackendWriter, before: Date): Promise<{ result: PruneResult; sealed?: SealedHead }> {
    {
      const { report, tree } = await this.verifyWithTree({ allowEmpty: true });
      if (!report.ok || !tree) {
        throw new LedgerError(
          'LEDGER_CORRUPT',
          `refusing to prune ${this.location}: it does not verify (${report.problems[0]?.message ?? 'unknown problem'})`,
        );
      }

      const cutoff = await this.firstSeqAtOrAfter(before);
      const pruneBefore = Math.min(cutoff, tree.size);
      if (pruneBefore <= report.firstSeq) {
        return { result: { before: report.firstSeq, removed: 0 } };
      }

      // Seal everything first, so the marker itself is the only new record to sign afterwards.
      await this.checkpointLocked(writer);

      const key = await this.parts.keyStore.loadOrCreate();
      const baseRange = tree.compactRange(pruneBefore);
      const baseRoot = baseRange.root();
      const origin = report.origin as string;
      const note = signCheckpoint(origin, pruneBefore, baseRoot, key);
      const signers = [...new Set([...(await this.registeredSigners()), formatVerifierKey(key)])];

      const [marker] = await this.appendLocked(
        writer,
        [
          {
            kind: 'retention.prune',
            details: {
              origin,
              before: pruneBefore,
              removed: pruneBefore - report.firstSeq,
              cutoff: before.toISOString(),
              base: {
                size: pruneBefore,
                root: baseRoot.toString('base64'),
                range: baseRange.hashes().map((hash) => hash.toString('hex')),
                lastLeaf: tree.subtreeHash(pruneBefore - 1, pruneBefore).toString('hex'),
              },
              note: note.note,
              signers,
            },
            outcome: 'ok',
          },
        ],
        true,
      );
      const sealed = await this.checkpointLocked(writer);
      const removed = await writer.deleteBefore(pruneBefore);
      return { result: { before: pruneBefore, removed, markerSeq: marker.seq }, sealed };
    }
  }

  private async firstSeqAtOrAfter(time: Date): Promise<number> {
    let last = 0;
    for await (const record of this.records()) {
      if (Date.parse(record.time) >= time.getTime()) {
        return record.seq;
      }
      last = record.seq + 1;
    }
    return last;
  }

  private async registeredSigners(): Promise<string[]> {
    const keys: string[] = [];
    for await (const record of this.records()) {
      if (record.kind === 'ledger.signer' && typeof record.details.key === 'string') {
        keys.push(record.details.key);
      }
      if (record.kind === 'retention.prune' && Array.isArray(record.details.signers)) {
        keys.push(...record.details.signers.filter((key): key is string => typeof key === 'string'));
      }
    }
    return keys;
  }

  /** Returns the verifier key of the signing key, in `name+id+base64` form. */
  async verifierKey(): Promise<string> {
    return formatVerifierKey(await this.parts.keyStore.loadOrCreate());
  }

  /**
   * Writes a checkpoint if this instance appended records, then releases the backend. When the
   * checkpoint fails, the records stay appended, and the error states that and carries their
   * count in `recordsAppended`.
   */
  async close(): Promise<void> {
    try {
      if (this.appended > 0 && this.parts.checkpointOnClose !== false) {
        const appended = this.appended;
        try {
          await this.checkpoint();
        } catch (error) {
          const code = error instanceof LedgerError ? error.code : 'LEDGER_CHECKPOINT';
          throw new LedgerError(
            code,
            `${appended} record(s) were appended to ${this.location}, but no checkpoint was signed for them: ${(error as Error).message}`,
            { cause: error, recordsAppended: appended },
          );
        }
      }
    } finally {
      await this.parts.backend.close();
    }
  }
}

export interface RepairResult {
  /** Bytes of an incomplete last line that were removed; 0 when a newline was added instead. */
  removedBytes: number;
  /** Seq of a complete last record whose missing newline was added. */
  restoredNewline?: number;
}

/**
 * Repairs the bytes after the last complete line, if any. When they parse as the record that
 * continues the chain, only the newline was lost, so the newline is added and the record kept.
 * Anything else is an incomplete line from an interrupted write and is cut. Returns the
 * `ledger.repair` record to append.
 */
async function repairTornTail(writer: BackendWriter): Promise<{ record: LedgerRecordInput; result: RepairResult } | undefined> {
  const torn = await writer.tornTail();
  if (!torn) {
    return undefined;
  }

  const last = await writer.lastLine();
  const complete = completeNextRecord(torn, last);
  if (complete !== undefined) {
    await writer.terminateTornTail();
    return {
      record: {
        kind: 'ledger.repair',
        details: { reason: `added the newline missing after record seq ${complete}, which was complete`, restoredNewline: complete },
        outcome: 'ok',
      },
      result: { removedBytes: 0, restoredNewline: complete },
    };
  }

  const removed = (await writer.removeTornTail()) ?? torn;
  return {
    record: {
      kind: 'ledger.repair',
      details: {
        reason: 'removed an incomplete last line left by an interrupted write',
        removedBytes: removed.length,
        removedSha256: createHash('sha256').update(removed).digest('hex'),
      },
      outcome: 'ok',
    },
    result: { removedBytes: removed.length },
  };
}

function signerRecord(key: SigningKey, source: string): LedgerRecordInput {
  return {
    kind: 'ledger.signer',
    details: { key: formatVerifierKey(key), source },
    outcome: 'ok',
  };
}

/**
 * Rebuilds the tree state from the lines since the last checkpoint record: its stored compact
 * range plus the leaves after it. Without a checkpoint the lines start at the genesis record.
 * Roots are kept only at `wantedSizes` (the anchored heads), because each costs log(n) hashes.
 */
function tailState(lines: Buffer[], wantedSizes: ReadonlySet<number> = new Set()): TailState {
  const first = readLine(lines[0]);
  if (!first) {
    throw new LedgerError('LEDGER_CORRUPT', 'the latest checkpoint record is damaged; run aishell audit verify');
  }

  let range: CompactRange;
  let origin: string;
  let signers: string[] = [];
  let previousCheckpoint: TailState['previousCheckpoint'];

  if (first.kind === 'ledger.checkpoint') {
    const details = first.details as { range?: string[]; size?: number; root?: string; note?: string; origin?: string; signers?: string[] };
    range = new CompactRange(first.seq, (details.range ?? []).map((hex) => Buffer.from(hex, 'hex')));
    if (range.root().toString('base64') !== details.root) {
      throw new LedgerError('LEDGER_CORRUPT', `checkpoint record seq ${first.seq} is inconsistent; run aishell audit verify`);
    }
    origin = String(details.origin);
    signers = [...(details.signers ?? [])];
    previousCheckpoint = { seq: first.seq, note: String(details.note) };
  } else if (first.seq === 0 && first.kind === 'ledger.open') {
    range = new CompactRange();
    origin = String(first.details.origin);
  } else {
    throw new LedgerError('LEDGER_CORRUPT', `no checkpoint or genesis record found before seq ${first.seq}; run aishell audit verify`);
  }

  const roots = new Map<number, Buffer>();
  const keep = () => {
    if (wantedSizes.has(range.size)) {
      roots.set(range.size, range.root());
    }
  };
  keep();
  for (const line of lines) {
    if (line.includes('"kind":"ledger.signer"')) {
      const record = readLine(line);
      if (record?.kind === 'ledger.signer' && typeof record.details.key === 'string' && !signers.includes(record.details.key)) {
        signers.push(record.details.key);
      }
    }
    range.append(leafHash(line));
    keep();
  }

  const lastKind = readLine(lines[lines.length - 1])?.kind;
  return { origin, size: range.size, range, roots, signers, lastKind, previousCheckpoint };
}

/** Accepts either a bare signed note (`audit checkpoint` output) or an anchor file's JSON. */
function externalHeadFromText(source: string, text: string): ExternalHead {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { heads?: Record<string, AnchoredHead>; note?: string };
      if (parsed.heads) {
        const heads = Object.values(parsed.heads);
        if (heads.length !== 1) {
          return { source, error: `contains ${heads.length} ledgers' heads; pass a single signed note instead` };
        }
        return { source, head: heads[0] };
      }
      if (typeof parsed.note === 'string') {
        return { source, head: parsed as AnchoredHead };
      }
      return { source, error: 'JSON without a "note" or "heads" field' };
    } catch (error) {
      return { source, error: `invalid JSON: ${(error as Error).message}` };
    }
  }
  return { source, head: { note: text } };
}
