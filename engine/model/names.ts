/**
 * Parsing and display of object names as users write them in security.yaml: `schema.table`,
 * `"My Schema"."Odd.Name"`, `schema.*`, and `schema.function(integer, text)`.
 */

/**
 * Splits text at each unquoted `separator`, honouring double-quoted parts that may hold it and
 * `""` for a quote inside them. Shared by qualified names (`.`) and list values (`,`).
 */
export function splitQuoted(text: string, separator: string): string[] {
  // Most names have no quotes, and String.prototype.split needs no string built character by
  // character.
  if (!text.includes('"')) return text.split(separator);

  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        current += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        current += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** Splits a dotted name into its parts, honouring double-quoted parts that may hold dots. */
export function splitQualifiedName(text: string): string[] {
  return splitQuoted(text, '.');
}

/**
 * Parses `schema.name`; a name without a schema is in `public`. Returns null when the text has
 * more than two parts or an empty part.
 */
export function parseQualifiedName(text: string): { schema: string; name: string } | null {
  const parts = splitQualifiedName(text.trim());
  if (parts.some((part) => part === '')) return null;
  if (parts.length === 1) return { schema: 'public', name: parts[0] };
  if (parts.length === 2) return { schema: parts[0], name: parts[1] };
  return null;
}

/**
 * Type names that PostgreSQL prints differently from how people write them. The catalog lists
 * argument types as format_type prints them, so a declared signature is rewritten to that form.
 */
const TYPE_ALIASES: Record<string, string> = {
  int: 'integer',
  int4: 'integer',
  int2: 'smallint',
  int8: 'bigint',
  bool: 'boolean',
  float4: 'real',
  float8: 'double precision',
  float: 'double precision',
  decimal: 'numeric',
  varchar: 'character varying',
  char: 'character',
  bpchar: 'character',
  timestamptz: 'timestamp with time zone',
  timestamp: 'timestamp without time zone',
  timetz: 'time with time zone',
  time: 'time without time zone',
  varbit: 'bit varying',
};

/** Rewrites one argument type to the catalog's form: lower case, aliases expanded, no modifiers. */
export function normaliseTypeName(type: string): string {
  let text = type.trim().replace(/\s+/g, ' ');
  const isArray = text.endsWith('[]');
  if (isArray) text = text.slice(0, -2).trim();
  text = text.replace(/\s*\([^)]*\)\s*/g, ' ').trim();
  if (!text.includes('"')) text = text.toLowerCase();
  text = TYPE_ALIASES[text] ?? text;
  return isArray ? `${text}[]` : text;
}

/**
 * Parses `schema.name(type, type)` into the schema and the signature the catalog query produces
 * (`name(type, type)`). Argument names and modes (IN, OUT) are not part of a signature.
 */
export function parseFunctionSignature(text: string): { schema: string; name: string } | null {
  const open = text.indexOf('(');
  if (open < 0 || !text.trimEnd().endsWith(')')) return null;
  const qualified = parseQualifiedName(text.slice(0, open));
  if (!qualified) return null;

  const inside = text.slice(open + 1, text.trimEnd().length - 1).trim();
  const args = inside === '' ? [] : inside.split(',').map(normaliseTypeName);
  return { schema: qualified.schema, name: `${qualified.name}(${args.join(', ')})` };
}

/** Shows a name as an address or message shows it: bare when plain, double-quoted otherwise. */
export function displayName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function displayQualified(schema: string | null, name: string): string {
  return schema === null ? displayName(name) : `${displayName(schema)}.${displayName(name)}`;
}
