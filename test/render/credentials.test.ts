import { describe, expect, it } from 'vitest';
import { renderJson } from '../../engine/render/json.js';
import { renderMarkdown } from '../../engine/render/markdown.js';
import { renderText } from '../../engine/render/text.js';
import { plan } from './plans.js';
import { planValidator } from './validate.js';

const rotating = {
  ...plan([]),
  credentials: [
    { name: 'app-pw', action: 'rotate' as const, reason: 'last set 2026-08-01, rotate_every 90d', roles: ['prod: app_user'] },
    { name: 'batch-pw', action: 'discard' as const, reason: 'an interrupted rotation: no database took the new value', roles: [] },
  ],
};

describe('credential rendering', () => {
  it('lists credential actions in text', () => {
    const text = renderText(rotating, { color: false, showSql: false });
    expect(text).toContain('Vault credentials:\n  ~ rotate vault:app-pw: last set 2026-08-01, rotate_every 90d (roles: prod: app_user)\n');
    expect(text).toContain('  - discard vault:batch-pw: an interrupted rotation: no database took the new value\n');
  });

  it('lists credential actions in markdown', () => {
    const markdown = renderMarkdown(rotating);
    expect(markdown).toContain('### Vault credentials');
    expect(markdown).toContain('rotate vault:`app-pw`');
  });

  it('matches the plan schema', () => {
    const result = planValidator()(JSON.parse(renderJson(rotating)));
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('credential-only plan summary', () => {
  it('does not say nothing changes', () => {
    const text = renderText(rotating, { color: false, showSql: false });
    expect(text).not.toContain('No changes');
    expect(text).toContain('The databases match the configuration; apply changes 2 vault credentials.');
  });
});
