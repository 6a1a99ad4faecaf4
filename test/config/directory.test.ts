import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfigPath } from '../../engine/config/load.js';
import { findDiagnostic, loadFiles, tempDir, yamlLines } from './helpers.js';

const TARGETS = yamlLines('version: 1', 'targets:', '  prod: { engine: postgres, url: postgres://admin@127.0.0.1/app }');

describe('configuration directory', () => {
  it('merges the files by section', async () => {
    const { config, diagnostics } = await loadFiles(
      {
        'security/00-targets.yaml': TARGETS,
        'security/10-roles.yml': yamlLines(
          'roles:',
          '  reader: {}',
          'grants:',
          '  - { to: reader, privileges: [SELECT], on: { tables: public.* } }',
        ),
        'security/20-team.yaml': yamlLines(
          'roles:',
          '  writer: {}',
          'grants:',
          '  - { to: writer, privileges: [INSERT], on: { tables: public.* } }',
          'audit:',
          '  enabled: true',
        ),
        'security/notes.txt': 'not configuration',
        'security/.#10-roles.yaml': 'broken: [',
      },
      'security',
    );

    expect(diagnostics).toEqual([]);
    expect(Object.keys(config!.roles)).toEqual(['reader', 'writer']);
    expect(config!.grants.map((grant) => grant.to[0])).toEqual(['reader', 'writer']);
    expect(config!.grants[1]!.source).toEqual({ file: path.join('security', '20-team.yaml'), path: ['grants', 0] });
    expect(config!.audit).toEqual({ enabled: true });
    expect(config!.sources.keys.get('roles.writer')).toEqual({ file: path.join('security', '20-team.yaml'), path: ['roles', 'writer'] });
    expect(config!.sources.locate(config!.sources.keys.get('roles.writer')!)).toEqual({
      file: path.join('security', '20-team.yaml'),
      line: 2,
      column: 3,
    });
  });

  it('role declared in two files names both', async () => {
    const { config, diagnostics } = await loadFiles(
      {
        'security/a.yaml': TARGETS + yamlLines('roles:', '  app:', '    login: true'),
        'security/b.yaml': yamlLines('# team roles', 'roles:', '  other: {}', '  app: {}'),
      },
      'security',
    );

    expect(config).toBeUndefined();
    expect(diagnostics).toEqual([
      {
        severity: 'error',
        summary: `role "app" is declared in both ${path.join('security', 'a.yaml')}:5 and ${path.join('security', 'b.yaml')}:4`,
        fix: 'keep one declaration and move its settings into it',
        position: { file: path.join('security', 'b.yaml'), line: 4, column: 3 },
      },
    ]);
  });

  it('single-valued section in two files names both', async () => {
    const { diagnostics } = await loadFiles(
      {
        'security/a.yaml': TARGETS + yamlLines('audit:', '  enabled: true'),
        'security/b.yaml': yamlLines('audit:', '  enabled: false'),
      },
      'security',
    );

    const diagnostic = findDiagnostic(diagnostics, 'section "audit"');
    expect(diagnostic.summary).toBe(`section "audit" is declared in both ${path.join('security', 'a.yaml')}:4 and ${path.join('security', 'b.yaml')}:1`);
    expect(diagnostic.position).toEqual({ file: path.join('security', 'b.yaml'), line: 1, column: 1 });
  });

  it('version may appear in one file only', async () => {
    const { diagnostics } = await loadFiles(
      { 'security/a.yaml': TARGETS, 'security/b.yaml': yamlLines('version: 1', 'roles: {}') },
      'security',
    );

    findDiagnostic(diagnostics, 'section "version" is declared in both');
  });

  it('errors in several files are all reported, in file order', async () => {
    const { diagnostics } = await loadFiles(
      {
        'security/a.yaml': TARGETS + yamlLines('roles:', '  app: { login: yes }'),
        'security/b.yaml': yamlLines('roles:', '  [broken'),
        'security/c.yaml': yamlLines('roles:', '  other: { inherrit: true }'),
      },
      'security',
    );

    expect(diagnostics.map((diagnostic) => [diagnostic.position?.file, diagnostic.position?.line])).toEqual([
      [path.join('security', 'a.yaml'), 5],
      // js-yaml notices an unclosed bracket at the end of the input, after line 2.
      [path.join('security', 'b.yaml'), 3],
      [path.join('security', 'c.yaml'), 2],
    ]);
  });

  it('directory without YAML files', async () => {
    const { diagnostics } = await loadFiles({ 'security/readme.txt': 'nothing' }, 'security');

    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.summary).toBe('configuration directory security contains no *.yaml or *.yml files');
  });
});

describe('resolveConfigPath', () => {
  it('uses the explicit path', () => {
    expect(resolveConfigPath('/work', 'conf/x.yaml')).toBe(path.resolve('/work', 'conf/x.yaml'));
    expect(resolveConfigPath('/work', '/etc/aishell.yaml')).toBe('/etc/aishell.yaml');
  });

  it('defaults to security.yaml', async () => {
    const { dir, remove } = await tempDir();
    try {
      expect(resolveConfigPath(dir)).toBe(path.join(dir, 'security.yaml'));

      await writeFile(path.join(dir, 'security'), 'a file, not a directory');
      expect(resolveConfigPath(dir)).toBe(path.join(dir, 'security.yaml'));
    } finally {
      await remove();
    }
  });

  it('prefers the security directory when it exists', async () => {
    const { dir, remove } = await tempDir();
    try {
      await writeFile(path.join(dir, 'security.yaml'), TARGETS);
      await mkdir(path.join(dir, 'security'));
      expect(resolveConfigPath(dir)).toBe(path.join(dir, 'security'));
    } finally {
      await remove();
    }
  });
});
