import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LIST_SECTIONS, MAP_SECTIONS, SINGLETON_SECTIONS } from '../../engine/config/merge.js';
import { GRANT_SELECTORS } from '../../engine/config/selectors.js';

const schema = JSON.parse(await readFile(new URL('../../schemas/security.schema.json', import.meta.url), 'utf8'));

describe('JSON Schema', () => {
  it('top-level sections match the merge rules', () => {
    const merged = [...MAP_SECTIONS, ...LIST_SECTIONS, ...SINGLETON_SECTIONS].sort();

    expect(Object.keys(schema.properties).sort()).toEqual(merged);
  });

  it('grant object lists every selector', () => {
    const properties = Object.keys(schema.definitions.grantObject.properties).sort();

    expect(properties).toEqual([...GRANT_SELECTORS, 'columns'].sort());
    expect(schema.definitions.grantObject.oneOf.map((branch: { required: string[] }) => branch.required[0])).toEqual([...GRANT_SELECTORS]);
  });

  it('closes every object to unknown keys', () => {
    const open: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((item, index) => visit(item, `${path}/${index}`));
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      const isObjectType = record.type === 'object' || (Array.isArray(record.type) && record.type.includes('object'));
      if (isObjectType && record.additionalProperties === undefined) open.push(path);
      for (const [key, value] of Object.entries(record)) visit(value, `${path}/${key}`);
    };
    visit(schema, '#');

    expect(open).toEqual([]);
  });
});
