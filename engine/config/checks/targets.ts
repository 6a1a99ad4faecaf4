/**
 * Checks that tie entries to targets: `only:` names declared targets, URLs fit their engine, and
 * a `database:` is one that its targets manage.
 */
import { postgresPrivilegeKind } from '../selectors.js';
import { suggestionFix } from '../suggest.js';
import type { Engine, SourceRef, TargetConfig } from '../types.js';
import { at, CheckContext, ENGINES } from './context.js';

const URL_SCHEMES: Record<Engine, readonly string[]> = {
  postgres: ['postgres', 'postgresql', 'pglite'],
  mysql: ['mysql'],
  mariadb: ['mariadb', 'mysql'],
  mongodb: ['mongodb', 'mongodb+srv'],
};

const KNOWN_SCHEMES = new Set(Object.values(URL_SCHEMES).flat());

export function checkTargets(context: CheckContext): void {
  checkUrls(context);
  checkOnly(context);
  checkDatabases(context);
}

function checkUrls(context: CheckContext): void {
  for (const [name, target] of Object.entries(context.config.targets)) {
    if (!ENGINES.includes(target.engine) || target.url === '') continue;

    // Only the scheme is shown: the rest of a URL may come from the environment and hold a secret.
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(target.url)?.[1]?.toLowerCase();
    const allowed = URL_SCHEMES[target.engine];
    if (scheme !== undefined && allowed.includes(scheme)) continue;

    // An unknown "scheme" may be the start of a secret (a password passed as the whole URL).
    const ref = at(context.source('targets', name), 'url');
    const problem = scheme !== undefined && KNOWN_SCHEMES.has(scheme)
      ? `has scheme "${scheme}:", which does not fit engine ${target.engine}`
      : `does not start with a scheme that fits engine ${target.engine}`;
    context.error(
      `"url" of target "${name}" ${problem}`,
      ref,
      `start the url with ${allowed.map((each) => `${each}://`).join(' or ')}`,
      true,
    );
  }
}

function checkOnly(context: CheckContext): void {
  const targetNames = Object.keys(context.config.targets);

  // Entries without `only` are skipped before their place and name are built.
  const check = (only: readonly string[], ref: SourceRef, owner: string): void => {
    only.forEach((name, index) => {
      if (Object.hasOwn(context.config.targets, name)) return;
      context.error(`${owner} names unknown target "${name}" in "only"`, at(ref, 'only', index), suggestionFix(name, targetNames, 'targets'), true);
    });
  };

  for (const [name, role] of context.roleEntries()) {
    if (role.only) check(role.only, context.source('roles', name), `role "${name}"`);
  }
  context.config.grants.forEach((grant, index) => {
    if (grant.only) check(grant.only, grant.source, `grants[${index}]`);
  });
  context.config.default_privileges.forEach((entry, index) => {
    if (entry.only) check(entry.only, entry.source, `default_privileges[${index}]`);
  });
}

/**
 * Returns the databases a PostgreSQL target manages: its `databases`, or else the database of its
 * URL. Returns undefined when neither is known (a pglite URL names no database).
 */
export function managedDatabases(target: TargetConfig): string[] | undefined {
  if (target.databases && target.databases.length > 0) return target.databases;
  if (!/^postgres(ql)?:\/\//i.test(target.url)) return undefined;
  try {
    const database = decodeURIComponent(new URL(target.url).pathname.slice(1));
    return database === '' ? undefined : [database];
  } catch {
    return undefined;
  }
}

function checkDatabases(context: CheckContext): void {
  const managedByTarget = new Map<string, string[] | undefined>();
  for (const [name, target] of Object.entries(context.config.targets)) {
    managedByTarget.set(name, target.engine === 'postgres' ? managedDatabases(target) : undefined);
  }

  // `ownerOf` names the entry in a message, and runs only for a finding.
  const check = (database: string | undefined, only: readonly string[] | undefined, ref: SourceRef, ownerOf: () => string): void => {
    for (const [targetName] of context.targetsOf(only)) {
      const managed = managedByTarget.get(targetName);
      if (!managed) continue;

      if (database === undefined) {
        if (managed.length > 1) {
          context.error(
            `${ownerOf()} does not say which database of target "${targetName}" it applies to`,
            ref,
            `add database: with one of ${managed.join(', ')}`,
          );
        }
        continue;
      }
      if (!managed.includes(database)) {
        context.error(
          `${ownerOf()} names database "${database}", which target "${targetName}" does not manage`,
          at(ref, 'database'),
          `use one of ${managed.join(', ')}, or add "${database}" to the databases of target "${targetName}"`,
          true,
        );
      }
    }
  };

  context.config.grants.forEach((grant, index) => {
    // A grant on a database itself names its database in the selector, and selectors of other
    // engines are reported by the engine checks.
    if (grant.on.database !== undefined && grant.database === undefined) return;
    if (postgresPrivilegeKind(grant.on) === undefined) return;
    check(grant.database, grant.only, grant.source, () => `grants[${index}]`);
  });
  context.config.default_privileges.forEach((entry, index) => check(entry.database, entry.only, entry.source, () => `default_privileges[${index}]`));
  for (const [table, rls] of Object.entries(context.config.row_level_security)) {
    check(rls.database, undefined, context.source('row_level_security', table), () => `row-level security of table "${table}"`);
  }
}
