import { describe, expect, it } from 'vitest';
import { findDiagnostic, loadFiles, loadYaml, POSTGRES_HEAD, yamlLines } from './helpers.js';

describe('YAML syntax errors', () => {
  it('unclosed flow list', async () => {
    const { config, diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    member_of: [a, b', '  other: {}']);

    expect(config).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.summary).toMatch(/^invalid YAML: /);
    expect(diagnostics[0]!.fix).toBeTruthy();
    expect(diagnostics[0]!.position).toEqual({ file: 'security.yaml', line: 9, column: 3 });
  });

  it('tab in indentation', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '\tapp: {}']);

    const diagnostic = findDiagnostic(diagnostics, 'tab');
    expect(diagnostic.fix).toBe('indent with spaces; YAML does not allow tabs in indentation');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 7, column: 1 });
  });

  it('duplicate key in one file names both lines', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app: {}', '  other: {}', '  app:', '    login: true']);

    expect(diagnostics).toEqual([
      {
        severity: 'error',
        summary: 'duplicate key "app" in roles; it is first declared at line 7',
        fix: 'keep one of the two declarations and merge their settings into it',
        position: { file: 'security.yaml', line: 9, column: 3 },
      },
    ]);
  });

  it('duplicate quoted key points at its quote', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  "App User": {}', '  "App User": {}']);

    const diagnostic = findDiagnostic(diagnostics, 'duplicate key "App User"');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 8, column: 3 });
  });

  it('second document in one file', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, '---', 'roles: {}']);

    const diagnostic = findDiagnostic(diagnostics, 'more than one YAML document');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 6, column: 1 });
  });

  it('top level that is a list', async () => {
    const { diagnostics } = await loadYaml(['- version: 1']);

    const diagnostic = findDiagnostic(diagnostics, 'must be a mapping of sections');
    expect(diagnostic.summary).toBe('the file must be a mapping of sections (version, targets, roles, grants…), got a list');
    expect(diagnostic.position).toEqual({ file: 'security.yaml', line: 1, column: 1 });
  });

  it('document end marker alone is an empty file', async () => {
    const { diagnostics } = await loadFiles({ 'security.yaml': '...\n' });

    expect(diagnostics.map((diagnostic) => diagnostic.summary)).toEqual([
      'the configuration has no "version"',
      'the configuration declares no targets',
    ]);
  });

  it('empty file lacks version and targets', async () => {
    const { diagnostics } = await loadFiles({ 'security.yaml': '# nothing yet\n' });

    expect(diagnostics.map((diagnostic) => diagnostic.summary)).toEqual([
      'the configuration has no "version"',
      'the configuration declares no targets',
    ]);
  });

  it('unknown tag', async () => {
    const { diagnostics } = await loadYaml([...POSTGRES_HEAD, 'roles:', '  app:', '    valid_until: !!timestamp 2027-06-30']);

    const diagnostic = findDiagnostic(diagnostics, 'invalid YAML');
    expect(diagnostic.fix).toMatch(/^remove the tag/);
    expect(diagnostic.position!.line).toBe(8);
  });

  it('alias chains that explode are rejected', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 9; level++) {
      const previous = `*a${level - 1}`;
      lines.push(`a${level}: &a${level} [${Array(10).fill(previous).join(', ')}]`);
    }
    const { diagnostics } = await loadFiles({ 'security.yaml': yamlLines(...lines) });

    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.summary).toBe('aliases in security.yaml expand to far more values than the file contains');
  });

  it('alias chains behind verbatim tags are rejected', async () => {
    // `!<…>&a0` puts the anchor right after a tag, with no space before the &.
    const lines = ['a0: !<tag:yaml.org,2002:seq>&a0 ["${env:NOT_SET}", x]'];
    for (let level = 1; level < 22; level++) {
      lines.push(`a${level}: !<tag:yaml.org,2002:seq>&a${level} [*a${level - 1}, *a${level - 1}]`);
    }
    const { diagnostics } = await loadFiles({ 'security.yaml': yamlLines(...lines) });

    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.summary).toBe('aliases in security.yaml expand to far more values than the file contains');
  });
});
