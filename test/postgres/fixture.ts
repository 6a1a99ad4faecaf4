import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Scratch } from '../support/backends.js';

/** JSON strings are valid YAML scalars, so any role name survives the trip through the file. */
const q = (text: string) => JSON.stringify(text);

/** Objects of every kind that a grant can name. */
export const SCHEMA_SQL = [
  'CREATE SCHEMA app',
  'CREATE TABLE app.orders (id serial PRIMARY KEY, total numeric, note text)',
  'CREATE VIEW app.order_totals AS SELECT id, total FROM app.orders',
  'CREATE MATERIALIZED VIEW app.order_summary AS SELECT count(*) AS n FROM app.orders',
  'CREATE SEQUENCE app.invoice_seq',
  "CREATE FUNCTION app.calculate_total(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1'",
  "CREATE PROCEDURE app.archive(days integer) LANGUAGE sql AS 'SELECT 1'",
];

export interface Fixture {
  file: string;
  roles: Record<'readonly' | 'developer' | 'appUser' | 'appOwner' | 'sales' | 'quoted' | 'keyword', string>;
}

/** Writes a security.yaml that uses every role attribute and every object kind. */
export async function writeFullConfig(scratch: Scratch, extra = ''): Promise<Fixture> {
  const roles = {
    readonly: scratch.role('readonly'),
    developer: scratch.role('developer'),
    appUser: scratch.role('app_user'),
    appOwner: scratch.role('app_owner'),
    sales: scratch.role('Sales Team'),
    quoted: scratch.role(`O'Brien "Q"`),
    keyword: scratch.role('select'),
  };
  const yaml = `version: 1
targets:
  main:
    engine: postgres
    url: ${q(scratch.url)}
roles:
  ${q(roles.readonly)}: {}
  ${q(roles.developer)}:
    member_of: [${q(roles.readonly)}]
  ${q(roles.appUser)}:
    login: true
    password: \${env:APP_PW}
    connection_limit: 10
    valid_until: "2030-06-30"
    createdb: true
    inherit: false
    comment: service account of the web application
    member_of:
      - { role: ${q(roles.developer)}, admin: true }
  ${q(roles.appOwner)}:
    createrole: true
    bypassrls: true
    replication: true
  ${q(roles.sales)}: {}
  ${q(roles.quoted)}: {}
  ${q(roles.keyword)}: {}
grants:
  - to: ${q(roles.readonly)}
    privileges: [CONNECT]
    on: { database: ${q(scratch.database)} }
  - to: ${q(roles.readonly)}
    privileges: [USAGE]
    on: { schema: app }
  - to: ${q(roles.appOwner)}
    privileges: [USAGE, CREATE]
    on: { schema: app }
  - to: ${q(roles.readonly)}
    privileges: [SELECT]
    on: { tables: app.* }
  - to: ${q(roles.appUser)}
    privileges: [ALL]
    on: { table: app.orders }
  - to: ${q(roles.sales)}
    privileges: [SELECT, UPDATE]
    on: { table: app.orders, columns: [id, note] }
  - to: ${q(roles.appUser)}
    privileges: [USAGE, SELECT]
    on: { sequence: app.invoice_seq }
  - to: ${q(roles.appUser)}
    privileges: [EXECUTE]
    on: { function: "app.calculate_total(int)" }
  - to: ${q(roles.appUser)}
    privileges: [EXECUTE]
    on: { function: "app.archive(integer)" }
  - to: [${q(roles.keyword)}, ${q(roles.quoted)}]
    privileges: [SELECT]
    on: { table: app.order_totals }
    with_grant_option: true
default_privileges:
  - for_role: ${q(roles.appOwner)}
    in_schema: app
    on: tables
    to: ${q(roles.readonly)}
    privileges: [SELECT]
  - for_role: ${q(roles.appOwner)}
    on: sequences
    to: ${q(roles.appUser)}
    privileges: [USAGE]
${extra}`;
  const file = path.join(scratch.dir, 'security.yaml');
  await writeFile(file, yaml);
  return { file, roles };
}
