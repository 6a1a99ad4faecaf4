import { serverSettingAddress } from './addresses.js';
import type { Change } from './changes.js';
import type { ActualServerSetting, ServerSetting } from '../model/types.js';

/**
 * Compares the server parameters that the file maps to with their configured values: what the
 * configuration files hold, which a reload or restart will use, rather than the running value,
 * so a setting that waits for a restart is not planned again. Only the parameters the provider
 * derived from the file are managed.
 */
export function diffServerSettings(target: string, desired: ServerSetting[], actual: ActualServerSetting[]): Change[] {
  const byName = new Map(actual.map((setting) => [setting.name, setting]));
  const changes: Change[] = [];
  for (const setting of desired) {
    const current = byName.get(setting.name);
    const value = current ? (current.configured ?? current.running) : null;
    if (value === setting.value) continue;
    changes.push({
      kind: 'set_server_setting',
      address: serverSettingAddress(target, setting),
      database: null,
      destructive: false,
      setting,
      before: value,
      source: setting.source,
    });
  }
  return changes;
}
