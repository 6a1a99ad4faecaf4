/**
 * Runs commands with their wall time and peak memory. Peak memory is GNU time's %M: the largest
 * resident set size of the command or of any child process it waited for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const scratchDir = mkdtempSync(path.join(tmpdir(), 'aishell-bench-time-'));
process.on('exit', () => rmSync(scratchDir, { recursive: true, force: true }));
let sequence = 0;

/**
 * Runs `command args` once and returns its wall time in milliseconds, its peak memory in MiB,
 * its exit code and what it wrote to stderr. Standard output is discarded unless `keepStdout`.
 */
export function timed(command, args, { env, cwd, keepStdout = false } = {}) {
  const rssFile = path.join(scratchDir, `rss-${sequence++}`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...args], {
      env: env ?? process.env,
      cwd,
      stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      let rssMb = Number.NaN;
      try {
        rssMb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) / 1024;
      } catch {
        // GNU time writes nothing when it could not start the command, and the exit code shows it.
      }
      resolve({ ms, rssMb, code, stdout, stderr });
    });
  });
}

/** Runs a command that must exit with `expectedCode` (default 0), and throws with its stderr otherwise. */
export async function timedOk(label, command, args, options = {}) {
  const expected = options.expectedCode ?? 0;
  const result = await timed(command, args, options);
  if (result.code !== expected) {
    throw new Error(`${label}: ${command} exited with ${result.code}, expected ${expected}\n${result.stderr.slice(0, 4000)}`);
  }
  return result;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Samples by name, each a list of numbers from the repeated runs. */
export class Samples {
  constructor() {
    this.values = new Map();
  }

  add(name, value) {
    if (!this.values.has(name)) this.values.set(name, []);
    this.values.get(name).push(value);
  }

  median(name) {
    const list = this.values.get(name);
    if (!list || list.length === 0) throw new Error(`no samples of ${name}`);
    return median(list);
  }

  /** Returns the smallest and the largest sample. */
  range(name) {
    const list = this.values.get(name) ?? [];
    return [Math.min(...list), Math.max(...list)];
  }

  toJSON() {
    return Object.fromEntries(this.values);
  }
}
