// Runs the quickstart on the embedded PostgreSQL: creates two sample tables, shows the plan,
// applies it, then plans again to show that nothing is left to change.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = path.join(root, 'examples/quickstart/security.yaml');
const dataDir = path.join(root, 'examples/quickstart/.aishell/quickstart-db');
const bin = path.join(root, 'dist/engine/cli/bin.js');

// A demonstration value for the role's password; a real setup keeps it in the vault.
const env = { ...process.env, QUICKSTART_APP_PASSWORD: process.env.QUICKSTART_APP_PASSWORD ?? 'quickstart-demo-password-1' };

async function createSampleTables() {
  mkdirSync(dataDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(dataDir);
  await db.exec(`
    CREATE TABLE IF NOT EXISTS public.customers (id serial PRIMARY KEY, name text NOT NULL);
    CREATE TABLE IF NOT EXISTS public.orders (id serial PRIMARY KEY, customer_id int REFERENCES public.customers, total numeric);
  `);
  await db.close();
}

function aishell(...args) {
  console.log(`\n$ aishell ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', env });
  return result.status ?? 1;
}

await createSampleTables();
const relative = path.relative(process.cwd(), config);
if (aishell('plan', '-f', relative) !== 0) process.exit(1);
if (aishell('apply', '-f', relative, '--auto-approve') !== 0) process.exit(1);

const second = aishell('plan', '-f', relative, '--detailed-exitcode');
if (second !== 0) {
  console.error('\nThe second plan is not empty: apply did not converge.');
  process.exit(1);
}
console.log('\nQuickstart complete: the second plan is empty, so the database matches security.yaml.');
