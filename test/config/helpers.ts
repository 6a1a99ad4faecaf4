import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Diagnostic } from '../../engine/diagnostics.js';
import { loadConfig, type LoadResult } from '../../engine/config/load.js';

/** Joins lines with newlines, so a test can count line numbers from its array index + 1. */
export function yamlLines(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Creates a temporary directory for the files of one test; remove() deletes it. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aishell-config-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes `files` (name → text) into a fresh temporary directory and loads `entry` from it, with
 * the directory as cwd so that messages show names such as `security.yaml`.
 */
export async function loadFiles(
  files: Record<string, string>,
  entry = 'security.yaml',
  env: NodeJS.ProcessEnv = {},
): Promise<LoadResult> {
  const { dir, remove } = await tempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    return await loadConfig(entry, { cwd: dir, env });
  } finally {
    await remove();
  }
}

/** Loads one security.yaml made of `lines`. */
export function loadYaml(lines: string[], env: NodeJS.ProcessEnv = {}): Promise<LoadResult> {
  return loadFiles({ 'security.yaml': yamlLines(...lines) }, 'security.yaml', env);
}

/** Returns the single diagnostic whose summary contains `text`, failing when there is not exactly one. */
export function findDiagnostic(diagnostics: readonly Diagnostic[], text: string): Diagnostic {
  const matches = diagnostics.filter((diagnostic) => diagnostic.summary.includes(text));
  expect(matches.map((diagnostic) => diagnostic.summary), `diagnostics containing "${text}"`).toHaveLength(1);
  return matches[0]!;
}

/** The head of a valid file: version and one PostgreSQL target managing database `app` (lines 1-5). */
export const POSTGRES_HEAD = [
  'version: 1',
  'targets:',
  '  prod:',
  '    engine: postgres',
  '    url: postgres://admin@127.0.0.1:5432/app',
];
