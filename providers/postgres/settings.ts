/**
 * The server parameters that the audit and encryption sections map to, and the canonical text of
 * their values. Inspect and the mapping both write values through `canonicalSetting`, so a value
 * written `TRUE` in postgresql.conf compares equal to the `on` that aishell would set.
 */

import { splitQuoted } from '../../engine/model/names.js';

type SettingKind = 'bool' | 'enum' | 'libraries' | 'audit-classes';

interface SettingDefinition {
  kind: SettingKind;
  /** The server reads the parameter only at start (context postmaster). */
  needsRestart: boolean;
  /** The spellings pg_settings uses, for enum parameters. */
  values?: readonly string[];
}

/** pgaudit.log classes in the order its documentation lists them. */
export const AUDIT_CLASSES = ['read', 'write', 'function', 'role', 'ddl', 'misc', 'misc_set', 'all', 'none'] as const;

export const SERVER_SETTINGS: Record<string, SettingDefinition> = {
  shared_preload_libraries: { kind: 'libraries', needsRestart: true },
  'pgaudit.log': { kind: 'audit-classes', needsRestart: false },
  'pgaudit.log_relation': { kind: 'bool', needsRestart: false },
  log_connections: { kind: 'bool', needsRestart: false },
  log_disconnections: { kind: 'bool', needsRestart: false },
  password_encryption: { kind: 'enum', needsRestart: false, values: ['scram-sha-256', 'md5'] },
  ssl: { kind: 'bool', needsRestart: false },
  ssl_min_protocol_version: { kind: 'enum', needsRestart: false, values: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] },
};

export const SERVER_SETTING_NAMES = Object.keys(SERVER_SETTINGS);

const TRUE_WORDS = new Set(['on', 'true', 'yes', '1', 't', 'y']);
const FALSE_WORDS = new Set(['off', 'false', 'no', '0', 'f', 'n']);

/** Splits a comma-separated parameter value, honouring double-quoted elements. */
export function splitListValue(value: string): string[] {
  return splitQuoted(value, ',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Returns the canonical text of a value of one of SERVER_SETTINGS; other parameters keep their text. */
export function canonicalSetting(name: string, value: string): string {
  const definition = SERVER_SETTINGS[name];
  if (!definition) return value;
  switch (definition.kind) {
    case 'bool': {
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return 'on';
      if (FALSE_WORDS.has(word)) return 'off';
      return value;
    }
    case 'enum':
      return definition.values?.find((each) => each.toLowerCase() === value.trim().toLowerCase()) ?? value;
    case 'libraries':
      return splitListValue(value).join(', ');
    case 'audit-classes': {
      const classes = new Set(splitListValue(value.toLowerCase()));
      const known = AUDIT_CLASSES.filter((each) => classes.has(each));
      const other = [...classes].filter((each) => !(AUDIT_CLASSES as readonly string[]).includes(each)).sort();
      return [...known, ...other].join(', ');
    }
  }
}
