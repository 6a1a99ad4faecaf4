import type { RoleConfig, SourceRef } from '../config/types.js';
import type { RoleSetting } from './types.js';

/**
 * The declared settings of one role: `settings` apply in every database (database null) and
 * `settings_in` in the named database only. Values are still as written; the provider replaces
 * them with the text the server stores before diff.
 */
export function buildRoleSettings(role: string, config: RoleConfig, source?: SourceRef): RoleSetting[] {
  const settings: RoleSetting[] = [];
  const at = (...steps: string[]) => (source ? { file: source.file, path: [...source.path, ...steps] } : undefined);

  for (const [name, value] of Object.entries(config.settings ?? {})) {
    settings.push({ role, database: null, name, value, source: at('settings', name) });
  }
  for (const [database, entries] of Object.entries(config.settings_in ?? {})) {
    for (const [name, value] of Object.entries(entries)) {
      settings.push({ role, database, name, value, source: at('settings_in', database, name) });
    }
  }
  return settings;
}
