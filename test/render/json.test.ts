import { describe, expect, it } from 'vitest';
import type { Plan } from '../../engine/plan/types.js';
import { renderJson } from '../../engine/render/json.js';
import { fullPlan, plan, target } from './plans.js';

/** Rebuilds every object with its keys in reverse order, as a plan read from elsewhere might have them. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, each]) => [key, reverseKeys(each)]));
}

function changeOf(json: string, kind: string): Record<string, unknown> {
  const parsed = JSON.parse(json) as Plan;
  const found = parsed.targets[0].changes.find((planned) => planned.change.kind === kind);
  if (!found) throw new Error(`no ${kind} change in the plan`);
  return found.change as unknown as Record<string, unknown>;
}

describe('renderJson', () => {
  it('round-trips the plan', () => {
    const original = fullPlan();
    expect(JSON.parse(renderJson(original))).toEqual(original);
  });

  it('renders its own output identically', () => {
    const json = renderJson(fullPlan());
    expect(renderJson(JSON.parse(json) as Plan)).toBe(json);
  });

  it('is pretty with a trailing newline', () => {
    const json = renderJson(plan([]));
    expect(json).toBe(
      '{\n  "formatVersion": 1,\n  "aishellVersion": "0.1.0",\n  "createdAt": "2026-12-04T20:00:00.000Z",\n  "configPath": "security.yaml",\n  "targets": [],\n  "credentials": [],\n  "summary": {\n    "create": 0,\n    "update": 0,\n    "delete": 0\n  }\n}\n',
    );
  });

  it('orders keys as the types declare them', () => {
    const json = renderJson(reverseKeys(fullPlan()) as Plan);
    expect(json).toBe(renderJson(fullPlan()));

    const parsed = JSON.parse(json) as Plan;
    expect(Object.keys(parsed)).toEqual(['formatVersion', 'aishellVersion', 'createdAt', 'configPath', 'targets', 'credentials', 'summary']);
    expect(Object.keys(parsed.targets[0])).toEqual([
      'name',
      'engine',
      'url',
      'databases',
      'serverVersion',
      'fingerprint',
      'changes',
      'diagnostics',
      'unmanagedRoles',
    ]);
    expect(Object.keys(parsed.targets[0].changes[0])).toEqual(['address', 'action', 'symbol', 'destructive', 'change', 'statements']);
    expect(Object.keys(parsed.targets[0].diagnostics[1])).toEqual(['severity', 'summary', 'fix', 'position']);
  });

  it.each([
    ['create_role', ['kind', 'address', 'database', 'destructive', 'role', 'password']],
    ['alter_role', ['kind', 'address', 'database', 'destructive', 'role', 'before', 'after']],
    ['set_password', ['kind', 'address', 'database', 'destructive', 'role', 'password', 'reason']],
    ['drop_role', ['kind', 'address', 'database', 'destructive', 'role', 'reassignOwnedTo', 'databases']],
    ['grant', ['kind', 'address', 'database', 'destructive', 'grant', 'source']],
    ['revoke', ['kind', 'address', 'database', 'destructive', 'grant', 'grantOptionOnly']],
    ['grant_membership', ['kind', 'address', 'database', 'destructive', 'membership']],
    ['revoke_membership', ['kind', 'address', 'database', 'destructive', 'membership', 'adminOptionOnly']],
    ['grant_default_privilege', ['kind', 'address', 'database', 'destructive', 'defaultPrivilege']],
    ['revoke_default_privilege', ['kind', 'address', 'database', 'destructive', 'defaultPrivilege', 'grantOptionOnly']],
  ])('orders the keys of %s', (kind, keys) => {
    const json = renderJson(reverseKeys(fullPlan()) as Plan);
    expect(Object.keys(changeOf(json, kind))).toEqual(keys);
  });

  it('orders the keys of nested objects', () => {
    const json = renderJson(reverseKeys(fullPlan()) as Plan);
    const grant = changeOf(json, 'revoke').grant as Record<string, unknown>;
    const role = changeOf(json, 'create_role').role as Record<string, unknown>;
    const after = changeOf(json, 'alter_role').after as Record<string, unknown>;

    expect(Object.keys(grant)).toEqual(['database', 'grantee', 'privilege', 'object', 'grantOption', 'grantor']);
    expect(Object.keys(grant.object as object)).toEqual(['kind', 'schema', 'name']);
    expect(Object.keys(role).slice(0, 2)).toEqual(['name', 'login']);
    expect(Object.keys(role).slice(-2)).toEqual(['comment', 'password']);
    expect(Object.keys(after)).toEqual(['login', 'connectionLimit', 'validUntil', 'comment']);
  });

  it('keeps keys the types do not know after the known ones', () => {
    const withExtra = { ...target('prod', []), region: 'eu-west-1' };
    const parsed = JSON.parse(renderJson(plan([withExtra]))) as { targets: Record<string, unknown>[] };
    expect(Object.keys(parsed.targets[0]).slice(-2)).toEqual(['unmanagedRoles', 'region']);
    expect(parsed.targets[0].region).toBe('eu-west-1');
  });

  it('holds only the reference of a password', () => {
    const json = renderJson(fullPlan());
    const setPassword = changeOf(json, 'set_password');
    expect(setPassword.password).toEqual({ kind: 'env', name: 'APP_PW' });
    expect(json).toContain(`"sql": "ALTER ROLE \\"app_user\\" WITH PASSWORD <secret from env:APP_PW>"`);
  });
});
