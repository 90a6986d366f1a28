// A real terminal for the real binary: a tmux server on its own socket, one pane running the CLI,
// keys in, captured text out. Every test that spawns gguf-forge in a terminal goes through
// CLI_COMMAND (the compiled bin, from test/support/cli.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** How the tests start gguf-forge: node plus the compiled bin entry (test/support/cli.ts). */
export { CLI_COMMAND } from './cli.ts';
import { CLI_COMMAND } from './cli.ts';

const tmuxVersion = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
/** A skip reason when tmux is missing (CI installs it), else undefined. */
export const noTmux = tmuxVersion.status === 0 ? undefined : 'tmux is not installed (.ci/run installs it)';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface TmuxOptions {
  cwd: string;
  columns: number;
  rows: number;
  /** Arguments after the binary. */
  args?: string[];
  /** Options for node itself (e.g. --expose-gc). */
  nodeOptions?: string[];
  env?: NodeJS.ProcessEnv;
  /** A shell line run after the program exits (e.g. to record $?). */
  after?: string;
}

/** The pane's text fits the terminal: at most `rows` lines, none wider than `columns` code points. */
export function assertFitsPane(pane: string, columns: number, rows: number): void {
  const lines = pane.replace(/\n+$/, '').split('\n');
  assert.ok(lines.length <= rows, `${lines.length} lines:\n${pane}`);
  for (const l of lines) assert.ok([...l].length <= columns, `wider than ${columns}: ${l}`);
}

export class TmuxSession {
  readonly socket: string;
  constructor(readonly opts: TmuxOptions) {
    this.socket = `gguf-forge-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const [node, bin] = CLI_COMMAND;
    const program = [node!, ...(opts.nodeOptions ?? []), bin!, ...(opts.args ?? [])].map(quote).join(' ');
    // Without `after`, exec: the pane's pid is node's own (for /proc and signals).
    const line = opts.after ? `env -u CI ${program}; ${opts.after}` : `exec env -u CI ${program}`;
    this.tmux('new-session', '-d', '-s', 'forge', '-x', String(opts.columns), '-y', String(opts.rows), '-c', opts.cwd, line);
    this.tmux('set-option', '-t', 'forge', 'remain-on-exit', 'on');
  }

  tmux(...args: string[]): string {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.opts.env };
    delete env.CI;
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', env, cwd: this.opts.cwd });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** The visible screen; lines the terminal wrapped are joined back (-J). */
  pane(escapes = false): string {
    return this.tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', 'forge');
  }

  /** The pid of the program in the pane (node itself unless `after` was given). */
  pid(): number {
    return Number(this.tmux('display-message', '-p', '-t', 'forge', '#{pane_pid}').trim());
  }

  dead(): boolean {
    return this.tmux('display-message', '-p', '-t', 'forge', '#{pane_dead}').trim() === '1';
  }

  async waitFor(what: string | RegExp, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const text = this.pane();
      if (typeof what === 'string' ? text.includes(what) : what.test(text)) return text;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; pane:\n${text}`);
      await sleep(150);
    }
  }

  async waitForExit(timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.dead()) {
      if (Date.now() > end) throw new Error(`did not exit; pane:\n${this.pane()}`);
      await sleep(150);
    }
  }

  /** Sends tmux key names (Enter, Down, q, …), then gives the program a moment to redraw. */
  async keys(...k: string[]): Promise<void> {
    this.tmux('send-keys', '-t', 'forge', ...k);
    await sleep(250);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
