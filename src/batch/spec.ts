/**
 * The batch file (`gguf-forge batch JOBS.yaml`): YAML or JSON (JSON is read by the same YAML
 * parser), validated into plain data. Every error names the file and the line, because a batch
 * file is written by hand and a message without a line number sends the user hunting.
 *
 *   defaults:                 # optional; every key a job may have except `source`
 *     output: "out/{name}-{type}.gguf"
 *   jobs:
 *     - source: samples/stories260K     # folder, hf:ORG/NAME[@REV], or a .gguf file (requantize)
 *       types: [q8_0, q4_0]             # or `type: q8_0`
 *       pure: true
 *       imatrix: auto                   # or a file; `auto` is computed once per source
 *
 * Relative paths (sources, `imatrix`, `calib`, `evalText`, outputs) are read against the batch file's folder.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ForgeError, UsageError, fromFsError } from '../../formats/errors.ts';
import { integer, positiveInteger, positiveNumber, viaType } from '../options/values.ts';

/** Per-job options; all optional, `defaults` fills in what a job leaves out. */
export interface JobOptions {
  /** Output naming pattern: `{name}`, `{type}` and `{index}` are replaced. */
  output?: string;
  /** `general.name` and the `{name}` placeholder; default the folder, repo or file name. */
  name?: string;
  /** Only `f16`: round through fp16 first, like `convert --via f16`. */
  via?: 'f16';
  pure?: boolean;
  /** `PATTERN=TYPE` per-tensor overrides (`--tensor-type`). */
  tensorType?: string[];
  validate?: boolean;
  failOnAnomaly?: boolean;
  /** AWQ/GPTQ only: bits, group size (-1 per channel), symmetric zero points, act-order, fp16 for unaligned layers. */
  bits?: number;
  groupSize?: number;
  sym?: boolean;
  descAct?: boolean;
  keepUnaligned?: boolean;
  /** AWQ/GPTQ calibration, the keys of convert's flags (--method, --calib, --calib-samples, …). */
  method?: 'rtn' | 'gptq' | 'awq';
  calib?: string;
  calibSamples?: number;
  calibSeqlen?: number;
  seed?: number;
  dampPercent?: number;
  staticGroups?: boolean;
  trueSequential?: boolean;
  /**
   * GGUF types: an importance matrix file (GGUF or .dat, relative to the batch file), or `auto`
   * (convert jobs: computed from `calib` or the bundled corpus, once per source for the whole batch).
   */
  imatrix?: string;
  /** With `imatrix: auto`: chunks of calibration text and tokens per chunk (`--chunks`, `--ctx`). */
  chunks?: number;
  ctx?: number;
  /** Evaluate the output against the source after the job (`convert --eval`), on `evalText` or the bundled text. */
  eval?: boolean;
  evalText?: string;
  /** AWQ/GPTQ calibration anomaly thresholds (`--loss-early-threshold`, `--loss-outlier-factor`). */
  lossEarlyThreshold?: number;
  lossOutlierFactor?: number;
}

export interface JobEntry extends JobOptions {
  source: string;
  types: string[];
  /** 1-based line of the entry in the batch file, for messages. */
  line: number;
}

export interface BatchSpec {
  file: string;
  defaults: JobOptions;
  jobs: JobEntry[];
}

export const DEFAULT_OUTPUT_PATTERN = '{name}-{type}.gguf';
/** AWQ/GPTQ outputs are folders. */
export const DEFAULT_FOLDER_PATTERN = '{name}-{type}';

const OPTION_KEYS = ['output', 'name', 'via', 'pure', 'tensorType', 'validate', 'failOnAnomaly', 'bits', 'groupSize', 'sym', 'descAct', 'keepUnaligned', 'eval', 'evalText', 'lossEarlyThreshold', 'lossOutlierFactor', 'method', 'calib', 'calibSamples', 'calibSeqlen', 'seed', 'dampPercent', 'staticGroups', 'trueSequential', 'imatrix', 'chunks', 'ctx'] as const;
const JOB_KEYS = new Set<string>(['source', 'type', 'types', ...OPTION_KEYS]);

export async function readBatchFile(file: string): Promise<BatchSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fromFsError(err, file, 'read batch file');
  }
  return parseBatchSpec(text, file);
}

export function parseBatchSpec(text: string, file: string): BatchSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const fail = (node: Node | null | undefined, msg: string): never => {
    throw new UsageError('BAD_BATCH', `${file}:${lineOf(node)}: ${msg}`, { file, line: lineOf(node) });
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0].line ?? 1;
    throw new UsageError('BAD_BATCH', `${file}:${line}: not valid YAML or JSON: ${e.message.split('\n')[0]}`, { file, line });
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'the batch file must be a mapping with a `jobs:` list');
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'jobs' && key !== 'defaults') fail(pair.key as Node, `unknown top-level key '${key}' (expected jobs, defaults)`);
  }
  const defaultsNode = root.get('defaults', true) as Node | undefined;
  let defaults: JobOptions = {};
  if (defaultsNode !== undefined) {
    if (!isMap(defaultsNode)) fail(defaultsNode, '`defaults` must be a mapping of job options');
    defaults = readOptions(defaultsNode as Node, fail, new Set(OPTION_KEYS));
  }
  const jobsNode = root.get('jobs', true) as Node | undefined;
  if (!isSeq(jobsNode)) return fail(jobsNode ?? root, '`jobs` must be a list of jobs');
  if (jobsNode.items.length === 0) fail(jobsNode, '`jobs` is empty');
  const jobs = jobsNode.items.map((item) => {
    const node = item as Node;
    if (!isMap(node)) return fail(node, 'each job must be a mapping with `source` and `types`');
    const opts = readOptions(node, fail, JOB_KEYS);
    const source = node.get('source', true) as Node | undefined;
    if (!isScalar(source) || typeof source.value !== 'string' || !source.value) return fail(source ?? node, 'a job needs `source:` (a folder, hf:ORG/NAME or a .gguf file)');
    const one = node.get('type', true) as Node | undefined;
    const many = node.get('types', true) as Node | undefined;
    if (one && many) fail(one, 'give either `type` or `types`, not both');
    let types: string[];
    if (one) types = [stringValue(one, 'type', fail)];
    else if (many) types = stringList(many, 'types', fail);
    else return fail(node, `job '${source.value}' needs \`types:\` (a list like [q8_0, q4_0]) or \`type:\``);
    if (types.length === 0) fail(many, '`types` is empty');
    return { source: source.value, types, ...opts, line: lineOf(node) };
  });
  return { file, defaults, jobs };
}

type Fail = (node: Node | null | undefined, msg: string) => never;

function readOptions(map: Node, fail: Fail, allowed: Set<string>): JobOptions {
  if (!isMap(map)) return fail(map, 'expected a mapping');
  const out: JobOptions = {};
  for (const pair of map.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const v = pair.value as Node;
    if (!allowed.has(key)) fail(keyNode, `unknown key '${key}' (allowed: ${[...allowed].join(', ')})`);
    switch (key) {
      case 'output':
      case 'name':
      case 'evalText':
      case 'calib':
      case 'imatrix':
        out[key] = stringValue(v, key, fail);
        break;
      case 'method': {
        const m = stringValue(v, key, fail);
        if (m !== 'rtn' && m !== 'gptq' && m !== 'awq') fail(v, '`method` must be rtn, gptq or awq');
        out.method = m as 'rtn' | 'gptq' | 'awq';
        break;
      }
      case 'calibSamples':
      case 'calibSeqlen':
      case 'seed':
      case 'chunks':
      case 'ctx':
        out[key] = parsed(v, key, fail, () => positiveInteger(isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'string') ? v.value : String(v)));
        break;
      case 'dampPercent':
        if (!isScalar(v) || typeof v.value !== 'number' || !(v.value > 0 && v.value < 1)) fail(v, '`dampPercent` must be a number in (0, 1)');
        out.dampPercent = (v as { value: number }).value;
        break;
      // The same value parsers as the CLI's --via, --bits and --group-size.
      case 'via':
        out.via = parsed(v, key, fail, () => viaType(stringValue(v, key, fail)));
        break;
      case 'bits':
      case 'groupSize':
        out[key] = parsed(v, key, fail, () => (isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'string') ? integer(v.value) : integer(String(v))));
        break;
      // The same parser as --loss-early-threshold / --loss-outlier-factor.
      case 'lossEarlyThreshold':
      case 'lossOutlierFactor':
        out[key] = parsed(v, key, fail, () => (isScalar(v) && (typeof v.value === 'number' || typeof v.value === 'string') ? positiveNumber(v.value) : positiveNumber(String(v))));
        break;
      case 'pure':
      case 'validate':
      case 'failOnAnomaly':
      case 'sym':
      case 'descAct':
      case 'keepUnaligned':
      case 'staticGroups':
      case 'trueSequential':
      case 'eval':
        if (!isScalar(v) || typeof v.value !== 'boolean') fail(v, `\`${key}\` must be true or false`);
        out[key] = (v as { value: boolean }).value;
        break;
      case 'tensorType':
        out.tensorType = stringList(v, key, fail);
        break;
    }
  }
  return out;
}

/** Runs a shared value parser, turning its UsageError into this file's `file:line: key: …` message. */
function parsed<T>(node: Node, key: string, fail: Fail, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ForgeError) return fail(node, `\`${key}\`: ${err.message}`);
    throw err;
  }
}

function stringValue(node: Node | null | undefined, key: string, fail: Fail): string {
  if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') return fail(node, `\`${key}\` must be a non-empty string`);
  return node.value;
}

function stringList(node: Node | null | undefined, key: string, fail: Fail): string[] {
  if (isScalar(node)) return [stringValue(node, key, fail)];
  if (!isSeq(node)) return fail(node, `\`${key}\` must be a list of strings`);
  return node.items.map((i) => stringValue(i as Node, key, fail));
}
