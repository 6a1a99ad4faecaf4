import { describe, expect, it } from 'vitest';
import { loadYaml, POSTGRES_HEAD } from './helpers.js';

describe('row_level_security checks', () => {
  it('one table under two keys is an error naming both', async () => {
    const { config, diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'row_level_security:',
      '  public.t6:',
      '    enabled: true',
      '  t6:',
      '    enabled: false',
    ]);
    expect(config).toBeUndefined();
    const error = diagnostics.find((d) => d.summary.startsWith('table "t6" is the same table'));
    expect(error?.summary).toContain(`"public.t6" (security.yaml:${POSTGRES_HEAD.length + 2})`);
    expect(error?.position?.line).toBe(POSTGRES_HEAD.length + 4);
  });

  it('a policy name over 63 bytes is an error', async () => {
    const long = 'p'.repeat(64);
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'row_level_security:', '  public.t:', '    policies:', `      ${long}:`, '        using: "true"']);
    expect(diagnostics.map((d) => d.summary)).toContain(`policy name "${long}" is longer than 63 bytes, and PostgreSQL would shorten it`);
  });

  it('PUBLIC beside other roles is an error', async () => {
    const { diagnostics } = await loadYaml([
      ...POSTGRES_HEAD,
      'roles:',
      '  ext: {}',
      'row_level_security:',
      '  public.t:',
      '    policies:',
      '      p:',
      '        roles: [PUBLIC, ext]',
      '        using: "true"',
    ]);
    const error = diagnostics.find((d) => d.summary.includes('lists PUBLIC with other roles'));
    expect(error?.severity).toBe('error');
    expect(error?.position?.line).toBe(POSTGRES_HEAD.length + 7);
  });
});
