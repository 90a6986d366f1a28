/**
 * A batch spec expanded into concrete jobs (sources × types, in file order), output names filled
 * in from their pattern, and the `--shard i/n` slice. Expansion is deterministic, so every shard
 * of the same file sees the same numbered list and job k always belongs to shard (k mod n) + 1.
 */
import path from 'node:path';
import { UsageError } from '../../formats/errors.ts';
import { ForgeError } from '../../formats/errors.ts';
import { targetType } from '../options/target-type.ts';
import { parseHubSource } from '../hub/source.ts';
import { DEFAULT_FOLDER_PATTERN, DEFAULT_OUTPUT_PATTERN, type BatchSpec, type JobOptions } from './spec.ts';

export type JobKind = 'convert' | 'quantize' | 'awq' | 'gptq';

export interface BatchJob {
  /** 1-based position in the expanded list (stable across shards). */
  id: number;
  kind: JobKind;
  /** Local sources are absolute (resolved against the batch file's folder); `hf:` sources as given. */
  source: string;
  /** Canonical type name: `q5_K_M`, `f16`, `awq`. */
  type: string;
  /** Absolute output path. */
  output: string;
  name: string;
  options: JobOptions;
  /** Line of the job entry in the batch file. */
  line: number;
}

const PLACEHOLDER = /\{([^}]*)\}/g;
const PLACEHOLDERS = new Set(['name', 'type', 'index']);

export function expandJobs(spec: BatchSpec): BatchJob[] {
  const base = path.dirname(path.resolve(spec.file));
  const jobs: BatchJob[] = [];
  const byOutput = new Map<string, BatchJob>();
  for (const entry of spec.jobs) {
    const where = `${spec.file}:${entry.line}`;
    const hub = parseHubSourceAt(entry.source, where);
    const source = hub ? entry.source : path.resolve(base, entry.source);
    const isGguf = !hub && source.toLowerCase().endsWith('.gguf');
    const options = resolvePaths({ ...spec.defaults, ...stripEntry(entry) }, base);
    const name = options.name ?? (hub ? hub.repo.split('/').pop()! : path.basename(source).replace(/\.gguf$/i, ''));
    for (const typed of entry.types) {
      const { type, kind } = canonicalType(typed, isGguf, where);
      checkImatrixOptions(options, kind, where);
      const id = jobs.length + 1;
      const pattern = options.output ?? (kind === 'awq' || kind === 'gptq' ? DEFAULT_FOLDER_PATTERN : DEFAULT_OUTPUT_PATTERN);
      // {type} is written as the CLI names its default outputs: stories260K-Q8_0.gguf.
      const filled = pattern.replace(PLACEHOLDER, (_m, key: string) => {
        if (!PLACEHOLDERS.has(key)) throw new UsageError('BAD_BATCH', `${where}: unknown placeholder {${key}} in output pattern '${pattern}' (use {name}, {type}, {index})`);
        return key === 'name' ? name : key === 'type' ? type.toUpperCase() : String(id);
      });
      // AWQ/GPTQ write folders: a shared `{name}-{type}.gguf` pattern names the folder without `.gguf`.
      const output = path.resolve(base, kind === 'awq' || kind === 'gptq' ? filled.replace(/\.gguf$/i, '') : filled);
      const job: BatchJob = { id, kind, source, type, output, name, options, line: entry.line };
      const clash = byOutput.get(output);
      if (clash) {
        throw new UsageError('BAD_BATCH', `${where}: job ${id} (${entry.source} ${type}) writes ${output}, as job ${clash.id} (line ${clash.line}) does; add {type} or {name} to the output pattern`);
      }
      byOutput.set(output, job);
      jobs.push(job);
    }
  }
  return jobs;
}

function stripEntry(entry: BatchSpec['jobs'][number]): JobOptions {
  const { source: _s, types: _t, line: _l, ...opts } = entry;
  return opts;
}

/** The file options a user writes beside the sources are read against the same folder. */
function resolvePaths(o: JobOptions, base: string): JobOptions {
  const at = (p: string | undefined) => (p === undefined ? undefined : path.resolve(base, p));
  return {
    ...o,
    ...(o.calib !== undefined ? { calib: at(o.calib) } : {}),
    ...(o.evalText !== undefined ? { evalText: at(o.evalText) } : {}),
    ...(o.imatrix !== undefined && o.imatrix !== 'auto' ? { imatrix: at(o.imatrix) } : {}),
  };
}

/** `imatrix` applies to GGUF outputs; `auto` needs a model to run (a convert job), as on the CLI. */
function checkImatrixOptions(o: JobOptions, kind: JobKind, where: string): void {
  if (o.imatrix === undefined) {
    if (o.chunks !== undefined || o.ctx !== undefined) throw new UsageError('BAD_BATCH', `${where}: \`chunks\` and \`ctx\` go with \`imatrix: auto\``);
    return;
  }
  if (kind === 'awq' || kind === 'gptq') throw new UsageError('BAD_BATCH', `${where}: \`imatrix\` is for GGUF types, not ${kind} (AWQ/GPTQ calibrate with \`method\` and \`calib\`)`);
  if (o.imatrix === 'auto' && kind === 'quantize') throw new UsageError('BAD_BATCH', `${where}: \`imatrix: auto\` needs a Hugging Face model folder or hf: repo; for a GGUF source give an imatrix file (gguf-forge imatrix MODEL -o FILE computes one)`);
  if (o.imatrix !== 'auto' && (o.chunks !== undefined || o.ctx !== undefined)) throw new UsageError('BAD_BATCH', `${where}: \`chunks\` and \`ctx\` go with \`imatrix: auto\`, not an imatrix file`);
}

function parseHubSourceAt(source: string, where: string) {
  try {
    return parseHubSource(source);
  } catch (err) {
    throw new UsageError('BAD_BATCH', `${where}: ${(err as Error).message}`);
  }
}

function canonicalType(typed: string, isGguf: boolean, where: string): { type: string; kind: JobKind } {
  let type: string;
  try {
    type = targetType(typed); // the CLI's --type parser: any case, "did you mean" on a typo
  } catch (err) {
    if (err instanceof ForgeError) throw new UsageError('BAD_BATCH', `${where}: ${err.message}`);
    throw err;
  }
  if (type === 'awq' || type === 'gptq') {
    if (isGguf) throw new UsageError('BAD_BATCH', `${where}: type ${type} needs a Hugging Face model folder, not a GGUF file`);
    return { type, kind: type };
  }
  return { type, kind: isGguf ? 'quantize' : 'convert' };
}

/** `--shard i/n`: 1 ≤ i ≤ n. */
export function parseShard(spec: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError('BAD_SHARD', `--shard must be i/n with 1 ≤ i ≤ n, got '${spec}'`);
  return { index, count };
}

/** Shard i of n: jobs whose 0-based position k has k mod n = i − 1; shards 1..n cover every job exactly once. */
export function shardJobs<T>(jobs: readonly T[], shard: { index: number; count: number }): T[] {
  return jobs.filter((_, k) => k % shard.count === shard.index - 1);
}
