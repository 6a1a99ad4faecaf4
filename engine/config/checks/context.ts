import type { Diagnostic, Severity } from '../../diagnostics.js';
import type { SourceFiles } from '../source-files.js';
import type { Engine, RoleConfig, SecurityConfig, SourceRef, TargetConfig } from '../types.js';

export const ENGINES: readonly Engine[] = ['postgres', 'mysql', 'mariadb', 'mongodb'];

/** The declared targets that an entry applies to, and their valid engines. */
interface Scope {
  targets: [string, TargetConfig][];
  engines: Set<Engine>;
}

/** Shared state of the semantic checks: the normalised config, and reporting at a key path. */
export class CheckContext {
  readonly config: SecurityConfig;
  readonly diagnostics: Diagnostic[] = [];
  private readonly files: SourceFiles;

  constructor(config: SecurityConfig, files: SourceFiles) {
    this.config = config;
    this.files = files;
  }

  private roleList?: readonly [string, RoleConfig][];

  /**
   * Returns the declared roles with their names, in declaration order. The list is built once,
   * because Object.entries on a record of 10,000 roles takes several milliseconds.
   */
  roleEntries(): readonly [string, RoleConfig][] {
    this.roleList ??= Object.entries(this.config.roles);
    return this.roleList;
  }

  report(severity: Severity, summary: string, ref: SourceRef, fix?: string, atValue = false): void {
    this.diagnostics.push({ severity, summary, ...(fix ? { fix } : {}), position: this.files.locate(ref, atValue) });
  }

  error(summary: string, ref: SourceRef, fix?: string, atValue = false): void {
    this.report('error', summary, ref, fix, atValue);
  }

  warning(summary: string, ref: SourceRef, fix?: string, atValue = false): void {
    this.report('warning', summary, ref, fix, atValue);
  }

  /** Returns where a map entry (`roles.app_user`) is declared. The keys map has every declared entry. */
  source(section: string, name: string): SourceRef {
    return this.config.sources.keys.get(`${section}.${name}`) ?? { file: '', path: [section, name] };
  }

  /** Returns where a single-valued section (`audit`, `password_policy`) is declared. */
  sectionSource(section: string): SourceRef {
    return this.config.sources.keys.get(section) ?? { file: '', path: [section] };
  }

  /** Returns the declared targets an entry applies to: those in `only`, or all. Unknown names are skipped. */
  targetsOf(only: readonly string[] | undefined): [string, TargetConfig][] {
    return this.scopeOf(only).targets;
  }

  /** Returns the valid engines among the targets an entry applies to. */
  enginesOf(only: readonly string[] | undefined): ReadonlySet<Engine> {
    return this.scopeOf(only).engines;
  }

  // 100,000 grants share a handful of `only` lists, so each list is resolved once. Several checks
  // ask for the scope of the same entry, so the list object itself is a key too.
  private readonly scopes = new Map<string, Scope>();
  private readonly scopesByList = new WeakMap<readonly string[], Scope>();
  private everyTarget?: Scope;

  private scopeOf(only: readonly string[] | undefined): Scope {
    if (!only) {
      this.everyTarget ??= this.resolveScope('', undefined);
      return this.everyTarget;
    }
    let scope = this.scopesByList.get(only);
    if (!scope) {
      scope = this.resolveScope(JSON.stringify(only), only);
      this.scopesByList.set(only, scope);
    }
    return scope;
  }

  private resolveScope(key: string, only: readonly string[] | undefined): Scope {
    let scope = this.scopes.get(key);
    if (!scope) {
      const all = Object.entries(this.config.targets);
      const targets = only ? all.filter(([name]) => only.includes(name)) : all;
      const engines = new Set(targets.map(([, target]) => target.engine).filter((engine) => ENGINES.includes(engine)));
      scope = { targets, engines };
      this.scopes.set(key, scope);
    }
    return scope;
  }
}

/** Extends a source reference by steps inside the entry it points at. */
export function at(ref: SourceRef, ...steps: (string | number)[]): SourceRef {
  return { file: ref.file, path: [...ref.path, ...steps] };
}

/** Role names that PostgreSQL reads as PUBLIC rather than as a role (the keyword is case-insensitive). */
export function isPublic(name: string): boolean {
  return name.length === 6 && name.toLowerCase() === 'public';
}
