import type { EncryptionConfig, SourceRef } from '../../engine/config/types.js';
import type { SourcedDiagnostic } from '../../engine/model/desired.js';
import type { ActualState, HbaRule } from '../../engine/model/types.js';

/** pg_hba.conf connection types that accept a TCP connection without TLS; hostgssenc is encrypted by GSSAPI. */
const NON_TLS_TYPES = new Set(['host', 'hostnossl', 'hostnogssenc']);

const at = (ref: SourceRef | undefined, step: string): SourceRef | undefined => (ref ? { file: ref.file, path: [...ref.path, step] } : undefined);

function describeRule(rule: HbaRule): string {
  const parts = [rule.type, rule.databases.join(','), rule.users.join(','), rule.address ?? '', rule.method ?? ''];
  return parts.filter((part) => part !== '').join(' ');
}

/**
 * Checks require_tls against what a connection cannot change: whether the server has TLS on at
 * all (ssl needs certificate and key files on the server) and whether pg_hba.conf has lines that
 * accept TCP connections without TLS. Each gap is a warning with the fix, never a silent skip.
 */
export function tlsFindings(encryption: EncryptionConfig, actual: ActualState, source?: SourceRef): SourcedDiagnostic[] {
  if (!encryption.require_tls) return [];
  const diagnostics: SourcedDiagnostic[] = [];
  const where = at(source, 'require_tls');

  const ssl = actual.server.settings.find((setting) => setting.name === 'ssl');
  if (ssl?.running !== 'on') {
    diagnostics.push({
      severity: 'warning',
      summary: 'require_tls: ssl is off on the server, so every client connects without TLS',
      fix: 'put ssl_cert_file and ssl_key_file on the server, set ssl = on in postgresql.conf and reload; aishell does not turn ssl on, because the files must exist first',
      source: where,
    });
  }

  if (actual.server.hbaRules === null) {
    diagnostics.push({
      severity: 'warning',
      summary: 'require_tls: pg_hba.conf was not checked, because the connecting role may not read pg_hba_file_rules',
      fix: 'plan as a superuser, or GRANT EXECUTE ON FUNCTION pg_hba_file_rules() to the connecting role',
      source: where,
    });
    return diagnostics;
  }

  for (const rule of actual.server.hbaRules) {
    if (rule.error !== null) {
      diagnostics.push({
        severity: 'warning',
        summary: `require_tls: pg_hba.conf line ${rule.line} is invalid and ignored by the server: ${rule.error}`,
        fix: `correct line ${rule.line} of pg_hba.conf and reload`,
        source: where,
      });
    } else if (NON_TLS_TYPES.has(rule.type)) {
      diagnostics.push({
        severity: 'warning',
        summary: `require_tls: pg_hba.conf line ${rule.line} (${describeRule(rule)}) accepts connections without TLS`,
        fix: `change "${rule.type}" to "hostssl" on line ${rule.line} of pg_hba.conf and reload the server`,
        source: where,
      });
    }
  }
  return diagnostics;
}
