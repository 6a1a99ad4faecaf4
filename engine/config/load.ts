/**
 * Loads security.yaml (or a directory of YAML files) into a SecurityConfig, collecting every
 * problem as a diagnostic with file, line, column and a fix.
 *
 * Steps: parse each file with js-yaml, validate it against schemas/security.schema.json,
 * resolve ${env:…} references, merge the files, normalise, then run the checks that need the
 * whole configuration (role references, memberships, engines, privileges). A file that does not
 * parse is skipped and the checks that need the whole configuration are not run, because they
 * would report its roles and targets as missing.
 */
import type { Diagnostic } from '../diagnostics.js';
import { hasErrors } from '../diagnostics.js';
import { runSemanticChecks } from './checks/index.js';
import { listConfigFiles } from './config-path.js';
import { mergeDocuments, type FileDocument, type MergedDocument } from './merge.js';
import { normalizeConfig } from './normalize.js';
import { parseConfigFile } from './parse.js';
import { redactSubstitutions, resolveReferences, type EnvSubstitution } from './references.js';
import { schemaValidator } from './schema.js';
import { translateSchemaErrors } from './schema-errors.js';
import { SourceFiles } from './source-files.js';
import type { SecurityConfig } from './types.js';

export { resolveConfigPath } from './config-path.js';

export interface LoadOptions {
  /** Environment that `${env:NAME}` outside password fields reads. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory that relative paths start from, and that file names in messages are shown relative to. Default: process.cwd(). */
  cwd?: string;
}

/** The configuration, present only when there is no error; warnings may come with it. */
export interface LoadResult {
  config?: SecurityConfig;
  diagnostics: Diagnostic[];
}

export async function loadConfig(configPath: string, options: LoadOptions = {}): Promise<LoadResult> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();

  const listed = await listConfigFiles(configPath, cwd);
  if ('diagnostic' in listed) return { diagnostics: [listed.diagnostic] };

  const [jsYaml, validator] = await Promise.all([import('js-yaml'), schemaValidator()]);
  const files = new SourceFiles(jsYaml);
  const diagnostics: Diagnostic[] = [];
  const documents: FileDocument[] = [];
  const substitutions: EnvSubstitution[] = [];
  let everyFileParsed = true;

  for (const entry of listed.files) {
    const parsed = await parseConfigFile(entry, files, jsYaml);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.document) {
      everyFileParsed = false;
      continue;
    }

    // Validate before resolving references, so that no value from the environment can appear
    // in a schema message.
    const schemaErrors = validator.validateFile(parsed.document);
    diagnostics.push(...translateSchemaErrors(schemaErrors, parsed.file, parsed.document, files));
    const resolved = resolveReferences(parsed.document, parsed.file, env, files);
    diagnostics.push(...resolved.diagnostics);
    substitutions.push(...resolved.substitutions);
    documents.push({ file: parsed.file, document: parsed.document });
  }

  const { merged, diagnostics: mergeDiagnostics } = mergeDocuments(documents, files);
  diagnostics.push(...mergeDiagnostics);

  const config = normalizeConfig(merged, (ref) => files.locate(ref));
  if (everyFileParsed) {
    diagnostics.push(...checkRequiredSections(merged, validator.requiredSections, listed.files[0]!.display));
    diagnostics.push(...runSemanticChecks(config, files));
  }

  files.releaseEvents();
  const redacted = redactSubstitutions(diagnostics, substitutions);
  const sorted = sortDiagnostics(redacted, listed.files.map((file) => file.display));
  return hasErrors(sorted) ? { diagnostics: sorted } : { config, diagnostics: sorted };
}

/** `version` and `targets` must be declared in some file; a directory may put them in any one. */
function checkRequiredSections(merged: MergedDocument, required: readonly string[], firstFile: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const position = { file: firstFile, line: 1, column: 1 };

  for (const section of required) {
    const present = section === 'targets' ? merged.maps.targets.size > 0 : merged.singletons.has(section);
    if (present) continue;

    if (section === 'version') {
      diagnostics.push({ severity: 'error', summary: 'the configuration has no "version"', fix: 'add version: 1 at the top of the file', position });
    } else if (section === 'targets') {
      diagnostics.push({
        severity: 'error',
        summary: 'the configuration declares no targets',
        fix: 'add a targets: section with at least one database, such as prod: { engine: postgres, url: postgres://admin@db:5432/app }',
        position,
      });
    } else {
      diagnostics.push({ severity: 'error', summary: `the configuration has no "${section}"`, fix: `add ${section}:`, position });
    }
  }
  return diagnostics;
}

/** Orders diagnostics as an editor lists them: by file (in load order), line and column. */
function sortDiagnostics(diagnostics: Diagnostic[], fileOrder: readonly string[]): Diagnostic[] {
  const rank = new Map(fileOrder.map((file, index) => [file, index]));
  const key = (diagnostic: Diagnostic): [number, number, number] => {
    const position = diagnostic.position;
    if (!position) return [-1, 0, 0];
    return [rank.get(position.file) ?? fileOrder.length, position.line, position.column];
  };
  return diagnostics
    .map((diagnostic, index) => ({ diagnostic, index, key: key(diagnostic) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2] || a.index - b.index)
    .map((entry) => entry.diagnostic);
}
