// The audit ledger's public API. The CLI (`aishell audit`) lives in cli.ts and is loaded on demand.

export { openLedger, resolveLocations, type OpenLedgerOptions, type ResolvedLocations } from './open.js';
export {
  Ledger,
  type CheckpointResult,
  type ConsistencyResult,
  type InclusionResult,
  type PruneResult,
  type RepairResult,
  type VerifyOptions,
} from './ledger.js';
export type { VerifyProblem, VerifyReport, AnchorResult } from './verify.js';
export {
  FileCheckpointStore,
  SecretStoreCheckpointStore,
  mergeHead,
  type AnchoredHead,
  type CheckpointStore,
  type HeadSummary,
} from './anchors.js';
export { FileKeyStore, SecretStoreKeyStore, vaultSecretStore, type KeyStore, type SecretStore, type VaultLike } from './keys.js';
export { LedgerError, type LedgerErrorCode } from './errors.js';
export { detectActor, detectCi, describeActor } from './actor.js';
export { maskSecrets, maskSqlSecrets, MASK } from './redact.js';
export {
  RECORD_KINDS,
  type Actor,
  type CiContext,
  type JsonObject,
  type JsonValue,
  type KnownRecordKind,
  type LedgerRecord,
  type LedgerRecordInput,
  type RecordFilter,
} from './types.js';
