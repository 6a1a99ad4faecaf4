import * as jsYaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { PositionIndex } from '../../engine/config/positions.js';
import { yamlLines } from './helpers.js';

function index(...lines: string[]): PositionIndex {
  return new PositionIndex(yamlLines(...lines), jsYaml);
}

describe('PositionIndex', () => {
  it('locates keys, values and list items', () => {
    const positions = index('roles:', '  app:', '    login: true', 'grants:', '  - to: app', '  - { to: [a, b] }');

    expect(positions.locate(['roles', 'app'])).toEqual({ line: 2, column: 3 });
    expect(positions.locate(['roles', 'app', 'login'], true)).toEqual({ line: 3, column: 12 });
    expect(positions.locate(['grants', 0])).toEqual({ line: 5, column: 5 });
    expect(positions.locate(['grants', 1, 'to', 1])).toEqual({ line: 6, column: 15 });
  });

  it('uses events parsed before', () => {
    const text = yamlLines('roles:', '  app:', '    login: true', 'grants:', '  - { to: [a, b] }');
    let parses = 0;
    const counting = {
      ...jsYaml,
      parseEvents: (...args: Parameters<typeof jsYaml.parseEvents>) => {
        parses++;
        return jsYaml.parseEvents(...args);
      },
    };

    const positions = new PositionIndex(text, counting, jsYaml.parseEvents(text, {}));

    expect(parses).toBe(0);
    expect(positions.locate(['roles', 'app', 'login'], true)).toEqual({ line: 3, column: 12 });
    expect(positions.locate(['grants', 0, 'to', 1])).toEqual({ line: 5, column: 15 });
  });

  it('stops at the deepest node that exists', () => {
    const positions = index('grants:', '  - to: app');

    expect(positions.locate(['grants', 0, 'to', 0], true)).toEqual({ line: 2, column: 9 });
    expect(positions.locate(['grants', 7])).toEqual({ line: 1, column: 1 });
  });

  it('counts quoted keys from their quote', () => {
    const positions = index('roles:', '  "App User": {}', "  'o''brien': {}");

    expect(positions.locate(['roles', 'App User'])).toEqual({ line: 2, column: 3 });
    expect(positions.locate(['roles', "o'brien"])).toEqual({ line: 3, column: 3 });
  });

  it('follows aliases and merge keys', () => {
    const positions = index('base: &base', '  login: true', 'roles:', '  app:', '    <<: *base', '    comment: x', '  copy: *base');

    expect(positions.locate(['roles', 'app', 'login'])).toEqual({ line: 2, column: 3 });
    expect(positions.locate(['roles', 'app', 'comment'])).toEqual({ line: 6, column: 5 });
    expect(positions.locate(['roles', 'copy', 'login'])).toEqual({ line: 2, column: 3 });
  });

  it('finds the first of two duplicate keys', () => {
    const positions = index('roles:', '  a: {}', '  b: {}', '  a: {}');

    expect(positions.findDuplicateKey(4)).toEqual({ key: 'a', path: ['roles', 'a'], first: { line: 2, column: 3 }, second: { line: 4, column: 3 } });
  });
});
