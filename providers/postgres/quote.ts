/**
 * The one place where PostgreSQL identifiers and literals are quoted. Every name that reaches SQL,
 * whether it came from the file or from the catalog, goes through these functions.
 */

/** Quotes an identifier, doubling embedded double quotes: `a"b` becomes `"a""b"`. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) {
    throw new Error('identifier contains a NUL character, which PostgreSQL does not allow');
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a schema-qualified name. */
export function quoteQualified(schema: string | null, name: string): string {
  return schema === null ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/**
 * Quotes a string literal. The E'' form with doubled backslashes is used whenever the value holds
 * a backslash, so the result is the same whatever standard_conforming_strings is set to.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) {
    throw new Error('string contains a NUL character, which PostgreSQL does not allow');
  }
  const doubled = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${doubled.replace(/\\/g, '\\\\')}'` : `'${doubled}'`;
}

/** Quotes a role in a GRANT or REVOKE: PUBLIC is a keyword there, not a role name. */
export function quoteGrantee(name: string): string {
  return name === 'PUBLIC' ? 'PUBLIC' : quoteIdent(name);
}
