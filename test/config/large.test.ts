import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/config/load.js';
import { tempDir } from './helpers.js';

const ROLES = 10_000;
const GROUPS = 50;
const GRANTS = 100_000;

/** Builds a configuration of the size of a large production database (about 9 MB). */
function largeConfig(): string {
  const parts = ['version: 1', 'targets:', '  prod:', '    engine: postgres', '    url: postgres://admin@127.0.0.1:5432/app', 'roles:'];
  for (let group = 0; group < GROUPS; group++) parts.push(`  group_${group}: {}`);
  for (let role = 0; role < ROLES; role++) {
    parts.push(`  role_${role}:`, '    login: true', `    connection_limit: ${role % 20}`, `    member_of: [group_${role % GROUPS}]`);
  }
  parts.push('grants:');
  for (let grant = 0; grant < GRANTS; grant++) {
    parts.push(`  - to: role_${grant % ROLES}`, '    privileges: [SELECT, INSERT]', `    on: { table: public.t_${grant} }`);
  }
  return `${parts.join('\n')}\n`;
}

describe('large configuration', () => {
  it('loads 10,000 roles and 100,000 grants', async () => {
    const { dir, remove } = await tempDir();
    try {
      const file = path.join(dir, 'security.yaml');
      await writeFile(file, largeConfig());

      const { config, diagnostics } = await loadConfig(file);

      expect(diagnostics).toEqual([]);
      expect(Object.keys(config!.roles)).toHaveLength(ROLES + GROUPS);
      expect(config!.roles.role_4321).toEqual({ login: true, connection_limit: 1, member_of: [{ role: 'group_21' }] });
      expect(config!.grants).toHaveLength(GRANTS);
      expect(config!.grants[98_765]).toEqual({
        to: ['role_8765'],
        privileges: ['SELECT', 'INSERT'],
        on: { table: 'public.t_98765' },
        source: { file, path: ['grants', 98_765] },
      });

      // Line of grant 98,765: 6 header lines, 50 groups, 4 lines per role, the grants: line, 3 lines per grant.
      const expectedLine = 6 + GROUPS + 4 * ROLES + 1 + 3 * 98_765 + 1;
      expect(config!.sources.locate(config!.grants[98_765]!.source)).toEqual({ file, line: expectedLine, column: 5 });
    } finally {
      await remove();
    }
  });

  it('reports a typo deep in a large file at its line', async () => {
    const { dir, remove } = await tempDir();
    try {
      const file = path.join(dir, 'security.yaml');
      await writeFile(file, largeConfig().replace('    on: { table: public.t_99999 }', '    on: { tabel: public.t_99999 }'));

      const { config, diagnostics } = await loadConfig(file);

      expect(config).toBeUndefined();
      const line = 6 + GROUPS + 4 * ROLES + 1 + 3 * 99_999 + 3;
      expect(diagnostics.map((diagnostic) => [diagnostic.position?.line, diagnostic.position?.column, diagnostic.summary, diagnostic.fix])).toEqual([
        [line, 5, '"on" of grants[99999] names no object', expect.stringMatching(/^add one of/)],
        [line, 11, 'unknown key "tabel" in "on" of grants[99999]', 'did you mean "table"?'],
      ]);
    } finally {
      await remove();
    }
  });
});
