/**
 * Merges the files of a configuration directory, as Terraform merges the files of a module:
 * mapping sections merge by key, list sections concatenate in file order, and every other section
 * may appear in one file only. A key declared in two files is an error naming both places.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { SourceFiles } from './source-files.js';
import type { SourceRef } from './types.js';
import type { YamlMapping } from './parse.js';

/** Sections whose entries are keyed by name. */
export const MAP_SECTIONS = ['targets', 'roles', 'row_level_security', 'credentials'] as const;

/** Sections whose entries are list items. */
export const LIST_SECTIONS = ['grants', 'default_privileges'] as const;

/** Sections that may appear in one file only. */
export const SINGLETON_SECTIONS = ['version', 'password_policy', 'audit', 'encryption', 'compliance', 'vault', 'ledger'] as const;

export type MapSection = (typeof MAP_SECTIONS)[number];
export type ListSection = (typeof LIST_SECTIONS)[number];

export interface FileDocument {
  file: string;
  document: YamlMapping;
}

/** A list entry together with where it is written. */
export interface SourcedEntry {
  value: unknown;
  source: SourceRef;
}

export interface MergedDocument {
  maps: Record<MapSection, Map<string, SourcedEntry>>;
  lists: Record<ListSection, SourcedEntry[]>;
  /** version, password_policy, audit, … : the value and the file that declares it. */
  singletons: Map<string, SourcedEntry>;
}

const SECTION_NOUNS: Record<MapSection, string> = {
  targets: 'target',
  roles: 'role',
  row_level_security: 'row-level security of table',
  credentials: 'credential',
};

export function mergeDocuments(documents: readonly FileDocument[], files: SourceFiles): { merged: MergedDocument; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const merged: MergedDocument = {
    maps: { targets: new Map(), roles: new Map(), row_level_security: new Map(), credentials: new Map() },
    lists: { grants: [], default_privileges: [] },
    singletons: new Map(),
  };

  const duplicate = (declaration: string, first: SourceRef, second: SourceRef, fix: string): void => {
    const firstPosition = files.locate(first);
    const secondPosition = files.locate(second);
    diagnostics.push({
      severity: 'error',
      summary: `${declaration} is declared in both ${firstPosition.file}:${firstPosition.line} and ${secondPosition.file}:${secondPosition.line}`,
      fix,
      position: secondPosition,
    });
  };

  for (const { file, document } of documents) {
    for (const section of Object.keys(document)) {
      const value = document[section];

      if (isMapSection(section)) {
        if (!isMapping(value)) continue;
        for (const key of Object.keys(value)) {
          const source: SourceRef = { file, path: [section, key] };
          const earlier = merged.maps[section].get(key);
          if (earlier) {
            duplicate(`${SECTION_NOUNS[section]} "${key}"`, earlier.source, source, 'keep one declaration and move its settings into it');
            continue;
          }
          merged.maps[section].set(key, { value: value[key], source });
        }
        continue;
      }

      if (isListSection(section)) {
        if (!Array.isArray(value)) continue;
        value.forEach((item, index) => merged.lists[section].push({ value: item, source: { file, path: [section, index] } }));
        continue;
      }

      const source: SourceRef = { file, path: [section] };
      const earlier = merged.singletons.get(section);
      if (earlier) {
        duplicate(`section "${section}"`, earlier.source, source, `keep ${section} in one file`);
        continue;
      }
      merged.singletons.set(section, { value, source });
    }
  }
  return { merged, diagnostics };
}

function isMapSection(section: string): section is MapSection {
  return (MAP_SECTIONS as readonly string[]).includes(section);
}

function isListSection(section: string): section is ListSection {
  return (LIST_SECTIONS as readonly string[]).includes(section);
}

export function isMapping(value: unknown): value is YamlMapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
