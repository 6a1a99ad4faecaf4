import { createHash } from 'node:crypto';

import { LedgerError } from './errors.js';

// Merkle tree hashing, inclusion and consistency proofs as defined by RFC 6962 section 2.1 and
// RFC 9162 section 2.1. Tree sizes are JavaScript numbers, so halving uses division instead of
// `>>`, which would wrap above 2^31.

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** SHA-256 of the empty string: the root of a tree with no leaves. */
export const EMPTY_ROOT = createHash('sha256').digest();

/** Leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Buffer | string): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** Interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** Largest power of two strictly smaller than n (n >= 2): the RFC 6962 split point. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) {
    k *= 2;
  }
  return k;
}

/**
 * The right edge of a tree: roots of the perfect subtrees that cover leaves [0, size), largest
 * first. It is enough to compute the root of the tree and of any later size, so a pruned prefix
 * or a checkpoint can be stored as this list instead of every leaf.
 */
export class CompactRange {
  private nodes: Buffer[];
  private count: number;

  constructor(size = 0, nodes: Buffer[] = []) {
    if (nodes.length !== bitCount(size)) {
      throw new LedgerError('LEDGER_PROOF', `compact range for size ${size} needs ${bitCount(size)} hashes, got ${nodes.length}`);
    }
    this.count = size;
    this.nodes = [...nodes];
  }

  get size(): number {
    return this.count;
  }

  hashes(): Buffer[] {
    return [...this.nodes];
  }

  append(leaf: Buffer): void {
    let hash = leaf;
    let remaining = this.count;

    // Each trailing 1 bit of the old size is a perfect subtree of the same height as the new
    // one, so the two merge, exactly like a carry in binary addition.
    while (remaining % 2 === 1) {
      const left = this.nodes.pop() as Buffer;
      hash = nodeHash(left, hash);
      remaining = (remaining - 1) / 2;
    }

    this.nodes.push(hash);
    this.count += 1;
  }

  /** Folds the subtree roots right to left, which is the RFC 6962 MTH of the whole range. */
  root(): Buffer {
    if (this.nodes.length === 0) {
      return EMPTY_ROOT;
    }
    let hash = this.nodes[this.nodes.length - 1];
    for (let index = this.nodes.length - 2; index >= 0; index -= 1) {
      hash = nodeHash(this.nodes[index], hash);
    }
    return hash;
  }

  clone(): CompactRange {
    return new CompactRange(this.count, this.nodes);
  }
}

function bitCount(n: number): number {
  let count = 0;
  let rest = n;
  while (rest > 0) {
    count += rest % 2;
    rest = Math.floor(rest / 2);
  }
  return count;
}

/** Leaf hashes by index; a plain `Buffer[]` qualifies. */
export interface LeafList {
  readonly length: number;
  at(index: number): Buffer | undefined;
}

/**
 * Leaf hashes packed into one growing buffer: a million leaves take 32 MB instead of a million
 * small Buffer objects.
 */
export class LeafStore implements LeafList {
  private data = Buffer.alloc(32 * 1024);
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(hash: Buffer): void {
    if ((this.count + 1) * 32 > this.data.length) {
      const grown = Buffer.alloc(this.data.length * 2);
      this.data.copy(grown);
      this.data = grown;
    }
    hash.copy(this.data, this.count * 32);
    this.count += 1;
  }

  at(index: number): Buffer | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      return undefined;
    }
    return this.data.subarray(index * 32, index * 32 + 32);
  }
}

/**
 * A tree over leaf hashes whose first `base.size` leaves may be gone (retention pruning): those
 * are represented only by the compact range at that size. Any subtree that is not entirely
 * inside the pruned prefix can still be hashed, so proofs for later leaves and sizes still work.
 */
export class MerkleTree {
  private readonly leaves: LeafList;
  private readonly baseSize: number;
  private readonly baseNodes = new Map<string, Buffer>();

  constructor(leaves: LeafList, base?: CompactRange) {
    this.leaves = leaves;
    this.baseSize = base?.size ?? 0;

    if (base) {
      // The compact range nodes are the aligned subtrees given by the set bits of the size,
      // largest first.
      const hashes = base.hashes();
      let start = 0;
      let next = 0;
      for (let bit = highestPowerOfTwo(base.size); bit >= 1; bit /= 2) {
        if (Math.floor(base.size / bit) % 2 === 1) {
          this.baseNodes.set(`${start}:${start + bit}`, hashes[next]);
          next += 1;
          start += bit;
        }
      }
    }
  }

  get size(): number {
    return this.baseSize + this.leaves.length;
  }

  get prunedSize(): number {
    return this.baseSize;
  }

  /** MTH(D[start:end]) as in RFC 6962. */
  subtreeHash(start: number, end: number): Buffer {
    if (end - start === 0) {
      return EMPTY_ROOT;
    }

    const known = this.baseNodes.get(`${start}:${end}`);
    if (known) {
      return known;
    }

    if (end - start === 1) {
      if (start < this.baseSize) {
        throw new LedgerError('LEDGER_PROOF', `leaf ${start} was pruned, so no proof can use it`);
      }
      return this.leaves.at(start - this.baseSize) as Buffer;
    }

    const k = splitPoint(end - start);
    return nodeHash(this.subtreeHash(start, start + k), this.subtreeHash(start + k, end));
  }

  root(size = this.size): Buffer {
    this.checkSize(size);
    return this.subtreeHash(0, size);
  }

  /** Returns the compact range of the first `size` leaves, from which a later tree can continue. */
  compactRange(size: number): CompactRange {
    this.checkSize(size);
    const nodes: Buffer[] = [];
    let start = 0;
    for (let bit = highestPowerOfTwo(size); bit >= 1; bit /= 2) {
      if (Math.floor(size / bit) % 2 === 1) {
        nodes.push(this.subtreeHash(start, start + bit));
        start += bit;
      }
    }
    return new CompactRange(size, nodes);
  }

  /** Audit path for leaf `index` in the tree of `size` leaves (RFC 6962 PATH). */
  inclusionProof(index: number, size = this.size): Buffer[] {
    this.checkSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new LedgerError('LEDGER_PROOF', `leaf index ${index} is outside a tree of size ${size}`);
    }
    return this.path(index, 0, size);
  }

  private path(index: number, start: number, end: number): Buffer[] {
    const n = end - start;
    if (n === 1) {
      return [];
    }
    const k = splitPoint(n);
    if (index < k) {
      return [...this.path(index, start, start + k), this.subtreeHash(start + k, end)];
    }
    return [...this.path(index - k, start + k, end), this.subtreeHash(start, start + k)];
  }

  /** Proof that the tree of `oldSize` leaves is a prefix of the tree of `newSize` (RFC 6962 PROOF). */
  consistencyProof(oldSize: number, newSize = this.size): Buffer[] {
    this.checkSize(newSize);
    if (!Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > newSize) {
      throw new LedgerError('LEDGER_PROOF', `no consistency proof from size ${oldSize} to size ${newSize}: need 1 <= old <= new`);
    }
    if (oldSize === newSize) {
      return [];
    }
    return this.subproof(oldSize, 0, newSize, true);
  }

  private subproof(m: number, start: number, end: number, complete: boolean): Buffer[] {
    const n = end - start;
    if (m === n) {
      return complete ? [] : [this.subtreeHash(start, end)];
    }
    const k = splitPoint(n);
    if (m <= k) {
      return [...this.subproof(m, start, start + k, complete), this.subtreeHash(start + k, end)];
    }
    return [...this.subproof(m - k, start + k, end, false), this.subtreeHash(start, start + k)];
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) {
      throw new LedgerError('LEDGER_PROOF', `tree size ${size} is outside 0..${this.size}`);
    }
  }
}

/** Verifies an inclusion proof (RFC 9162 section 2.1.3.2). Returns false for any malformed input. */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return false;
  }
  if (!proof.every((hash) => hash.length === 32) || leaf.length !== 32) {
    return false;
  }

  let fn = index;
  let sn = size - 1;
  let hash = leaf;

  for (const sibling of proof) {
    if (sn === 0) {
      return false;
    }
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(sibling, hash);
      // Skip the levels where this node has no right sibling (the right edge of the tree).
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      hash = nodeHash(hash, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }

  return sn === 0 && hash.equals(root);
}

/** Verifies a consistency proof (RFC 9162 section 2.1.4.2). Returns false for any malformed input. */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 1 || oldSize > newSize) {
    return false;
  }
  if (!proof.every((hash) => hash.length === 32)) {
    return false;
  }
  if (oldSize === newSize) {
    return proof.length === 0 && oldRoot.equals(newRoot);
  }
  if (proof.length === 0) {
    return false;
  }

  // When the old tree is a perfect tree its root is a node of the new tree and is not sent.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];

  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }

  let oldHash = path[0];
  let newHash = path[0];

  for (const sibling of path.slice(1)) {
    if (sn === 0) {
      return false;
    }
    if (fn % 2 === 1 || fn === sn) {
      oldHash = nodeHash(sibling, oldHash);
      newHash = nodeHash(sibling, newHash);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      newHash = nodeHash(newHash, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }

  return sn === 0 && oldHash.equals(oldRoot) && newHash.equals(newRoot);
}

function highestPowerOfTwo(n: number): number {
  let power = 1;
  while (power * 2 <= n) {
    power *= 2;
  }
  return power;
}

function isPowerOfTwo(n: number): boolean {
  let rest = n;
  while (rest > 1 && rest % 2 === 0) {
    rest /= 2;
  }
  return rest === 1;
}
