/**
 * `${env:NAME}` and `${vault:NAME}` in string values.
 *
 * A password field (of a role or a target) holds exactly one reference, which becomes a
 * SecretRef and is resolved only when a statement needs the value. Anywhere else, `${env:NAME}`
 * is replaced by the variable's value at load time, and `${vault:NAME}` is an error, because a
 * vault secret must not end up in a URL or a name that plans and logs print. `$${` writes a
 * literal `${`.
 */
import type { Diagnostic } from '../diagnostics.js';
import { describePath } from './describe.js';
import type { KeyPath } from './positions.js';
import type { SourceFiles } from './source-files.js';
import type { SecretRef } from './types.js';
import type { YamlMapping } from './parse.js';

const SECRET_REF = /^\$\{(env|vault):([^{}]+)\}$/;
const REFERENCE = /\$\$\{|\$\{([^{}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Tells whether a key path is a password field, whose value is a secret reference. */
export function isPasswordPath(path: KeyPath): boolean {
  return path.length === 3 && (path[0] === 'roles' || path[0] === 'targets') && path[2] === 'password';
}

/** Parses a password value; undefined when it is not exactly one reference. */
export function parseSecretRef(value: string): SecretRef | undefined {
  const match = SECRET_REF.exec(value);
  if (!match) return undefined;
  return { kind: match[1] as SecretRef['kind'], name: match[2]! };
}

/** A variable whose value replaced `${env:NAME}` somewhere in the configuration. */
export interface EnvSubstitution {
  name: string;
  value: string;
}

/**
 * Replaces references in every string value of one file's document, in place: password fields
 * become SecretRef objects, `${env:NAME}` elsewhere becomes the variable's value. Returns the
 * substitutions made, so that redactSubstitutions can keep their values out of messages.
 */
export function resolveReferences(
  document: YamlMapping,
  file: string,
  env: NodeJS.ProcessEnv,
  files: SourceFiles,
): { diagnostics: Diagnostic[]; substitutions: EnvSubstitution[] } {
  const diagnostics: Diagnostic[] = [];
  const substitutions = new Map<string, string>();
  const text = files.text(file);
  if (text !== undefined && !mayContainReference(text)) return { diagnostics, substitutions: [] };

  // The key path of the value being visited. One array serves the whole walk, and a diagnostic
  // copies it, because a file has hundreds of thousands of values and few diagnostics.
  const path: (string | number)[] = [];

  const visit = (container: YamlMapping | unknown[], key: string | number): void => {
    path.push(key);
    const value = (container as Record<string | number, unknown>)[key];

    if (typeof value === 'string') {
      const resolved = isPasswordPath(path) ? parseSecretRef(value) ?? value : substitute(value);
      if (resolved !== value) (container as Record<string | number, unknown>)[key] = resolved;
    } else if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) visit(value, index);
    } else if (value !== null && typeof value === 'object') {
      for (const child of Object.keys(value)) visit(value as YamlMapping, child);
    }
    path.pop();
  };

  const substitute = (value: string): string => {
    if (!value.includes('${')) return value;

    return value.replace(REFERENCE, (match: string, inner: string | undefined) => {
      if (inner === undefined) return '${';
      const problem = referenceProblem(inner, env);
      if (problem) {
        const at = [...path];
        diagnostics.push({ severity: 'error', ...problem(describePath(at)), position: files.locate({ file, path: at }, true) });
        return match;
      }
      const name = inner.slice('env:'.length);
      substitutions.set(name, env[name]!);
      return env[name]!;
    });
  };

  for (const key of Object.keys(document)) visit(document, key);
  return { diagnostics, substitutions: [...substitutions].map(([name, value]) => ({ name, value })) };
}

/**
 * Tells whether a string value of a file may contain `${`, which every reference and every
 * secret reference starts with. A value contains it only if the text does or has a backslash.
 * Escapes such as \x24 and escaped line breaks of double-quoted scalars are the only ways to write
 * it without the two characters side by side, because line folding inserts a space or a line break.
 */
function mayContainReference(text: string): boolean {
  return text.includes('${') || text.includes('\\');
}

/**
 * Replaces the values of substituted variables in diagnostics with their `${env:NAME}`, because
 * a check may print a name (a grantee, a database) that came from the environment and the
 * variable may hold a secret. Values shorter than 4 characters are left alone: replacing them
 * would garble unrelated text, and so short a value is no secret.
 */
export function redactSubstitutions(diagnostics: readonly Diagnostic[], substitutions: readonly EnvSubstitution[]): Diagnostic[] {
  const secrets = substitutions
    .filter((substitution) => substitution.value.length >= 4)
    .sort((a, b) => b.value.length - a.value.length);
  if (secrets.length === 0) return [...diagnostics];

  const redact = (text: string): string =>
    secrets.reduce((result, { name, value }) => result.split(value).join(`\${env:${name}}`), text);

  return diagnostics.map((diagnostic) => ({
    ...diagnostic,
    summary: redact(diagnostic.summary),
    ...(diagnostic.fix !== undefined ? { fix: redact(diagnostic.fix) } : {}),
  }));
}

type ProblemMessage = (where: string) => { summary: string; fix: string };

function referenceProblem(inner: string, env: NodeJS.ProcessEnv): ProblemMessage | undefined {
  const [kind, ...rest] = inner.split(':');
  const name = rest.join(':');

  if (kind === 'env') {
    if (!ENV_NAME.test(name)) {
      return (where) => ({
        summary: `invalid environment variable name "${name}" in ${where}`,
        fix: 'use letters, digits and _, starting with a letter or _, such as ${env:DB_HOST}',
      });
    }
    if (env[name] === undefined) {
      return (where) => ({
        summary: `environment variable ${name} is not set (used in ${where})`,
        fix: `set ${name} before running aishell, or replace \${env:${name}} with the value`,
      });
    }
    return undefined;
  }

  if (kind === 'vault') {
    return (where) => ({
      summary: `\${vault:${name}} is not allowed in ${where}; vault references are allowed only in password fields`,
      fix: 'move the secret to the password: key of the role or target, which reads the vault only when a statement needs it',
    });
  }

  return (where) => ({
    summary: `unknown reference \${${inner}} in ${where}`,
    fix: 'write ${env:NAME} for an environment variable, or $${ for a literal ${',
  });
}
