/**
 * The one way tests run the CLI as a process: the compiled build that package.json's "bin" names
 * (dist/src/cli/bin.js, made by `npm run build`, which `npm test` runs first). No TypeScript
 * loader is involved, so a test passing here passes for users of the installed package.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnOptions, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The executable's path, read from package.json's "bin" (the same file `npm install -g` links). */
export const CLI_ENTRY: string = (() => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const entry = path.join(ROOT, pkg.bin['gguf-forge']!);
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` (npm test does it first)`);
  return entry;
})();

/** `node <entry>`: for tmux and shells that need one command line. */
export const CLI_COMMAND = [process.execPath, CLI_ENTRY];

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gguf-forge ...args` to completion. CI=true keeps it headless unless the caller's env says otherwise. */
export function runCli(args: string[], opts: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], { encoding: 'utf8', timeout: 120_000, ...opts, env: { ...process.env, CI: 'true', ...opts.env } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Starts `gguf-forge ...args` and returns the child (for tests that signal it or read it live). */
export function spawnCli(args: string[], opts: Omit<SpawnOptions, 'stdio'> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI_ENTRY, ...args], { ...opts, stdio: 'pipe', env: { ...process.env, CI: 'true', ...opts.env } }) as ChildProcessWithoutNullStreams;
}

/** Runs `gguf-forge ...args` without blocking this process's event loop (for tests that serve HTTP in-process). */
export function runCliAsync(args: string[], opts: Omit<SpawnOptions, 'stdio'> = {}): Promise<CliResult & { seconds: number }> {
  const t0 = performance.now();
  return collectOutput(spawnCli(args, opts)).then((r) => ({ ...r, seconds: (performance.now() - t0) / 1000 }));
}

/** A spawned child's exit status and whole stdout/stderr, once it closes. */
export function collectOutput(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
