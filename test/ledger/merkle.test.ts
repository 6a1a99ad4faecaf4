import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  CompactRange,
  EMPTY_ROOT,
  MerkleTree,
  leafHash,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../engine/ledger/merkle.js';

// Leaves and expected values from the Certificate Transparency reference tests, which every
// RFC 6962 implementation (Go, C++, Java) checks against.
const CT_LEAF_DATA = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  (hex) => Buffer.from(hex, 'hex'),
);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    index: 2,
    size: 3,
    proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
  },
];
const CT_CONSISTENCY = [
  { oldSize: 1, newSize: 1, proof: [] as string[] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const hex = (buffer: Buffer) => buffer.toString('hex');
const unhex = (text: string) => Buffer.from(text, 'hex');
const ctLeaves = CT_LEAF_DATA.map((data) => leafHash(data));

/** Straight transcription of RFC 6962 MTH, kept separate from the code under test. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) {
    return createHash('sha256').digest();
  }
  if (leaves.length === 1) {
    return leaves[0];
  }
  let k = 1;
  while (k * 2 < leaves.length) {
    k *= 2;
  }
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

function randomLeaves(count: number): Buffer[] {
  return Array.from({ length: count }, () => leafHash(randomBytes(8)));
}

describe('merkle hashing', () => {
  it('hashes small trees as checked by hand', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((text) => createHash('sha256').update(Buffer.from([0])).update(text).digest());
    const ab = createHash('sha256').update(Buffer.from([1])).update(a).update(b).digest();
    const abc = createHash('sha256').update(Buffer.from([1])).update(ab).update(c).digest();

    const tree = new MerkleTree([a, b, c]);

    expect(hex(leafHash('a'))).toBe(hex(a));
    expect(hex(tree.root(1))).toBe(hex(a));
    expect(hex(tree.root(2))).toBe(hex(ab));
    // Size 3 promotes c unchanged to the second level instead of pairing it with itself.
    expect(hex(tree.root(3))).toBe(hex(abc));
  });

  it('matches the Certificate Transparency roots', () => {
    const tree = new MerkleTree(ctLeaves);
    const range = new CompactRange();
    expect(hex(range.root())).toBe(CT_ROOTS[0]);
    expect(hex(EMPTY_ROOT)).toBe(CT_ROOTS[0]);

    for (let size = 1; size <= 8; size += 1) {
      range.append(ctLeaves[size - 1]);
      expect(hex(tree.root(size)), `tree size ${size}`).toBe(CT_ROOTS[size]);
      expect(hex(range.root()), `compact range size ${size}`).toBe(CT_ROOTS[size]);
    }
  });

  it('compact range root equals reference for random sizes', () => {
    const leaves = randomLeaves(300);
    const range = new CompactRange();
    for (let size = 1; size <= leaves.length; size += 1) {
      range.append(leaves[size - 1]);
      expect(hex(range.root()), `size ${size}`).toBe(hex(referenceRoot(leaves.slice(0, size))));
    }
  });
});

describe('inclusion proofs', () => {
  it('matches the Certificate Transparency paths', () => {
    const tree = new MerkleTree(ctLeaves);
    for (const vector of CT_INCLUSION) {
      const proof = tree.inclusionProof(vector.index, vector.size);
      expect(proof.map(hex), `leaf ${vector.index} of ${vector.size}`).toEqual(vector.proof);
      expect(verifyInclusion(vector.index, vector.size, ctLeaves[vector.index], proof, unhex(CT_ROOTS[vector.size]))).toBe(true);
    }
  });

  it('verifies every leaf in random tree sizes', () => {
    const leaves = randomLeaves(140);
    const tree = new MerkleTree(leaves);
    const sizes = [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64, 100, 127, 128, 129, 140];

    for (const size of sizes) {
      const root = referenceRoot(leaves.slice(0, size));
      for (let index = 0; index < size; index += 1) {
        const proof = tree.inclusionProof(index, size);
        expect(verifyInclusion(index, size, leaves[index], proof, root), `leaf ${index} of ${size}`).toBe(true);
      }
    }
  });

  it('rejects altered and malformed proofs', () => {
    const leaves = randomLeaves(13);
    const tree = new MerkleTree(leaves);
    const root = tree.root();
    const proof = tree.inclusionProof(6);

    expect(verifyInclusion(6, 13, leaves[6], proof, root)).toBe(true);
    expect(verifyInclusion(6, 13, leaves[7], proof, root)).toBe(false);
    expect(verifyInclusion(7, 13, leaves[6], proof, root)).toBe(false);
    expect(verifyInclusion(6, 12, leaves[6], proof, tree.root(12))).toBe(false);
    expect(verifyInclusion(6, 13, leaves[6], proof.slice(0, -1), root)).toBe(false);
    expect(verifyInclusion(6, 13, leaves[6], [...proof, proof[0]], root)).toBe(false);
    expect(verifyInclusion(6, 13, leaves[6], [proof[1], proof[0], ...proof.slice(2)], root)).toBe(false);
    expect(verifyInclusion(13, 13, leaves[6], proof, root)).toBe(false);
    expect(verifyInclusion(-1, 13, leaves[6], proof, root)).toBe(false);
    expect(verifyInclusion(0, 0, leaves[0], [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(6, 13, leaves[6], [proof[0].subarray(0, 31), ...proof.slice(1)], root)).toBe(false);

    const flipped = Buffer.from(proof[2]);
    flipped[0] ^= 1;
    expect(verifyInclusion(6, 13, leaves[6], [proof[0], proof[1], flipped, ...proof.slice(3)], root)).toBe(false);
  });

  it('rejects requests outside the tree', () => {
    const tree = new MerkleTree(randomLeaves(4));
    expect(() => tree.inclusionProof(4)).toThrow(/outside a tree of size 4/);
    expect(() => tree.inclusionProof(0, 5)).toThrow(/outside 0..4/);
  });
});

describe('consistency proofs', () => {
  it('matches the Certificate Transparency proofs', () => {
    const tree = new MerkleTree(ctLeaves);
    for (const vector of CT_CONSISTENCY) {
      const proof = tree.consistencyProof(vector.oldSize, vector.newSize);
      expect(proof.map(hex), `${vector.oldSize} -> ${vector.newSize}`).toEqual(vector.proof);
      const ok = verifyConsistency(
        vector.oldSize,
        vector.newSize,
        unhex(CT_ROOTS[vector.oldSize]),
        unhex(CT_ROOTS[vector.newSize]),
        proof,
      );
      expect(ok, `${vector.oldSize} -> ${vector.newSize}`).toBe(true);
    }
  });

  it('verifies all size pairs of random trees', () => {
    const leaves = randomLeaves(70);
    const tree = new MerkleTree(leaves);
    const roots = Array.from({ length: 71 }, (_, size) => referenceRoot(leaves.slice(0, size)));

    for (let newSize = 1; newSize <= 70; newSize += 1) {
      for (let oldSize = 1; oldSize <= newSize; oldSize += 1) {
        const proof = tree.consistencyProof(oldSize, newSize);
        expect(verifyConsistency(oldSize, newSize, roots[oldSize], roots[newSize], proof), `${oldSize} -> ${newSize}`).toBe(true);
      }
    }
  });

  it('verifies random sizes up to 2000', () => {
    const leaves = randomLeaves(2000);
    const tree = new MerkleTree(leaves);
    for (let trial = 0; trial < 60; trial += 1) {
      const newSize = 1 + Math.floor(Math.random() * 2000);
      const oldSize = 1 + Math.floor(Math.random() * newSize);
      const proof = tree.consistencyProof(oldSize, newSize);
      const ok = verifyConsistency(oldSize, newSize, tree.root(oldSize), tree.root(newSize), proof);
      expect(ok, `${oldSize} -> ${newSize}`).toBe(true);

      const index = Math.floor(Math.random() * newSize);
      const path = tree.inclusionProof(index, newSize);
      expect(verifyInclusion(index, newSize, leaves[index], path, tree.root(newSize)), `leaf ${index} of ${newSize}`).toBe(true);
    }
  });

  it('rejects proofs of a rewritten prefix', () => {
    const leaves = randomLeaves(20);
    const forked = [...leaves.slice(0, 9), leafHash('forged'), ...leaves.slice(10)];
    const honest = new MerkleTree(leaves);
    const fork = new MerkleTree(forked);

    // The fork's proof from size 12 connects the fork's own roots, never the honest old root.
    const proof = fork.consistencyProof(12, 20);
    expect(verifyConsistency(12, 20, honest.root(12), fork.root(20), proof)).toBe(false);
    expect(verifyConsistency(12, 20, fork.root(12), fork.root(20), proof)).toBe(true);
  });

  it('rejects altered and malformed proofs', () => {
    const tree = new MerkleTree(randomLeaves(21));
    const oldRoot = tree.root(7);
    const newRoot = tree.root(21);
    const proof = tree.consistencyProof(7, 21);

    expect(verifyConsistency(7, 21, oldRoot, newRoot, proof)).toBe(true);
    expect(verifyConsistency(7, 21, newRoot, oldRoot, proof)).toBe(false);
    expect(verifyConsistency(7, 21, oldRoot, newRoot, proof.slice(1))).toBe(false);
    expect(verifyConsistency(7, 21, oldRoot, newRoot, [...proof, proof[0]])).toBe(false);
    expect(verifyConsistency(7, 21, oldRoot, newRoot, [proof[1], proof[0], ...proof.slice(2)])).toBe(false);
    expect(verifyConsistency(7, 21, oldRoot, newRoot, [])).toBe(false);
    expect(verifyConsistency(8, 21, oldRoot, newRoot, proof)).toBe(false);
    expect(verifyConsistency(7, 20, oldRoot, tree.root(20), proof)).toBe(false);
    expect(verifyConsistency(21, 7, newRoot, oldRoot, proof)).toBe(false);
    expect(verifyConsistency(0, 21, EMPTY_ROOT, newRoot, proof)).toBe(false);
    expect(verifyConsistency(21, 21, newRoot, newRoot, [newRoot])).toBe(false);
    expect(verifyConsistency(21, 21, newRoot, newRoot, [])).toBe(true);
    expect(() => tree.consistencyProof(0, 21)).toThrow(/need 1 <= old <= new/);
    expect(() => tree.consistencyProof(22, 21)).toThrow(/need 1 <= old <= new/);
    expect(() => tree.consistencyProof(3, 22)).toThrow(/outside 0..21/);
  });
});

describe('pruned trees', () => {
  it('keeps roots and proofs for leaves after the pruned prefix', () => {
    const leaves = randomLeaves(45);
    const full = new MerkleTree(leaves);

    for (const prunedSize of [1, 3, 8, 13, 32, 44]) {
      const base = new CompactRange();
      leaves.slice(0, prunedSize).forEach((leaf) => base.append(leaf));
      const pruned = new MerkleTree(leaves.slice(prunedSize), base);

      expect(hex(pruned.root()), `pruned ${prunedSize}`).toBe(hex(full.root()));
      expect(hex(pruned.root(prunedSize))).toBe(hex(full.root(prunedSize)));
      for (let index = prunedSize; index < 45; index += 1) {
        expect(pruned.inclusionProof(index).map(hex), `pruned ${prunedSize}, leaf ${index}`).toEqual(
          full.inclusionProof(index).map(hex),
        );
      }
      for (let oldSize = prunedSize; oldSize <= 45; oldSize += 1) {
        expect(pruned.consistencyProof(oldSize).map(hex), `pruned ${prunedSize}, from ${oldSize}`).toEqual(
          full.consistencyProof(oldSize).map(hex),
        );
      }
    }
  });

  it('reports pruned leaves instead of guessing', () => {
    const leaves = randomLeaves(10);
    const base = new CompactRange();
    leaves.slice(0, 6).forEach((leaf) => base.append(leaf));
    const pruned = new MerkleTree(leaves.slice(6), base);

    expect(() => pruned.inclusionProof(2)).toThrow(/pruned/);
    expect(() => pruned.consistencyProof(3)).toThrow(/pruned/);
  });
});
