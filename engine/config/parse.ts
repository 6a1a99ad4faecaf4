/**
 * Reads one YAML file of a configuration with js-yaml and reports syntax errors, duplicate keys
 * and a top level that is not a mapping, each with its line and column.
 */
import { readFile } from 'node:fs/promises';
import type { Diagnostic } from '../diagnostics.js';
import { describePath } from './describe.js';
import type { SourceFiles } from './source-files.js';

type JsYaml = typeof import('js-yaml');

/** A parsed document: mappings are null-prototype objects, so any key (`__proto__`) is plain data. */
export type YamlMapping = Record<string, unknown>;

export interface ConfigFile {
  /** The name shown in messages and stored in SourceRef.file. */
  display: string;
  absolute: string;
}

export interface ParsedFile {
  file: string;
  /** The top-level mapping; undefined when the file did not parse. An empty file gives {}. */
  document?: YamlMapping;
  diagnostics: Diagnostic[];
}

/**
 * Parses one file. Values follow the YAML 1.2 core schema, so `2027-06-30` and `yes` stay
 * strings, and `<<` merge keys are allowed.
 */
export async function parseConfigFile(entry: ConfigFile, files: SourceFiles, jsYaml: JsYaml): Promise<ParsedFile> {
  const file = entry.display;
  let text: string;
  try {
    text = await readFile(entry.absolute, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { file, diagnostics: [{ severity: 'error', summary: `cannot read ${file}: ${reason}`, position: { file, line: 1, column: 1 } }] };
  }

  // A byte order mark is not content; dropping it keeps columns of the first line right.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  files.add(file, text);

  let loaded: { value: unknown; hasAlias: boolean };
  try {
    loaded = isBlank(text) ? { value: null, hasAlias: false } : loadDocument(text, file, files, jsYaml);
  } catch (error) {
    // A file of only comments and document markers is empty, not broken.
    if (!/input is empty/.test((error as YamlError).reason ?? '')) {
      return { file, diagnostics: [syntaxDiagnostic(error, file, text, files)] };
    }
    loaded = { value: null, hasAlias: false };
  }

  // Without an alias (*name) no object is shared, so the value needs no copy.
  const materialized = loaded.hasAlias ? materialize(loaded.value, text.length) : loaded.value;
  if (materialized === TOO_LARGE) {
    return {
      file,
      diagnostics: [{
        severity: 'error',
        summary: `aliases in ${file} expand to far more values than the file contains`,
        fix: 'write the repeated values out, or use fewer nested aliases (*name)',
        position: { file, line: 1, column: 1 },
      }],
    };
  }

  if (materialized === null) return { file, document: Object.create(null) as YamlMapping, diagnostics: [] };
  if (typeof materialized !== 'object' || Array.isArray(materialized)) {
    return {
      file,
      diagnostics: [{
        severity: 'error',
        summary: `the file must be a mapping of sections (version, targets, roles, grants…), got ${Array.isArray(materialized) ? 'a list' : 'a single value'}`,
        fix: 'start the file with keys such as version: 1 and targets:',
        position: files.locate({ file, path: [] }),
      }],
    };
  }
  return { file, document: materialized as YamlMapping, diagnostics: [] };
}

/**
 * Loads the single document of a file as js-yaml's load() does, in its two steps, which are the
 * parser's events and then the values built from them. The position index of the file reuses the events, so
 * a diagnostic in a large file does not parse it again.
 */
function loadDocument(text: string, file: string, files: SourceFiles, jsYaml: JsYaml): { value: unknown; hasAlias: boolean } {
  const events = jsYaml.parseEvents(text, { filename: file });
  files.addEvents(file, events);

  const documents = jsYaml.constructFromEvents(events, { source: text, filename: file, schema: yamlSchema(jsYaml) });
  // The same exceptions as load(), whose reasons syntaxDiagnostic() and the caller read.
  if (documents.length === 0) throw new jsYaml.YAMLException('expected a document, but the input is empty');
  if (documents.length > 1) throw new jsYaml.YAMLException('expected a single document in the stream, but found more');

  // Merge keys (<<: *name) are aliases too.
  const alias = jsYaml.EVENT_ID.ALIAS;
  let hasAlias = false;
  for (let index = 0; index < events.length && !hasAlias; index++) hasAlias = events[index]!.type === alias;
  return { value: documents[0], hasAlias };
}


let cachedSchema: { jsYaml: JsYaml; schema: InstanceType<JsYaml['Schema']> } | undefined;

/**
 * Returns the YAML 1.2 core schema with `<<` merge keys, whose mappings are null-prototype
 * objects. Its map tag otherwise behaves as js-yaml's default one (keys as strings, no complex
 * keys), so errors read the same.
 */
function yamlSchema(jsYaml: JsYaml): InstanceType<JsYaml['Schema']> {
  if (cachedSchema?.jsYaml === jsYaml) return cachedSchema.schema;

  const nullPrototypeMap = jsYaml.defineMappingTag<YamlMapping>('tag:yaml.org,2002:map', {
    create: createMapping,
    addPair: (mapping, key, value) => {
      if (key !== null && typeof key === 'object') return 'object-based map does not support complex keys';
      mapping[String(key)] = value;
      return '';
    },
    has: (mapping, key) => (key === null || typeof key !== 'object') && Object.hasOwn(mapping, String(key)),
    keys: (mapping) => Object.keys(mapping),
    get: (mapping, key) => (Object.hasOwn(mapping, String(key)) ? mapping[String(key)] : null),
    // Load only: aishell never writes security.yaml.
    identify: () => false,
  });
  const schema = jsYaml.CORE_SCHEMA.withTags(jsYaml.mergeTag, nullPrototypeMap);
  cachedSchema = { jsYaml, schema };
  return schema;
}

/**
 * Creates an empty null-prototype mapping. In Node 20 (V8 11), Object.create(null) returns an
 * object in dictionary mode, whose property reads are slower than those of an
 * object literal. An object literal whose prototype is then set to null keeps fast properties.
 */
function createMapping(): YamlMapping {
  return Object.setPrototypeOf({}, null) as YamlMapping;
}

function isBlank(text: string): boolean {
  return /^(\s|#.*)*$/.test(text);
}

const TOO_LARGE = Symbol('too large');

/**
 * Copies the loaded value into a tree without shared objects. js-yaml shares the object of an
 * anchor with every alias (*name). The copy gives each place its own value, so later steps can
 * change values in place. A budget tied to the file length stops alias chains that expand
 * exponentially.
 */
function materialize(value: unknown, textLength: number): unknown {
  let budget = 4 * textLength + 10_000;

  const copy = (node: unknown): unknown => {
    if (--budget < 0) throw TOO_LARGE;
    if (Array.isArray(node)) return node.map(copy);
    if (node === null || typeof node !== 'object') return node;

    const result = createMapping();
    for (const key of Object.keys(node)) result[key] = copy((node as YamlMapping)[key]);
    return result;
  };

  try {
    return copy(value);
  } catch (error) {
    if (error === TOO_LARGE) return TOO_LARGE;
    throw error;
  }
}

interface YamlError {
  name?: string;
  reason?: string;
  message?: string;
  mark?: { line: number; column: number; position: number };
}

function syntaxDiagnostic(error: unknown, file: string, text: string, files: SourceFiles): Diagnostic {
  const yamlError = error as YamlError;
  const reason = yamlError.reason ?? yamlError.message ?? String(error);
  const mark = yamlError.mark;
  const position = mark ? { file, line: mark.line + 1, column: mark.column + 1 } : { file, line: 1, column: 1 };

  if (reason === 'duplicated mapping key' && mark) {
    const duplicate = files.indexOf(file)?.findDuplicateKey(mark.line + 1);
    if (duplicate) {
      const where = duplicate.path.length > 1 ? ` in ${describePath(duplicate.path.slice(0, -1))}` : '';
      return {
        severity: 'error',
        summary: `duplicate key "${duplicate.key}"${where}; it is first declared at line ${duplicate.first.line}`,
        fix: 'keep one of the two declarations and merge their settings into it',
        position: { file, ...duplicate.second },
      };
    }
    return { severity: 'error', summary: 'duplicate key in a mapping', fix: 'keep one of the two declarations', position };
  }

  if (/single document/.test(reason)) {
    const separator = secondDocumentLine(text);
    return {
      severity: 'error',
      summary: 'the file contains more than one YAML document',
      fix: 'keep one document per file; to split a configuration, put several *.yaml files in one directory',
      position: separator ? { file, line: separator, column: 1 } : position,
    };
  }

  return { severity: 'error', summary: `invalid YAML: ${reason}`, fix: syntaxHint(reason), position };
}

function syntaxHint(reason: string): string {
  if (/tab/.test(reason)) return 'indent with spaces; YAML does not allow tabs in indentation';
  if (/indentation/.test(reason)) return 'align this line with the other keys of its mapping; YAML nests by indentation';
  if (/comma/.test(reason)) return 'separate the entries of [ ] and { } with commas';
  if (/unknown .*tag/.test(reason)) return 'remove the tag (!!…); aishell reads plain strings, numbers, booleans, lists and mappings';
  if (/unidentified alias|undefined alias/.test(reason)) return 'define the anchor (&name) before its alias (*name)';
  return 'check the indentation of this line and the one before it, and quote values that contain : { } [ ] , # or start with * & ! | >';
}

function secondDocumentLine(text: string): number | undefined {
  const lines = text.split('\n');
  let separators = 0;
  let content = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (/^---(\s|$)/.test(line)) {
      separators++;
      if (content || separators > 1) return index + 1;
    } else if (!/^\s*(#.*)?$/.test(line)) {
      content = true;
    }
  }
  return undefined;
}
