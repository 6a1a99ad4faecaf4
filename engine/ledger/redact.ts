import type { JsonObject, JsonValue } from './types.js';

/** Replacement text for a value that must not reach the ledger. */
export const MASK = '***';

// Key names that hold credentials in aishell's own structures and in common drivers. The match is
// on whole words of the key (`db_password`, `apiToken`) so that `password_policy` or
// `token_count` with non-string values are still checked, but only strings and numbers are masked.
const SECRET_KEY = /(^|[^a-z])(pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|private[-_]?key|credential|auth[-_]?key)s?([^a-z]|$)/i;

// Literal passwords in SQL: PostgreSQL `PASSWORD '...'`, MySQL `IDENTIFIED BY '...'` and
// `IDENTIFIED WITH plugin BY '...'`, MongoDB-style `pwd: "..."`.
const SQL_SECRET = /(\bPASSWORD\s*(?:=\s*)?|\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+(?:PASSWORD\s+)?)(E?'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")/gi;

/** Masks password literals in a SQL statement, leaving placeholders like `'***'` alone. */
export function maskSqlSecrets(statement: string): string {
  return statement.replace(SQL_SECRET, (_match, prefix: string) => `${prefix}'${MASK}'`);
}

export function isSecretKey(key: string): boolean {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return SECRET_KEY.test(spaced);
}

/**
 * Returns a copy of `details` in which every string or number under a secret-looking key is
 * replaced by `***`, and every string that looks like SQL has its password literals masked.
 * `masked` lists the paths that changed, so the record shows that something was removed.
 */
export function maskSecrets(details: JsonObject, basePath = 'details'): { value: JsonObject; masked: string[] } {
  const masked: string[] = [];
  const value = maskValue(details, basePath, masked) as JsonObject;
  return { value, masked };
}

function maskValue(value: JsonValue, path: string, masked: string[]): JsonValue {
  if (typeof value === 'string') {
    const cleaned = maskSqlSecrets(value);
    if (cleaned !== value) {
      masked.push(path);
    }
    return cleaned;
  }

  if (Array.isArray(value)) {
    return value.map((item, index) => maskValue(item, `${path}[${index}]`, masked));
  }

  if (value !== null && typeof value === 'object') {
    const result: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) {
        continue;
      }
      const itemPath = `${path}.${key}`;
      if (isSecretKey(key) && (typeof item === 'string' || typeof item === 'number') && item !== MASK) {
        result[key] = MASK;
        masked.push(itemPath);
      } else {
        result[key] = maskValue(item, itemPath, masked);
      }
    }
    return result;
  }

  return value;
}
