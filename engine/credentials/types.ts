/**
 * What apply does with one declared credential (a vault entry that aishell generates and rotates).
 * - generate: the entry has no value yet; apply generates one.
 * - rotate: the value is older than rotate_every; apply generates a new one.
 * - complete: a rotation was interrupted after a database committed the new value; apply makes
 *   the pending value current.
 * - discard: a rotation was interrupted before any database took the new value; apply drops it.
 */
export type CredentialAction = 'generate' | 'rotate' | 'complete' | 'discard';

export interface PlannedCredential {
  name: string;
  action: CredentialAction;
  /** Why: such as `last rotated 2026-08-01, rotate_every 90d`. */
  reason: string;
  /** Roles whose password comes from this entry, as `target: role`. */
  roles: string[];
}
