// Writes dist/engine/config/security-validator.js, the schema of security.yaml compiled by ajv
// into a standalone module, so that a command skips ajv's import and compile. Runs after tsc,
// because it uses the compiled schema-compile.js.
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist/engine/config');
const { generateValidatorModule, GENERATED_VALIDATOR_FILE } = await import(path.join(outDir, 'schema-compile.js'));

const schema = JSON.parse(await readFile(path.join(root, 'schemas/security.schema.json'), 'utf8'));
const target = path.join(outDir, GENERATED_VALIDATOR_FILE);
// Written beside the target and renamed, so that a command running meanwhile never reads half a file.
const temporary = `${target}.${process.pid}.tmp`;
await writeFile(temporary, await generateValidatorModule(schema));
await rename(temporary, target);
