/**
 * Record kinds that aishell writes. Other dotted names are accepted too, so that new
 * event sources can log without a change here.
 */
export const RECORD_KINDS = [
  'ledger.open',
  'ledger.signer',
  'ledger.checkpoint',
  'ledger.repair',
  'apply.change',
  'apply.summary',
  'plan.drift',
  'vault.read',
  'vault.write',
  'retention.prune',
] as const;

export type KnownRecordKind = (typeof RECORD_KINDS)[number];

/** A JSON value that hashes reproducibly: no floats, no undefined, no functions. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type JsonObject = { [key: string]: JsonValue };

/** The continuous-integration job that ran the command, from the CI system's own variables. */
export interface CiContext {
  /** `github-actions`, `gitlab-ci`, `jenkins`, `circleci`, `buildkite`, `azure-pipelines`, `bitbucket`, `travis`, or `ci`. */
  system: string;
  pipeline?: string;
  job?: string;
  run?: string;
  commit?: string;
  branch?: string;
  url?: string;
  /** The account that triggered the pipeline, as the CI system names it. */
  triggeredBy?: string;
}

/** Who wrote a record: the operating-system user and host, plus the CI job when there is one. */
export interface Actor {
  user: string;
  host: string;
  ci?: CiContext;
}

/** `ok`, `failed` and `rolled-back` are the apply outcomes; drift and reads use `ok` or `found`. */
export type Outcome = string;

/** What a caller passes to `append`; the ledger assigns seq, time, prev, actor and run. */
export interface LedgerRecordInput {
  kind: KnownRecordKind | (string & {});
  /** The target and database of a change (`prod/app/app`), a vault entry (`vault:prod-db-password`) or the whole vault (`vault`). */
  target?: string;
  /** The stable change address from the plan, such as `prod/app: grant SELECT on table public.orders to readonly`. */
  address?: string;
  details?: JsonObject;
  outcome?: Outcome;
}

/** One ledger entry as stored: its canonical JSON form is what gets hashed. */
export interface LedgerRecord extends LedgerRecordInput {
  /** Format version of the record. */
  v: 1;
  seq: number;
  /** UTC time in ISO 8601 with milliseconds. */
  time: string;
  /** Hex leaf hash of the record with seq - 1; 64 zeros for seq 0. */
  prev: string;
  actor: Actor;
  /** Identifier shared by every record that one command invocation wrote. */
  run: string;
  details: JsonObject;
  /** Paths of values that were replaced with `***` because their key names a secret. */
  masked?: string[];
}

/** A record read back from storage together with the exact line that was hashed. */
export interface StoredRecord {
  record: LedgerRecord;
  line: string;
}

/** Filters for `audit log`, `search` and `export`; every set field must match. */
export interface RecordFilter {
  /** Glob (`*` and `?`) or plain substring of the target. */
  target?: string;
  /** OS user, CI trigger account or pipeline name. */
  actor?: string;
  /** Glob of the kind, such as `apply.*`. */
  kind?: string;
  /** The change kind of an apply record (`details.change`) or the vault operation (`details.operation`), such as `grant`. */
  operation?: string;
  since?: Date;
  until?: Date;
  /** Case-insensitive text that must occur in the record's JSON. */
  text?: string;
  outcome?: string;
  /** Keep only the newest N matches, still returned oldest first. */
  limit?: number;
}
