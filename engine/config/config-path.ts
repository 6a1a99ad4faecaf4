/**
 * Location of a configuration: one YAML file, or a directory whose `*.yaml` and `*.yml` files
 * are merged.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import type { ConfigFile } from './parse.js';

/**
 * Returns the absolute path of the configuration: `explicit` (the `-f` option) resolved against
 * `cwd`, or else `./security/` when that directory exists, or else `./security.yaml`.
 */
export function resolveConfigPath(cwd: string, explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return path.resolve(cwd, explicit);

  const directory = path.resolve(cwd, 'security');
  if (existsSync(directory) && statSync(directory).isDirectory()) return directory;
  return path.resolve(cwd, 'security.yaml');
}

/**
 * Lists the files of a configuration, sorted by name for a directory. Hidden files (editor
 * backups such as `.#roles.yaml`) and subdirectories are skipped. File names in diagnostics are
 * relative to `cwd` when the configuration is inside it.
 */
export async function listConfigFiles(configPath: string, cwd: string): Promise<{ files: ConfigFile[] } | { diagnostic: Diagnostic }> {
  const absolute = path.resolve(cwd, configPath);
  const display = displayName(absolute, cwd);

  let info;
  try {
    info = await stat(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const summary = code === 'ENOENT' ? `configuration not found: ${display}` : `cannot read configuration ${display}: ${code ?? (error as Error).message}`;
    return {
      diagnostic: {
        severity: 'error',
        summary,
        fix: 'create security.yaml (or a security/ directory of *.yaml files), or pass -f with the path of a file or directory',
      },
    };
  }

  if (info.isFile()) return { files: [{ display, absolute }] };
  if (!info.isDirectory()) {
    return { diagnostic: { severity: 'error', summary: `configuration ${display} is neither a file nor a directory`, fix: 'pass -f with a YAML file or a directory' } };
  }

  const entries = await readdir(absolute, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/i.test(entry.name) && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort(compareCodeUnits);

  if (names.length === 0) {
    return {
      diagnostic: {
        severity: 'error',
        summary: `configuration directory ${display} contains no *.yaml or *.yml files`,
        fix: 'add the configuration files to it, or pass -f with the path of a single file',
      },
    };
  }
  return { files: names.map((name) => ({ display: path.join(display, name), absolute: path.join(absolute, name) })) };
}

/** Sorts by UTF-16 code units, so the order does not depend on the locale. */
function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function displayName(absolute: string, cwd: string): string {
  const relative = path.relative(cwd, absolute);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}
