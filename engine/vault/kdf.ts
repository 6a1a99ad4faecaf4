import { randomBytes, scrypt as scryptCallback } from 'node:crypto';

import { decodeBase64, encodeBase64 } from './encoding.js';
import { VaultError } from './errors.js';
import type { Argon2idParams, KdfParams, ScryptParams } from './format.js';

/** scrypt N = 2^17, r = 8, p = 1 uses 128 MiB and takes about 0.3 s on a 2-core x86-64 VM (Node 20). */
export const DEFAULT_SCRYPT_LOG_N = 17;

/** Argon2id second recommended parameter set of RFC 9106: 64 MiB, 3 passes, 4 lanes. */
export const DEFAULT_ARGON2ID = { memory: 65_536, iterations: 3, parallelism: 4 } as const;

/**
 * Environment variable that lowers the scrypt cost (log2 N) of newly written password slots, for
 * test suites only. It never applies to slots read from a file, which carry their own parameters.
 */
export const KDF_COST_ENV = 'AISHELL_VAULT_KDF_COST';
export const MIN_SCRYPT_LOG_N = 10;
export const MAX_SCRYPT_LOG_N = 20;

/** scrypt needs about 128 * N * r bytes; a file asking for more than this is rejected before the KDF runs. */
const MAX_KDF_MEMORY_BYTES = 1024 * 1024 * 1024;
const ARGON2_LIMITS = {
  memory: [8_192, 1_048_576],
  iterations: [1, 10],
  parallelism: [1, 16],
} as const;
const SALT_LENGTH = 16;

export type KdfAlgorithm = KdfParams['algorithm'];

/** Chooses parameters with a fresh salt for a new or changed password. */
export function newKdfParams(algorithm: KdfAlgorithm, env: NodeJS.ProcessEnv): KdfParams {
  const salt = encodeBase64(randomBytes(SALT_LENGTH));
  if (algorithm === 'argon2id') {
    return { algorithm, ...DEFAULT_ARGON2ID, salt };
  }
  return { algorithm: 'scrypt', logN: scryptCostFromEnv(env), r: 8, p: 1, salt };
}

/** Returns the same KDF parameters with a new random salt, for re-wrapping a slot at its own cost. */
export function freshSalt(params: KdfParams): KdfParams {
  return { ...params, salt: encodeBase64(randomBytes(SALT_LENGTH)) };
}

/** Returns the scrypt log2 N for new slots: the default, or the test override when it is set. */
export function scryptCostFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env[KDF_COST_ENV];
  if (raw === undefined || raw === '') return DEFAULT_SCRYPT_LOG_N;

  const cost = Number(raw);
  if (!Number.isInteger(cost) || cost < MIN_SCRYPT_LOG_N || cost > MAX_SCRYPT_LOG_N) {
    throw new VaultError(
      'INVALID_ARGUMENT',
      `${KDF_COST_ENV}=${raw} is invalid: expected an integer log2 N from ${MIN_SCRYPT_LOG_N} to ${MAX_SCRYPT_LOG_N}`,
    );
  }
  return cost;
}

/**
 * Rejects parameters outside the supported range before any work is done, so a crafted file
 * cannot make the KDF allocate gigabytes or run for minutes.
 */
export function checkKdfParams(params: KdfParams): void {
  const reject = (detail: string): never => {
    throw new VaultError('FORMAT', `the vault's password KDF parameters are out of range: ${detail}`);
  };

  decodeBase64(params.salt, 'kdf.salt', SALT_LENGTH);
  if (params.algorithm === 'scrypt') {
    if (params.logN < MIN_SCRYPT_LOG_N || params.logN > MAX_SCRYPT_LOG_N) {
      reject(`scrypt logN ${params.logN} is not in ${MIN_SCRYPT_LOG_N}..${MAX_SCRYPT_LOG_N}`);
    }
    if (params.r < 1 || params.r > 32) reject(`scrypt r ${params.r} is not in 1..32`);
    if (params.p < 1 || params.p > 4) reject(`scrypt p ${params.p} is not in 1..4`);
    if (scryptMemory(params) > MAX_KDF_MEMORY_BYTES) {
      reject(`scrypt would need ${scryptMemory(params)} bytes, more than ${MAX_KDF_MEMORY_BYTES}`);
    }
    return;
  }

  for (const key of ['memory', 'iterations', 'parallelism'] as const) {
    const [min, max] = ARGON2_LIMITS[key];
    if (params[key] < min || params[key] > max) reject(`argon2id ${key} ${params[key]} is not in ${min}..${max}`);
  }
}

/** Runs the KDF and returns 32 bytes. The password is NFC-normalized so the same typed text gives the same key everywhere. */
export async function runKdf(params: KdfParams, password: string): Promise<Buffer> {
  checkKdfParams(params);
  const passwordBytes = Buffer.from(password.normalize('NFC'), 'utf8');
  const salt = decodeBase64(params.salt, 'kdf.salt', SALT_LENGTH);
  try {
    return params.algorithm === 'scrypt'
      ? await runScrypt(params, passwordBytes, salt)
      : await runArgon2id(params, passwordBytes, salt);
  } finally {
    passwordBytes.fill(0);
  }
}

function scryptMemory(params: ScryptParams): number {
  return 128 * 2 ** params.logN * params.r * params.p;
}

function runScrypt(params: ScryptParams, password: Buffer, salt: Buffer): Promise<Buffer> {
  // Node's default maxmem is 32 MiB, which rejects N = 2^15 with r = 8 already.
  const maxmem = scryptMemory(params) + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, 32, { N: 2 ** params.logN, r: params.r, p: params.p, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

async function runArgon2id(params: Argon2idParams, password: Buffer, salt: Buffer): Promise<Buffer> {
  const argon2 = await import('argon2');
  return argon2.hash(password, {
    type: argon2.argon2id,
    salt,
    memoryCost: params.memory,
    timeCost: params.iterations,
    parallelism: params.parallelism,
    hashLength: 32,
    raw: true,
  });
}
