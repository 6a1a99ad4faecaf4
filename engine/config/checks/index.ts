import type { Diagnostic } from '../../diagnostics.js';
import type { SourceFiles } from '../source-files.js';
import type { SecurityConfig } from '../types.js';
import { CheckContext } from './context.js';
import { checkCredentials } from './credentials.js';
import { checkEngineFields } from './engines.js';
import { checkMemberships } from './memberships.js';
import { checkPolicies } from './policies.js';
import { checkPrivileges } from './privileges.js';
import { checkRoleReferences } from './role-references.js';
import { checkRoles } from './roles.js';
import { checkTargets } from './targets.js';

/** Runs every check beyond the schema and returns all findings; none stops the others. */
export function runSemanticChecks(config: SecurityConfig, files: SourceFiles): Diagnostic[] {
  const context = new CheckContext(config, files);
  checkTargets(context);
  checkRoles(context);
  checkRoleReferences(context);
  checkMemberships(context);
  checkEngineFields(context);
  checkPrivileges(context);
  checkCredentials(context);
  checkPolicies(context);
  return context.diagnostics;
}
