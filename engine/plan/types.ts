import type { Diagnostic } from '../diagnostics.js';
import type { Change } from '../diff/changes.js';
import type { Engine } from '../config/types.js';
import type { PlannedCredential } from '../credentials/types.js';
import type { PlannedStatement } from '../provider.js';

/**
 * The JSON plan: a versioned contract described by schemas/plan.schema.json. Text and Markdown
 * are rendered from it, so every format shows the same changes. It never holds a secret: a
 * password appears only as the reference it comes from.
 */
export const PLAN_FORMAT_VERSION = 1;

export interface PlannedChange {
  address: string;
  action: 'create' | 'update' | 'delete';
  symbol: '+' | '~' | '-';
  destructive: boolean;
  /** The typed change that apply executes; display fields above are derived from it. */
  change: Change;
  statements: PlannedStatement[];
}

export interface TargetPlan {
  name: string;
  engine: Engine;
  /** The target's url with any password removed. */
  url: string;
  databases: string[];
  serverVersion: number;
  /** Fingerprint of the inspected state the changes were computed from. */
  fingerprint: string;
  changes: PlannedChange[];
  diagnostics: Diagnostic[];
  unmanagedRoles: string[];
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
}

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  aishellVersion: string;
  createdAt: string;
  configPath: string;
  targets: TargetPlan[];
  /** Vault credentials that apply generates, rotates or repairs before changing the targets. */
  credentials: PlannedCredential[];
  summary: PlanSummary;
}

export function summarise(targets: TargetPlan[]): PlanSummary {
  const summary: PlanSummary = { create: 0, update: 0, delete: 0 };
  for (const target of targets) for (const change of target.changes) summary[change.action] += 1;
  return summary;
}
