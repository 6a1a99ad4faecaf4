import type { AnchoredHead, HeadSummary } from './anchors.js';
import type { LedgerBackend } from './backend.js';
import { canonicalJson } from './canonical.js';
import { findValidSigner, parseCheckpoint, parseVerifierKey, type Checkpoint, type VerifierKey } from './checkpoint.js';
import { CompactRange, LeafStore, MerkleTree, leafHash } from './merkle.js';
import { GENESIS_PREV, completeNextRecord, decodeLine } from './records.js';
import type { LedgerRecord } from './types.js';

/** One reason the ledger cannot be trusted, tied to the first record it affects where known. */
export interface VerifyProblem {
  code:
    | 'malformed'
    | 'missing'
    | 'out-of-order'
    | 'changed'
    | 'rewritten'
    | 'bad-signature'
    | 'checkpoint-mismatch'
    | 'pruned-without-marker'
    | 'truncated'
    | 'diverged'
    | 'invalid-checkpoint'
    | 'no-ledger';
  seq?: number;
  message: string;
}

/** A head kept outside the ledger: from an anchor store or a `--checkpoint` file. */
export interface ExternalHead {
  source: string;
  head?: Pick<AnchoredHead, 'note'> & Partial<AnchoredHead>;
  error?: string;
}

export interface AnchorResult {
  source: string;
  size?: number;
  status: 'ok' | 'failed' | 'skipped';
  message?: string;
}

export interface VerifyReport {
  ok: boolean;
  location: string;
  origin?: string;
  /** Seq of the first stored record; above 0 after retention pruning. */
  firstSeq: number;
  /** Number of records ever appended, pruned ones included: the tree size. */
  size: number;
  checkpoints: number;
  latestCheckpoint?: { seq: number; size: number; root: string };
  /** Records after the latest checkpoint record, which no signature covers yet. */
  unsealed: number;
  anchors: AnchorResult[];
  signers: string[];
  firstBadSeq?: number;
  problems: VerifyProblem[];
  warnings: string[];
}

export interface VerifyInput {
  externalHeads: ExternalHead[];
  /** When set, only these keys may sign checkpoints; otherwise keys registered in the ledger. */
  trustedKeys?: VerifierKey[];
  /** Accept a ledger that does not exist or has no records (default: a problem). */
  allowEmpty?: boolean;
}

/** The keys that may sign each head, and the ledger's own registrations for messages. */
interface Signers {
  allowed: SignerEntry[];
  registered: SignerEntry[];
  /** True when `--trusted-key` replaced the ledger's own registrations. */
  pinned: boolean;
}

interface CheckpointEntry {
  seq: number;
  record: LedgerRecord;
}

interface SignerEntry {
  key: VerifierKey;
  seq: number;
}

const CLOCK_SKEW_MS = 5 * 60 * 1000;
const MAX_TIME_WARNINGS = 5;

/**
 * Reads every stored line once and checks four things in order. Each line is canonical JSON with
 * the next seq. Each `prev` is the leaf hash of the line before it. Each in-ledger checkpoint
 * signs the Merkle root of the records before it. Every head kept outside the ledger is a prefix
 * of it. Returns the report and the tree for proofs.
 */
export async function verifyLedger(backend: LedgerBackend, input: VerifyInput): Promise<{ report: VerifyReport; tree?: MerkleTree }> {
  const scan = await scanLines(backend);
  const { problems, warnings } = scan;

  const report: VerifyReport = {
    ok: false,
    location: backend.location,
    origin: scan.origin,
    firstSeq: scan.firstSeq,
    size: scan.firstSeq + scan.leaves.length,
    checkpoints: scan.checkpoints.length,
    unsealed: 0,
    anchors: [],
    signers: [],
    problems,
    warnings,
  };

  const torn = await backend.tornTail();
  const complete = torn ? completeNextRecord(torn, scan.lastLine) : undefined;
  if (complete !== undefined) {
    warnings.push(
      `record seq ${complete} is complete but lacks its final newline, so it was not checked; the next append or \`aishell audit repair\` adds the newline`,
    );
  } else if (torn) {
    warnings.push(
      `the last ${torn.length} bytes are an incomplete line from an interrupted write; the next append or \`aishell audit repair\` removes them`,
    );
  }

  if (scan.leaves.length === 0) {
    await checkEmptyLedger(backend, input, report);
    finish(report);
    return { report };
  }

  const base = resolveBase(scan, problems);
  const registered = collectSigners(scan, base?.signers ?? []);
  const signers: Signers = input.trustedKeys?.length
    ? { allowed: input.trustedKeys.map((key) => ({ key, seq: -1 })), registered, pinned: true }
    : { allowed: registered, registered, pinned: false };
  report.signers = [...new Set(signers.allowed.map((entry) => entry.key.name))];

  // The last broken link is decided first, with the leaf hashes the anchors keep, so that the
  // signature and anchor checks below can defer to the record it names.
  resolveTail(scan, input.externalHeads, problems);

  let tree: MerkleTree | undefined;
  if (base !== undefined) {
    tree = new MerkleTree(scan.leaves, base.range);
    const heads = new Heads(base.range, scan.leaves, wantedSizes(scan, input.externalHeads));
    checkInLedgerCheckpoints(scan, heads, signers, report);
    for (const external of input.externalHeads) {
      report.anchors.push(checkExternalHead(external, scan, heads, signers, report));
    }
  }

  if (!report.anchors.some((anchor) => anchor.status !== 'skipped')) {
    warnings.push('no checkpoint kept outside the ledger was checked, so a truncated tail or an older copy cannot be detected');
  }
  if (report.unsealed > 0) {
    warnings.push(`${report.unsealed} record(s) after the latest checkpoint are not covered by a signature yet`);
  }

  finish(report);
  return { report, tree };
}

function finish(report: VerifyReport): void {
  const seqs = report.problems.map((problem) => problem.seq).filter((seq): seq is number => seq !== undefined);
  report.firstBadSeq = seqs.length > 0 ? Math.min(...seqs) : undefined;
  report.ok = report.problems.length === 0;
}

/**
 * Handles a ledger without records. A head kept elsewhere proves that records existed, so the
 * ledger was removed or emptied. Without one, a missing ledger is a problem unless the caller
 * accepts an empty ledger, because a path typo would otherwise verify as intact.
 */
async function checkEmptyLedger(backend: LedgerBackend, input: VerifyInput, report: VerifyReport): Promise<void> {
  const exists = await backend.exists();
  for (const external of input.externalHeads) {
    if (external.error || !external.head) {
      report.warnings.push(`${external.source} was not checked: ${external.error ?? 'no head'}`);
      report.anchors.push({ source: external.source, status: 'skipped', message: external.error });
      continue;
    }
    let size: number;
    try {
      size = parseCheckpoint(external.head.note).size;
    } catch (error) {
      const message = `${external.source} does not hold a valid checkpoint: ${(error as Error).message}`;
      report.problems.push({ code: 'invalid-checkpoint', message });
      report.anchors.push({ source: external.source, status: 'failed', message });
      continue;
    }
    const state = exists ? 'has no records' : 'is missing';
    const message = `the ledger ${backend.location} ${state}, but ${external.source} contains a signed checkpoint of size ${size}: records seq 0..${size - 1} were removed`;
    report.problems.push({ code: 'truncated', seq: 0, message });
    report.anchors.push({ source: external.source, size, status: 'failed', message });
  }

  if (report.problems.length === 0 && !input.allowEmpty) {
    report.problems.push({
      code: 'no-ledger',
      message: exists ? `the ledger ${backend.location} has no records` : `no ledger at ${backend.location}`,
    });
  }
}

interface ScanResult {
  origin?: string;
  firstSeq: number;
  leaves: LeafStore;
  /** The record at each position, or undefined where the line did not parse. */
  checkpoints: CheckpointEntry[];
  signerRecords: CheckpointEntry[];
  pruneMarkers: CheckpointEntry[];
  firstPrev?: string;
  /** The last complete line, to tell a complete record without its newline from a torn one. */
  lastLine?: Buffer;
  /**
   * False when records are missing, duplicated or moved. Line positions then no longer equal seq
   * numbers, so a root computed by position cannot be compared with a head of a given size.
   */
  positional: boolean;
  unresolvedTail?: PendingBreak;
  problems: VerifyProblem[];
  warnings: string[];
}

/** A chain link that did not match and still needs the next record to tell which side changed. */
interface PendingBreak {
  record: LedgerRecord;
  expectedPrev: string;
  previousSeq: number;
}

async function scanLines(backend: LedgerBackend): Promise<ScanResult> {
  const result: ScanResult = {
    firstSeq: 0,
    leaves: new LeafStore(),
    checkpoints: [],
    signerRecords: [],
    pruneMarkers: [],
    positional: true,
    problems: [],
    warnings: [],
  };

  let expected: number | undefined;
  let previous: { record?: LedgerRecord; leaf: Buffer; sane: boolean } | undefined;
  let pending: PendingBreak | undefined;
  let latestTime = 0;
  let timeWarnings = 0;

  for await (const line of backend.scan()) {
    const leaf = leafHash(line);
    const decoded = decodeLine(line);
    const position = result.leaves.length;
    result.leaves.push(leaf);
    result.lastLine = line;

    if ('error' in decoded) {
      const seq = expected ?? position;
      result.problems.push({ code: 'malformed', seq, message: `record seq ${seq} (line ${position + 1}) is damaged: ${decoded.error}` });
      if (pending) {
        resolveBreak(pending, undefined, result.problems);
        pending = undefined;
      }
      expected = seq + 1;
      previous = { leaf, sane: false };
      continue;
    }

    const record = decoded.record;
    let sane = true;

    if (expected === undefined) {
      result.firstSeq = record.seq;
      result.firstPrev = record.prev;
      if (record.seq === 0 && record.prev !== GENESIS_PREV) {
        result.problems.push({ code: 'changed', seq: 0, message: 'record seq 0 must have a prev hash of 64 zeros' });
      }
    } else if (record.seq > expected) {
      const gap = record.seq - expected === 1 ? `record seq ${expected} is` : `records seq ${expected}..${record.seq - 1} are`;
      result.problems.push({ code: 'missing', seq: expected, message: `${gap} missing: seq ${record.seq} follows seq ${expected - 1}` });
      sane = false;
    } else if (record.seq < expected) {
      result.problems.push({
        code: 'out-of-order',
        seq: expected,
        message: `line ${position + 1} contains seq ${record.seq} again, where seq ${expected} belongs, so a record was duplicated or moved`,
      });
      sane = false;
    }

    // Resolve a break found one line earlier, now that this record's prev is known.
    if (pending) {
      resolveBreak(pending, sane && previous?.sane ? record : undefined, result.problems, previous?.leaf);
      pending = undefined;
    }

    if (previous && sane && previous.sane && previous.record) {
      const expectedPrev = previous.leaf.toString('hex');
      if (record.prev !== expectedPrev) {
        pending = { record, expectedPrev, previousSeq: previous.record.seq };
      }
    }

    const time = Date.parse(record.time);
    if (time + CLOCK_SKEW_MS < latestTime && timeWarnings < MAX_TIME_WARNINGS) {
      result.warnings.push(`record seq ${record.seq} is dated ${record.time}, earlier than a previous record: check the writer's clock`);
      timeWarnings += 1;
    }
    latestTime = Math.max(latestTime, time);

    collectSpecialRecord(record, result);
    expected = Math.max(expected ?? 0, record.seq + 1);
    previous = { record, leaf, sane };
  }

  // The chain alone cannot resolve the last link. An anchored copy of the last record may still
  // tell which side changed, so the decision waits for the anchors.
  result.unresolvedTail = pending;
  result.positional = !result.problems.some((problem) => problem.code === 'missing' || problem.code === 'out-of-order');
  return result;
}

function collectSpecialRecord(record: LedgerRecord, result: ScanResult): void {
  const entry = { seq: record.seq, record };
  switch (record.kind) {
    case 'ledger.open':
      if (record.seq === 0 && typeof record.details.origin === 'string') {
        result.origin = record.details.origin;
      }
      break;
    case 'ledger.checkpoint':
      result.checkpoints.push(entry);
      break;
    case 'ledger.signer':
      result.signerRecords.push(entry);
      break;
    case 'retention.prune':
      result.pruneMarkers.push(entry);
      if (result.origin === undefined && typeof record.details.origin === 'string') {
        result.origin = record.details.origin;
      }
      break;
    default:
      break;
  }
}

/**
 * Decides which record a broken link points to, where record j+1's prev does not match record j.
 * If restoring j+1's prev to the hash of j makes j+1 hash to what j+2 references, only j+1's prev
 * field changed. Otherwise record j changed, because its successor still contains its original
 * hash.
 */
function resolveBreak(pending: PendingBreak, next: LedgerRecord | undefined, problems: VerifyProblem[], pendingLeaf?: Buffer): void {
  if (next && pendingLeaf && next.prev !== pendingLeaf.toString('hex')) {
    const restored = leafHash(canonicalJson({ ...pending.record, prev: pending.expectedPrev })).toString('hex');
    if (restored === next.prev) {
      problems.push({
        code: 'changed',
        seq: pending.record.seq,
        message: `record seq ${pending.record.seq} was changed: its prev field no longer contains the hash of seq ${pending.previousSeq}`,
      });
      return;
    }
  }

  const where = next ? '' : ` (or seq ${pending.record.seq} itself, which has no successor to tell)`;
  problems.push({
    code: 'changed',
    seq: pending.previousSeq,
    message: `record seq ${pending.previousSeq} was changed${where}: it no longer hashes to the prev field of seq ${pending.record.seq}`,
  });
}

/**
 * Decides the broken link at the end of the ledger, which has no successor to compare with. An
 * anchor that keeps the leaf hash of that last record distinguishes the two cases. The same leaf
 * means that the record before it changed, and another leaf means that the last record changed.
 */
function resolveTail(scan: ScanResult, externalHeads: ExternalHead[], problems: VerifyProblem[]): void {
  const tail = scan.unresolvedTail;
  if (!tail) {
    return;
  }
  const leaf = scan.leaves.at(scan.leaves.length - 1)?.toString('hex');
  const anchored = externalHeads.find((external) => external.head?.checkpointSeq === tail.record.seq && external.head.checkpointLeaf !== undefined);

  if (anchored?.head?.checkpointLeaf === undefined) {
    resolveBreak(tail, undefined, problems);
  } else if (anchored.head.checkpointLeaf === leaf) {
    problems.push({
      code: 'changed',
      seq: tail.previousSeq,
      message: `record seq ${tail.previousSeq} was changed: it no longer hashes to the prev field of seq ${tail.record.seq}, which matches the copy named by ${anchored.source}`,
    });
  } else {
    problems.push({
      code: 'changed',
      seq: tail.record.seq,
      message: `record seq ${tail.record.seq} was changed: it differs from the copy named by ${anchored.source} and its prev field no longer contains the hash of seq ${tail.previousSeq}`,
    });
  }
}

interface Base {
  range: CompactRange;
  signers: VerifierKey[];
}

/** Reads the compact range of pruned records from the retention marker; empty without pruning. */
function resolveBase(scan: ScanResult, problems: VerifyProblem[]): Base | undefined {
  if (scan.leaves.length === 0 || scan.firstSeq === 0) {
    return { range: new CompactRange(), signers: [] };
  }

  const marker = [...scan.pruneMarkers].reverse().find((entry) => entry.record.details.before === scan.firstSeq);
  if (!marker) {
    problems.push({
      code: 'pruned-without-marker',
      seq: 0,
      message: `the ledger starts at seq ${scan.firstSeq} but no retention.prune record accounts for seq 0..${scan.firstSeq - 1}: they were removed`,
    });
    return undefined;
  }

  const details = marker.record.details as Record<string, unknown>;
  const base = details.base as { size?: unknown; root?: unknown; range?: unknown; lastLeaf?: unknown } | undefined;
  try {
    const hashes = (base?.range as string[]).map((hex) => Buffer.from(hex, 'hex'));
    const range = new CompactRange(scan.firstSeq, hashes);
    const signers = ((details.signers as string[]) ?? []).map(parseVerifierKey);
    const note = parseCheckpoint(String(details.note));

    if (base?.size !== scan.firstSeq || note.size !== scan.firstSeq || !range.root().equals(note.root)) {
      throw new Error('its compact range, size and signed checkpoint disagree');
    }
    if (!findValidSigner(note, signers)) {
      throw new Error('its checkpoint is not signed by the keys it lists');
    }
    if (scan.firstPrev !== base.lastLeaf) {
      problems.push({ code: 'changed', seq: scan.firstSeq, message: `record seq ${scan.firstSeq} does not continue the pruned chain recorded by seq ${marker.seq}` });
    }
    return { range, signers };
  } catch (error) {
    problems.push({
      code: 'invalid-checkpoint',
      seq: marker.seq,
      message: `retention marker seq ${marker.seq} is invalid: ${(error as Error).message}`,
    });
    return undefined;
  }
}

function collectSigners(scan: ScanResult, baseSigners: VerifierKey[]): SignerEntry[] {
  const entries: SignerEntry[] = baseSigners.map((key) => ({ key, seq: -1 }));
  for (const entry of scan.signerRecords) {
    try {
      entries.push({ key: parseVerifierKey(String(entry.record.details.key)), seq: entry.seq });
    } catch {
      // A damaged signer record already fails the chain check; its key is simply not trusted.
    }
  }
  return entries;
}

/** Keys registered before the first `size` records, the only ones allowed to sign that head. */
function keysFor(signers: SignerEntry[], size: number): VerifierKey[] {
  return signers.filter((entry) => entry.seq < size).map((entry) => entry.key);
}

/**
 * Roots and compact ranges at the sizes verification needs, from one pass over the leaves: a
 * root per checkpoint by recursion would cost a full pass each.
 */
class Heads {
  private readonly ranges = new Map<number, CompactRange>();
  readonly prunedSize: number;
  readonly size: number;

  constructor(
    base: CompactRange,
    private readonly leaves: LeafStore,
    sizes: Iterable<number>,
  ) {
    this.prunedSize = base.size;
    this.size = base.size + leaves.length;
    const wanted = [...new Set(sizes)].filter((size) => size >= this.prunedSize && size <= this.size).sort((a, b) => a - b);

    const range = base.clone();
    let next = 0;
    for (let index = 0; index <= leaves.length; index += 1) {
      while (next < wanted.length && wanted[next] === range.size) {
        this.ranges.set(range.size, range.clone());
        next += 1;
      }
      if (index < leaves.length) {
        range.append(leaves.at(index) as Buffer);
      }
    }
  }

  root(size: number): Buffer {
    const range = this.ranges.get(size);
    if (!range) {
      throw new Error(`internal error: no root computed for size ${size}`);
    }
    return range.root();
  }

  compactRange(size: number): CompactRange {
    return this.ranges.get(size) ?? new CompactRange();
  }

  leafHex(seq: number): string | undefined {
    return this.leaves.at(seq - this.prunedSize)?.toString('hex');
  }
}

function wantedSizes(scan: ScanResult, externalHeads: ExternalHead[]): number[] {
  const sizes = scan.checkpoints.map((entry) => entry.seq);
  for (const external of externalHeads) {
    for (const summary of external.head?.history ?? []) {
      sizes.push(summary.size);
    }
    try {
      sizes.push(parseCheckpoint(external.head?.note ?? '').size);
    } catch {
      // Reported when the head itself is checked.
    }
  }
  return sizes;
}

function checkInLedgerCheckpoints(scan: ScanResult, tree: Heads, signers: Signers, report: VerifyReport): void {
  let lastGood = scan.firstSeq;
  let latest: CheckpointEntry | undefined;

  for (const entry of scan.checkpoints) {
    const details = entry.record.details as Record<string, unknown>;
    const size = entry.seq;
    let note: Checkpoint;
    try {
      note = parseCheckpoint(String(details.note));
    } catch (error) {
      report.problems.push({ code: 'invalid-checkpoint', seq: entry.seq, message: `checkpoint seq ${entry.seq}: ${(error as Error).message}` });
      continue;
    }

    if (details.size !== size || note.size !== size || (report.origin !== undefined && note.origin !== report.origin)) {
      report.problems.push({
        code: 'invalid-checkpoint',
        seq: entry.seq,
        message: `checkpoint seq ${entry.seq} must sign the ${size} records before it of ${report.origin ?? 'this ledger'}, but signs size ${note.size} of ${note.origin}`,
      });
      continue;
    }

    if (!findValidSigner(note, keysFor(signers.allowed, size))) {
      report.problems.push(signatureProblem(note, `checkpoint seq ${entry.seq}`, entry.seq, lastGood, signers));
      continue;
    }

    if (size < tree.prunedSize || !scan.positional) {
      continue;
    }
    if (!tree.root(size).equals(note.root)) {
      // A damaged, missing or moved record found by the chain check already explains this.
      if (earliestProblem(report.problems, lastGood, size) !== undefined) {
        continue;
      }
      const from = Math.max(lastGood, firstDifferingSubtree(details.range, note, tree.compactRange(size)) ?? lastGood);
      report.problems.push({
        code: 'rewritten',
        seq: from,
        message: `records seq ${from}..${size - 1} were rewritten: the signed checkpoint at seq ${entry.seq} does not match them`,
      });
      continue;
    }

    const range = (details.range as string[] | undefined) ?? [];
    const computed = tree.compactRange(size).hashes().map((hash) => hash.toString('hex'));
    if (range.join() !== computed.join()) {
      report.problems.push({
        code: 'checkpoint-mismatch',
        seq: entry.seq,
        message: `checkpoint seq ${entry.seq} stores a compact range that does not match the records before it`,
      });
      continue;
    }

    lastGood = size;
    latest = entry;
  }

  if (latest) {
    report.latestCheckpoint = { seq: latest.seq, size: latest.seq, root: String(latest.record.details.root) };
  }
  const lastSeq = scan.firstSeq + scan.leaves.length - 1;
  const sealedThrough = scan.checkpoints.length > 0 ? scan.checkpoints[scan.checkpoints.length - 1].seq : scan.firstSeq - 1;
  report.unsealed = Math.max(0, lastSeq - sealedThrough);
}

/**
 * Describes a head whose signature no allowed key made. With `--trusted-key`, a head signed by
 * a key that the ledger registered is reported as untrusted, and every record it covers after
 * the last trusted head counts as bad. Otherwise the checkpoint record itself was forged.
 */
function signatureProblem(note: Checkpoint, what: string, seq: number, lastGood: number, signers: Signers): VerifyProblem {
  if (!signers.pinned) {
    return { code: 'bad-signature', seq, message: `${what} is not signed by a key this ledger registered` };
  }
  const range = note.size > lastGood ? `, so records seq ${lastGood}..${note.size - 1} are not covered by a trusted signature` : '';
  const registered = findValidSigner(note, keysFor(signers.registered, note.size));
  const message = registered
    ? `${what} is signed by ${registered.name}, which is not a trusted key (--trusted-key)${range}`
    : `${what} is not signed by a trusted key (--trusted-key)${range}`;
  return { code: 'bad-signature', seq: lastGood, message };
}

/**
 * Returns the first seq of the first perfect subtree whose hash differs between the compact
 * range that a checkpoint record stores and the one computed from the records now. The stored
 * range is trusted only when it folds to the signed root, which makes it as good as signed.
 */
function firstDifferingSubtree(stored: unknown, note: Checkpoint, computed: CompactRange): number | undefined {
  if (!Array.isArray(stored) || !stored.every((hex) => typeof hex === 'string' && /^[0-9a-f]{64}$/.test(hex))) {
    return undefined;
  }
  let range: CompactRange;
  try {
    range = new CompactRange(note.size, stored.map((hex: string) => Buffer.from(hex, 'hex')));
  } catch {
    return undefined;
  }
  if (!range.root().equals(note.root)) {
    return undefined;
  }

  // The subtrees are ordered left to right, one per set bit of the size, largest first.
  const storedHashes = range.hashes();
  const computedHashes = computed.hashes();
  let start = 0;
  let remaining = note.size;
  for (let index = 0; index < storedHashes.length; index += 1) {
    let width = 1;
    while (width * 2 <= remaining) {
      width *= 2;
    }
    if (!storedHashes[index].equals(computedHashes[index])) {
      return start;
    }
    start += width;
    remaining -= width;
  }
  return undefined;
}

function checkExternalHead(
  external: ExternalHead,
  scan: ScanResult,
  tree: Heads,
  signers: Signers,
  report: VerifyReport,
): AnchorResult {
  const { source } = external;
  if (external.error || !external.head) {
    report.warnings.push(`${source} was not checked: ${external.error ?? 'no head'}`);
    return { source, status: 'skipped', message: external.error };
  }

  let note: Checkpoint;
  try {
    note = parseCheckpoint(external.head.note);
  } catch (error) {
    const message = `${source} does not hold a valid checkpoint: ${(error as Error).message}`;
    report.problems.push({ code: 'invalid-checkpoint', message });
    return { source, status: 'failed', message };
  }

  const fail = (problem: VerifyProblem): AnchorResult => {
    report.problems.push(problem);
    return { source, size: note.size, status: 'failed', message: problem.message };
  };

  if (report.origin !== undefined && note.origin !== report.origin) {
    return fail({
      code: 'diverged',
      seq: scan.firstSeq,
      message: `${source} contains a checkpoint of ledger ${note.origin}, but this is ledger ${report.origin}, so the ledger was replaced by another one`,
    });
  }
  if (!scan.positional) {
    // The chain check already reported the missing or moved records that make this comparison moot.
    return { source, size: note.size, status: 'failed', message: 'not compared, because records are missing or out of order' };
  }

  const keys = keysFor(signers.allowed, note.size);
  const signed = findValidSigner(note, keys) !== undefined;
  if (!signed && keys.length > 0) {
    return fail(signatureProblem(note, `the checkpoint in ${source}`, scan.firstSeq, scan.firstSeq, signers));
  }
  if (note.size > report.size) {
    // A cut can remove the records that registered the key, so no key may be left to check with.
    const unchecked = signed ? '' : '; its signature could not be checked, because no remaining record registers a key';
    return fail({
      code: 'truncated',
      seq: report.size,
      message: `the ledger has ${report.size} records but ${source} contains a signed checkpoint of size ${note.size}: records seq ${report.size}..${note.size - 1} are missing (truncated, or replaced by an older copy)${unchecked}`,
    });
  }
  if (!signed) {
    return fail(signatureProblem(note, `the checkpoint in ${source}`, scan.firstSeq, scan.firstSeq, signers));
  }
  if (note.size < tree.prunedSize) {
    report.warnings.push(`the checkpoint in ${source} (size ${note.size}) is older than the pruned records and cannot be checked`);
    return { source, size: note.size, status: 'skipped', message: 'older than the retention marker' };
  }

  if (!tree.root(note.size).equals(note.root)) {
    // The anchor shows only that something at or after the last matching head changed. A problem
    // that the chain check located exactly in that range is the better first bad seq.
    let goodUntil = lastMatchingHead(external.head.history ?? [], tree, scan);
    goodUntil = earliestProblem(report.problems, goodUntil, note.size) ?? goodUntil;
    return fail({
      code: 'diverged',
      seq: goodUntil,
      message: `the first ${note.size} records do not match the signed checkpoint in ${source}: this copy diverges from it at or after seq ${goodUntil}`,
    });
  }

  const { checkpointSeq, checkpointLeaf } = external.head;
  if (checkpointSeq !== undefined && checkpointLeaf !== undefined) {
    if (checkpointSeq >= report.size) {
      return fail({ code: 'truncated', seq: checkpointSeq, message: `checkpoint record seq ${checkpointSeq} named by ${source} is missing: the tail was cut` });
    }
    if (checkpointSeq >= tree.prunedSize && tree.leafHex(checkpointSeq) !== checkpointLeaf) {
      const message = `checkpoint record seq ${checkpointSeq} differs from the copy named by ${source}`;
      if (report.problems.some((problem) => problem.code === 'changed' && problem.seq === checkpointSeq)) {
        // The broken link at the end of the chain already reported this record.
        return { source, size: note.size, status: 'failed', message };
      }
      return fail({ code: 'changed', seq: checkpointSeq, message });
    }
  }

  return { source, size: note.size, status: 'ok' };
}

function earliestProblem(problems: VerifyProblem[], from: number, to: number): number | undefined {
  const seqs = problems.map((problem) => problem.seq).filter((seq): seq is number => seq !== undefined && seq >= from && seq < to);
  return seqs.length > 0 ? Math.min(...seqs) : undefined;
}

/** Returns the seq after the newest earlier anchored head that this copy still matches. */
function lastMatchingHead(history: HeadSummary[], tree: Heads, scan: ScanResult): number {
  let good = scan.firstSeq;
  for (const head of history) {
    if (head.size > tree.size || head.size < tree.prunedSize) {
      continue;
    }
    if (tree.root(head.size).toString('base64') !== head.root) {
      continue;
    }
    let end = head.size;
    if (head.checkpointSeq !== undefined && head.checkpointSeq < tree.size && head.checkpointLeaf !== undefined) {
      if (tree.leafHex(head.checkpointSeq) === head.checkpointLeaf) {
        end = head.checkpointSeq + 1;
      }
    }
    good = Math.max(good, end);
  }
  return good;
}
