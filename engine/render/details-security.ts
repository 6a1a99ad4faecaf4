import type { Change } from '../diff/changes.js';
import { displayName } from '../model/names.js';
import type { ChangeDetail } from './details.js';

/** Detail lines of the row-level security, role setting and server setting changes. */

type SecurityKind =
  | 'alter_rls'
  | 'create_policy'
  | 'alter_policy'
  | 'drop_policy'
  | 'set_role_setting'
  | 'reset_role_setting'
  | 'set_server_setting';

const expression = (text: string | null) => (text === null ? '(none)' : text);
const roles = (names: string[]) => names.map((name) => (name === 'PUBLIC' ? name : displayName(name))).join(', ');

export const SECURITY_DETAILS: { [K in SecurityKind]: (change: Extract<Change, { kind: K }>) => ChangeDetail[] } = {
  alter_rls(change) {
    const details: ChangeDetail[] = [];
    if (change.after.enabled !== undefined) details.push({ label: 'enabled', before: String(change.before.enabled), value: String(change.after.enabled) });
    if (change.after.force !== undefined) details.push({ label: 'force', before: String(change.before.force), value: String(change.after.force) });
    return details;
  },

  create_policy(change) {
    const { policy } = change;
    return [
      { label: 'command', value: policy.command },
      { label: 'roles', value: roles(policy.roles) },
      { label: 'permissive', value: String(policy.permissive) },
      { label: 'using', value: expression(policy.using) },
      { label: 'with_check', value: expression(policy.withCheck) },
    ];
  },

  alter_policy(change) {
    const details: ChangeDetail[] = [];
    if (change.after.roles !== undefined) details.push({ label: 'roles', before: roles(change.before.roles ?? []), value: roles(change.after.roles) });
    if (change.after.using !== undefined) details.push({ label: 'using', before: expression(change.before.using ?? null), value: expression(change.after.using) });
    if (change.after.withCheck !== undefined) {
      details.push({ label: 'with_check', before: expression(change.before.withCheck ?? null), value: expression(change.after.withCheck) });
    }
    return details;
  },

  drop_policy(change) {
    return [{ label: 'command', value: change.policy.command }, { label: 'roles', value: roles(change.policy.roles) }];
  },

  set_role_setting(change) {
    return [{ label: change.setting.name, before: change.before ?? '(not set)', value: change.setting.value }];
  },

  reset_role_setting(change) {
    return [{ label: change.setting.name, before: change.setting.value, value: '(not set)' }];
  },

  set_server_setting(change) {
    const details: ChangeDetail[] = [{ label: change.setting.name, before: change.before ?? '(not set)', value: change.setting.value }];
    details.push({
      label: 'takes effect',
      value: change.setting.needsRestart ? 'after a server restart, which aishell does not do' : 'at the configuration reload after apply',
      prose: true,
    });
    return details;
  },
};
