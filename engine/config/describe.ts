/**
 * English names for places in security.yaml, such as `role "app_user"` or `"on" of grants[3]`,
 * so that a message uses the words a DBA reads in the file.
 */
import type { KeyPath } from './positions.js';

/** Returns the name of the value at `path`: `"login" of role "app_user"`, `grants[3]`. */
export function describePath(path: KeyPath): string {
  const { owner, rest } = splitOwner(path);
  if (rest.length === 0) return owner ?? 'the top level';

  const relative = `"${renderRelative(rest)}"`;
  return owner ? `${relative} of ${owner}` : relative;
}

/**
 * Splits a path into the declaration that owns it (a target, role, grant, policy…) and the part
 * inside that declaration.
 */
function splitOwner(path: KeyPath): { owner?: string; rest: KeyPath } {
  const [section, key, third, fourth] = path;

  if (section === 'row_level_security' && key !== undefined && third === 'policies' && fourth !== undefined) {
    return { owner: `policy "${fourth}" of table "${key}"`, rest: path.slice(4) };
  }
  if (key !== undefined) {
    const named = NAMED_ENTRIES[String(section)];
    if (named) return { owner: `${named} "${key}"`, rest: path.slice(2) };
    if (section === 'grants' || section === 'default_privileges') {
      return { owner: `${section}[${key}]`, rest: path.slice(2) };
    }
  }
  if (section !== undefined && SECTIONS.has(String(section))) {
    return { owner: String(section), rest: path.slice(1) };
  }
  return { rest: path };
}

const NAMED_ENTRIES: Record<string, string> = {
  targets: 'target',
  roles: 'role',
  row_level_security: 'row-level security of table',
  credentials: 'credential',
};

const SECTIONS = new Set([
  'targets',
  'roles',
  'grants',
  'default_privileges',
  'row_level_security',
  'password_policy',
  'audit',
  'encryption',
  'compliance',
  'vault',
  'credentials',
  'ledger',
]);

/** Renders `['member_of', 1, 'admin']` as `member_of[1].admin`. */
export function renderRelative(path: KeyPath): string {
  let text = '';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else text += text === '' ? step : `.${step}`;
  }
  return text;
}
