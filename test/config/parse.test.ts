import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as jsYaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseConfigFile, type YamlMapping } from '../../engine/config/parse.js';
import { SourceFiles } from '../../engine/config/source-files.js';
import { loadYaml, tempDir, yamlLines } from './helpers.js';

async function parse(...lines: string[]): Promise<YamlMapping> {
  const { dir, remove } = await tempDir();
  try {
    const file = path.join(dir, 'security.yaml');
    await writeFile(file, yamlLines(...lines));
    const parsed = await parseConfigFile({ display: 'security.yaml', absolute: file }, new SourceFiles(jsYaml), jsYaml);
    expect(parsed.diagnostics).toEqual([]);
    return parsed.document!;
  } finally {
    await remove();
  }
}

/** Lists the key paths of mappings in `value` that have a prototype. */
function mappingsWithPrototype(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => mappingsWithPrototype(item, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return [];
  const own = Object.getPrototypeOf(value) === null ? [] : [path];
  return [...own, ...Object.keys(value).flatMap((key) => mappingsWithPrototype((value as YamlMapping)[key], `${path}.${key}`))];
}

describe('parseConfigFile', () => {
  it('makes every mapping null-prototype', async () => {
    const document = await parse(
      'roles:',
      '  app: { login: true }',
      'grants:',
      '  - to: [app]',
      '    on: { table: public.t }',
      '  - { to: app, on: { schema: s } }',
    );

    expect(mappingsWithPrototype(document)).toEqual([]);
  });

  it('keeps __proto__ as a plain key', async () => {
    const document = await parse('roles:', '  __proto__: { login: true }', '  constructor: {}');
    const roles = document.roles as YamlMapping;

    expect(Object.keys(roles)).toEqual(['__proto__', 'constructor']);
    expect(Object.hasOwn(roles, '__proto__')).toBe(true);
    expect(roles.__proto__).toEqual({ login: true });
    expect(Object.getPrototypeOf(roles)).toBeNull();
  });

  it('gives each alias its own copy', async () => {
    const document = await parse('roles:', '  a: &role { login: true, member_of: [g] }', '  b: *role', '  c:', '    <<: *role');
    const roles = document.roles as Record<string, YamlMapping>;

    expect(roles.b).toEqual(roles.a);
    expect(roles.b).not.toBe(roles.a);
    expect(roles.b!.member_of).not.toBe(roles.a!.member_of);
    expect(roles.c).toEqual({ login: true, member_of: ['g'] });
    expect(mappingsWithPrototype(document)).toEqual([]);
  });

  it('copies an anchor right after a quoted key', async () => {
    const document = await parse('roles: {"a":&role {member_of: [g]}, "b": *role}');
    const roles = document.roles as Record<string, YamlMapping>;

    expect(roles.b).toEqual(roles.a);
    expect(roles.b!.member_of).not.toBe(roles.a!.member_of);
  });

  it('reads an & inside a value as text', async () => {
    const document = await parse('targets:', '  prod: { url: "postgres://h/app?sslmode=require&application_name=x" }');

    expect(document.targets).toEqual({ prod: { url: 'postgres://h/app?sslmode=require&application_name=x' } });
    expect(mappingsWithPrototype(document)).toEqual([]);
  });

  it('rejects a complex key', async () => {
    const { diagnostics } = await loadYaml(['version: 1', '? [a, b]', ': c']);

    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.summary).toBe('invalid YAML: object-based map does not support complex keys');
  });

  it('reads null and number keys as text', async () => {
    const document = await parse('x: { null: 1, 2: 3, true: 4 }');

    expect(Object.keys(document.x as YamlMapping).sort()).toEqual(['2', 'null', 'true']);
  });
});
