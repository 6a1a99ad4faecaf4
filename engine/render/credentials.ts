import type { CredentialAction, PlannedCredential } from '../credentials/types.js';

const SYMBOLS: Record<CredentialAction, string> = { generate: '+', rotate: '~', complete: '~', discard: '-' };

/**
 * One line per vault credential that apply changes, such as
 * `~ rotate vault:app-user-password: last set 2026-08-01, rotate_every 90d (roles: prod: app_user)`.
 * Credentials carry names only; their values never reach a plan.
 */
export function credentialLines(credentials: readonly PlannedCredential[], format: (text: string) => string): string[] {
  return credentials.map((credential) => {
    const roles = credential.roles.length > 0 ? ` (roles: ${credential.roles.map(format).join(', ')})` : '';
    return `${SYMBOLS[credential.action]} ${credential.action} vault:${format(credential.name)}: ${format(credential.reason)}${roles}`;
  });
}
