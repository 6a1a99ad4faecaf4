import { describe, expect, it } from 'vitest';
import { CHANGE_SYMBOL, type ChangeKind } from '../../engine/diff/changes.js';
import { renderJson } from '../../engine/render/json.js';
import { everyKindOfChange, fullPlan, plan, securityChanges, target } from './plans.js';
import { planValidator } from './validate.js';

const validate = planValidator();

/** The full plan as JSON data, to be broken by one edit. */
type Data = {
  formatVersion: unknown;
  createdAt: unknown;
  summary?: unknown;
  targets: {
    fingerprint: unknown;
    diagnostics: Record<string, unknown>[];
    changes: { action: unknown; symbol: unknown; change: Record<string, unknown> }[];
  }[];
};

function data(): Data {
  return JSON.parse(renderJson(fullPlan())) as Data;
}

/** The full plan with the row-level security and settings changes added, so every kind is present. */
function everyKindData(): Data {
  const full = fullPlan();
  const everyKind = target('prod', [...everyKindOfChange(), ...securityChanges()], { diagnostics: full.targets[0].diagnostics });
  return JSON.parse(renderJson(plan([everyKind]))) as Data;
}

function changeIndex(plan: Data, kind: ChangeKind): number {
  return plan.targets[0].changes.findIndex((planned) => planned.change.kind === kind);
}

describe('plan.schema.json', () => {
  it('accepts a plan with every change kind', () => {
    const json = everyKindData();
    const kinds = new Set(json.targets[0].changes.map((planned) => planned.change.kind));
    expect([...kinds].sort()).toEqual(Object.keys(CHANGE_SYMBOL).sort());

    const result = validate(json);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('accepts a plan without targets', () => {
    expect(validate(JSON.parse(renderJson(plan([])))).valid).toBe(true);
  });

  it('accepts a target that could not be reached', () => {
    const failed = target('staging', [], {
      databases: [],
      serverVersion: 0,
      fingerprint: '',
      diagnostics: [{ severity: 'error', summary: 'target staging: connection refused' }],
    });
    expect(validate(JSON.parse(renderJson(plan([failed])))).errors).toEqual([]);
  });

  const breakages: [string, (plan: Data) => void, string][] = [
    ['a missing summary', (plan) => delete plan.summary, ''],
    ['format version 2', (plan) => (plan.formatVersion = 2), '/formatVersion'],
    ['a createdAt that is no timestamp', (plan) => (plan.createdAt = 'yesterday'), '/createdAt'],
    ['a fingerprint of another hash', (plan) => (plan.targets[0].fingerprint = 'md5:abc'), '/targets/0/fingerprint'],
    ['an unknown severity', (plan) => (plan.targets[0].diagnostics[0].severity = 'fatal'), '/targets/0/diagnostics/0/severity'],
    ['an unknown change kind', (plan) => (plan.targets[0].changes[0].change.kind = 'truncate_table'), '/targets/0/changes/0/change/kind'],
    ['a symbol that does not match the action', (plan) => (plan.targets[0].changes[0].symbol = '-'), '/targets/0/changes/0'],
    [
      'a password value in place of a reference',
      (plan) => (plan.targets[0].changes[changeIndex(plan, 'set_password')].change.password = 'hunter2'),
      `/targets/0/changes/2/change`,
    ],
    [
      'a value beside a password reference',
      (plan) => ((plan.targets[0].changes[changeIndex(plan, 'set_password')].change.password as Record<string, unknown>).value = 'hunter2'),
      `/targets/0/changes/2/change`,
    ],
    [
      'a role change in a database',
      (plan) => (plan.targets[0].changes[changeIndex(plan, 'create_role')].change.database = 'app'),
      '/targets/0/changes/0/change',
    ],
    ['a change without its address', (plan) => delete plan.targets[0].changes[0].change.address, '/targets/0/changes/0/change'],
  ];

  it.each(breakages)('rejects %s', (_name, edit, path) => {
    const broken = data();
    edit(broken);
    const result = validate(broken);

    expect(result.valid).toBe(false);
    expect(result.errors.map((error) => error.instancePath)).toContain(path);
  });
});
