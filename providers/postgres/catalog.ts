/**
 * Catalog queries of the PostgreSQL provider. Each returns every row of its kind in one query, so
 * inspecting a database costs the same number of queries whatever the number of roles and objects.
 *
 * ACLs are expanded with aclexplode over `coalesce(acl, acldefault(…))`: a NULL ACL means the
 * built-in defaults (the owner holds everything, PUBLIC holds CONNECT and TEMPORARY on databases
 * and EXECUTE on functions), which must be visible for manage_public to work.
 *
 * Each object's ACL comes back as one JSON array in an `acl` column (see aclOf), rather than as
 * one row per privilege. The queries then return one row per object or column, and the client
 * parses each array with JSON.parse. A row per privilege carried eight text fields and repeated
 * the object's schema, name and owner each time.
 */

import { quoteLiteral } from './quote.js';
import { SERVER_SETTING_NAMES } from './settings.js';

/** Schemas that belong to the server and are never managed. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;

/**
 * The parameters of SERVER_SETTINGS as an array literal. They are constants of settings.ts, and
 * writing them into the text lets the settings queries run in a batch, which takes no parameters.
 */
const SETTING_NAMES = `ARRAY[${SERVER_SETTING_NAMES.map(quoteLiteral).join(', ')}]::text[]`;

const GRANTEE_NAME = `CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END`;

/**
 * The `acl` column: the entries of `acl` in aclexplode's order, as a JSON array of
 * [grantor, grantee, privilege, grantable] items, all four text ('true' or 'false' for
 * grantable). It is NULL when the ACL is NULL or empty. One aggregate builds the items, so each
 * item's fields come from the same aclexplode row. A text array per entry costs the server less
 * than a json_build_array per entry, and a NULL ACL (most columns) skips the subquery.
 */
const aclOf = (acl: string) => `CASE WHEN ${acl} IS NULL THEN NULL ELSE
         (SELECT array_to_json(array_agg(ARRAY[pg_get_userbyid(a.grantor)::text, (${GRANTEE_NAME})::text,
                                               a.privilege_type, a.is_grantable::text]))
          FROM aclexplode(${acl}) a) END AS acl`;

export const SERVER_QUERY = `
SELECT current_setting('server_version_num')::int AS version,
       current_user AS current_user,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       has_table_privilege('pg_authid', 'SELECT') AS can_read_authid,
       has_function_privilege('pg_show_all_file_settings()', 'EXECUTE') AS can_read_file_settings,
       has_function_privilege('pg_hba_file_rules()', 'EXECUTE') AS can_read_hba`;

const ROLE_COLUMNS = `r.oid, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
       r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
       CASE WHEN r.rolvaliduntil IS NULL OR NOT isfinite(r.rolvaliduntil) THEN NULL
            ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS valid_until,
       c.description AS comment`;

/**
 * Role comments. A join, because shobj_description() runs a query of its own for every role, so
 * its cost grows with the number of roles (docs/benchmarks.md has the measured figures).
 */
const ROLE_COMMENTS = `LEFT JOIN pg_shdescription c ON c.objoid = r.oid AND c.classoid = 'pg_authid'::regclass`;

/** Roles with their stored password, for a role that may read pg_authid (a superuser). */
export const ROLES_WITH_PASSWORD_QUERY = `
SELECT ${ROLE_COLUMNS}, r.rolpassword AS password
FROM pg_authid r ${ROLE_COMMENTS} ORDER BY r.rolname`;

/** Roles without passwords, for a role that may not read pg_authid. */
export const ROLES_QUERY = `
SELECT ${ROLE_COLUMNS}, NULL::text AS password, true AS password_unreadable
FROM pg_roles r ${ROLE_COMMENTS} ORDER BY r.rolname`;

export const MEMBERSHIPS_QUERY = `
SELECT g.rolname AS role, m.rolname AS member, am.admin_option
FROM pg_auth_members am
JOIN pg_roles g ON g.oid = am.roleid
JOIN pg_roles m ON m.oid = am.member`;

/** On PostgreSQL 16+ a membership also has INHERIT and SET options. */
export const MEMBERSHIPS_WITH_OPTIONS_QUERY = `
SELECT g.rolname AS role, m.rolname AS member, am.admin_option, am.inherit_option, am.set_option,
       pg_get_userbyid(am.grantor) AS grantor
FROM pg_auth_members am
JOIN pg_roles g ON g.oid = am.roleid
JOIN pg_roles m ON m.oid = am.member`;

export const DATABASE_QUERY = `
SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner,
       ${aclOf(`coalesce(d.datacl, acldefault('d', d.datdba))`)}
FROM pg_database d
WHERE d.datname = current_database()`;

export const SCHEMAS_QUERY = `
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
       ${aclOf(`coalesce(n.nspacl, acldefault('n', n.nspowner))`)}
FROM pg_namespace n
WHERE ${USER_SCHEMA}`;

/** Tables, views, materialized views, foreign and partitioned tables, and sequences. */
export const RELATIONS_QUERY = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       ${aclOf(`coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))`)}
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p', 'S') AND ${USER_SCHEMA}`;

/** Every column of user relations, with its column-level grants where it has any. */
export const COLUMNS_QUERY = `
SELECT n.nspname AS schema, c.relname AS table, at.attname AS column,
       ${aclOf('at.attacl')}
FROM pg_attribute at
JOIN pg_class c ON c.oid = at.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE at.attnum > 0 AND NOT at.attisdropped AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
  AND ${USER_SCHEMA}
ORDER BY n.nspname, c.relname, at.attnum`;

/** Functions, procedures and aggregates; the signature uses the argument types only. */
export const ROUTINES_QUERY = `
SELECT n.nspname AS schema, p.proname || '(' || oidvectortypes(p.proargtypes) || ')' AS name,
       p.proname AS routine, p.prokind, pg_get_userbyid(p.proowner) AS owner,
       ${aclOf(`coalesce(p.proacl, acldefault('f', p.proowner))`)}
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE ${USER_SCHEMA}`;

export const DEFAULT_PRIVILEGES_QUERY = `
SELECT pg_get_userbyid(d.defaclrole) AS for_role,
       CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE n.nspname END AS schema,
       d.defaclobjtype AS object_type,
       ${aclOf('d.defaclacl')}
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace`;

/** Row-level security switches of every user table, partitioned tables included. */
export const RLS_TABLES_QUERY = `
SELECT n.nspname AS schema, c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS force
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA}`;

/**
 * Policies with their roles sorted (PUBLIC for the OID 0) and their expressions deparsed by the
 * server, which is the form declared expressions are normalised to before they are compared.
 */
export const POLICIES_QUERY = `
SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, p.polcmd AS command,
       p.polpermissive AS permissive,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END
             FROM unnest(p.polroles) AS r ORDER BY 1) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using,
       pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ${USER_SCHEMA}`;

export const EXTENSIONS_QUERY = `SELECT extname AS name FROM pg_extension`;

/** Settings of roles (setrole 0 is ALTER DATABASE … SET, which is not a role's), one row per parameter. */
export const ROLE_SETTINGS_QUERY = `
SELECT r.rolname AS role, d.datname AS database, s.entry
FROM pg_db_role_setting rs
JOIN pg_roles r ON r.oid = rs.setrole
LEFT JOIN pg_database d ON d.oid = rs.setdatabase
CROSS JOIN LATERAL unnest(rs.setconfig) AS s(entry)
WHERE rs.setrole <> 0`;

/**
 * Server parameters that audit and encryption map to, with the value the configuration files
 * hold now. pg_settings shows a placeholder for a parameter of a library that is not loaded only
 * once it is set, so names missing from it are still listed with a NULL running value.
 */
export const SERVER_SETTINGS_QUERY = `
SELECT names.name, s.setting AS running, coalesce(s.pending_restart, false) AS pending_restart
FROM unnest(${SETTING_NAMES}) AS names(name)
LEFT JOIN pg_settings s ON s.name = names.name`;

/** The last value of each parameter in the configuration files; later files and lines win. */
export const FILE_SETTINGS_QUERY = `
SELECT DISTINCT ON (name) name, setting
FROM pg_file_settings
WHERE error IS NULL AND name = ANY(${SETTING_NAMES})
ORDER BY name, seqno DESC`;

export const AVAILABLE_EXTENSIONS_QUERY = `SELECT name FROM pg_available_extensions`;

export const HBA_RULES_QUERY = `
SELECT line_number, type, database, user_name, address, auth_method, error
FROM pg_hba_file_rules
ORDER BY line_number`;
