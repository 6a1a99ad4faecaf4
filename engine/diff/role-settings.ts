import { roleSettingAddress } from './addresses.js';
import type { Change } from './changes.js';
import type { RoleScope } from './scope.js';
import type { SourcedDiagnostic } from '../model/desired.js';
import { displayName } from '../model/names.js';
import type { RoleSetting } from '../model/types.js';

const key = (setting: RoleSetting) => [setting.role, setting.database ?? '', setting.name].join('\0');

/**
 * Compares role settings. Every setting of a managed role converges, in every database (null)
 * and in each managed database; settings in other databases are left alone. A desired setting of
 * a role that is not declared (such as an audited role) is set, and its other settings are kept.
 * Values must already be in the form the server stores.
 */
export function diffRoleSettings(
  target: string,
  scope: RoleScope,
  desired: RoleSetting[],
  actual: RoleSetting[],
  managedDatabases: string[],
): { changes: Change[]; diagnostics: SourcedDiagnostic[] } {
  const changes: Change[] = [];
  const diagnostics: SourcedDiagnostic[] = [];
  const inScope = (database: string | null) => database === null || managedDatabases.includes(database);

  const wanted = new Map<string, RoleSetting>();
  for (const setting of desired) {
    if (scope.isIgnored(setting.role)) continue;
    if (!inScope(setting.database)) {
      diagnostics.push({
        severity: 'error',
        summary: `setting ${setting.name} of role ${displayName(setting.role)} names database ${JSON.stringify(setting.database)}, which target ${JSON.stringify(target)} does not manage`,
        fix: `add ${setting.database} to the target's databases list, or correct the database under settings_in`,
        source: setting.source,
      });
      continue;
    }
    wanted.set(key(setting), setting);
  }
  const held = new Map(actual.filter((setting) => inScope(setting.database)).map((setting) => [key(setting), setting]));

  for (const [id, setting] of wanted) {
    const current = held.get(id);
    if (current?.value === setting.value) continue;
    changes.push({
      kind: 'set_role_setting',
      address: roleSettingAddress(target, 'set', setting),
      database: null,
      destructive: false,
      setting,
      before: current?.value ?? null,
      source: setting.source,
    });
  }
  for (const [id, setting] of held) {
    if (wanted.has(id) || !scope.managed.has(setting.role)) continue;
    changes.push({
      kind: 'reset_role_setting',
      address: roleSettingAddress(target, 'reset', setting),
      database: null,
      destructive: false,
      setting,
    });
  }
  return { changes, diagnostics };
}
