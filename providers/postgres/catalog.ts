/**
 * Catalog queries of the PostgreSQL provider. Each returns every row of its kind in one query, so
 * inspecting a database costs the same number of queries whatever the number of roles and objects.
 *
 * ACLs are expanded with aclexplode over `coalesce(acl, acldefault(…))`: a NULL ACL means the
 * built-in defaults (the owner holds everything, PUBLIC holds CONNECT and TEMPORARY on databases
 * and EXECUTE on functions), which must be visible for manage_public to work.
 */

/** Schemas that belong to the server and are never managed. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;

const GRANTEE_NAME = `CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END`;

export const SERVER_QUERY = `
SELECT current_setting('server_version_num')::int AS version,
       current_user AS current_user,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       has_table_privilege('pg_authid', 'SELECT') AS can_read_authid`;

const ROLE_COLUMNS = `r.oid, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
       r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
       CASE WHEN r.rolvaliduntil IS NULL OR NOT isfinite(r.rolvaliduntil) THEN NULL
            ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS valid_until,
       shobj_description(r.oid, 'pg_authid') AS comment`;

/** Roles with their stored password, for a role that may read pg_authid (a superuser). */
export const ROLES_WITH_PASSWORD_QUERY = `
SELECT ${ROLE_COLUMNS}, r.rolpassword AS password
FROM pg_authid r ORDER BY r.rolname`;

/** Roles without passwords, for a role that may not read pg_authid. */
export const ROLES_QUERY = `
SELECT ${ROLE_COLUMNS}, NULL::text AS password, true AS password_unreadable
FROM pg_roles r ORDER BY r.rolname`;

export const MEMBERSHIPS_QUERY = `
SELECT g.rolname AS role, m.rolname AS member, am.admin_option
FROM pg_auth_members am
JOIN pg_roles g ON g.oid = am.roleid
JOIN pg_roles m ON m.oid = am.member`;

/** On PostgreSQL 16+ a membership also has INHERIT and SET options. */
export const MEMBERSHIPS_WITH_OPTIONS_QUERY = `
SELECT g.rolname AS role, m.rolname AS member, am.admin_option, am.inherit_option, am.set_option
FROM pg_auth_members am
JOIN pg_roles g ON g.oid = am.roleid
JOIN pg_roles m ON m.oid = am.member`;

export const DATABASE_QUERY = `
SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner,
       pg_get_userbyid(a.grantor) AS grantor, ${GRANTEE_NAME} AS grantee,
       a.privilege_type, a.is_grantable
FROM pg_database d
LEFT JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a ON true
WHERE d.datname = current_database()`;

export const SCHEMAS_QUERY = `
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
       pg_get_userbyid(a.grantor) AS grantor, ${GRANTEE_NAME} AS grantee,
       a.privilege_type, a.is_grantable
FROM pg_namespace n
LEFT JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a ON true
WHERE ${USER_SCHEMA}`;

/** Tables, views, materialized views, foreign and partitioned tables, and sequences. */
export const RELATIONS_QUERY = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       pg_get_userbyid(a.grantor) AS grantor, ${GRANTEE_NAME} AS grantee,
       a.privilege_type, a.is_grantable
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL aclexplode(coalesce(c.relacl,
  acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a ON true
WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p', 'S') AND ${USER_SCHEMA}`;

/** Every column of user relations, with its column-level grants where it has any. */
export const COLUMNS_QUERY = `
SELECT n.nspname AS schema, c.relname AS table, at.attname AS column,
       pg_get_userbyid(a.grantor) AS grantor, ${GRANTEE_NAME} AS grantee,
       a.privilege_type, a.is_grantable
FROM pg_attribute at
JOIN pg_class c ON c.oid = at.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL aclexplode(at.attacl) a ON true
WHERE at.attnum > 0 AND NOT at.attisdropped AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
  AND ${USER_SCHEMA}
ORDER BY n.nspname, c.relname, at.attnum`;

/** Functions, procedures and aggregates; the signature uses the argument types only. */
export const ROUTINES_QUERY = `
SELECT n.nspname AS schema, p.proname || '(' || oidvectortypes(p.proargtypes) || ')' AS name,
       p.prokind, pg_get_userbyid(p.proowner) AS owner,
       pg_get_userbyid(a.grantor) AS grantor, ${GRANTEE_NAME} AS grantee,
       a.privilege_type, a.is_grantable
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a ON true
WHERE ${USER_SCHEMA}`;

export const DEFAULT_PRIVILEGES_QUERY = `
SELECT pg_get_userbyid(d.defaclrole) AS for_role,
       CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE n.nspname END AS schema,
       d.defaclobjtype AS object_type,
       pg_get_userbyid(a.grantor) AS grantor, ${GRANTEE_NAME} AS grantee,
       a.privilege_type, a.is_grantable
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) a`;
