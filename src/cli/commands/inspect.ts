/**
 * `gguf-forge inspect FILE|URL|hf:ORG/NAME/FILE.gguf|AWQ-GPTQ-FOLDER [--json] [--block TENSOR[:INDEX]]`
 * Runs through the headless consumer like every command: `--json` prints `{ok, result, warnings}`
 * (result: the report, the decoded block or the folder report), `--jsonl` one done (or error) line.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import { addOutputModes, offlineOption, parser, tokenOption, type OutputModeFlags } from '../options.ts';
import { runHeadless } from '../headless.ts';
import { assertInputExists } from '../preflight.ts';

export interface InspectCommandOptions extends OutputModeFlags {
  block?: string;
  fullArrays?: boolean;
  layer?: string;
  group?: string | number;
  token?: string;
  offline?: boolean;
}

type InspectData = { kind: 'block' | 'quantized' | 'report' | 'imatrix'; data: unknown; text: () => Promise<string> };

const nonNegativeInteger = (v: string | number): number => {
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new UsageError('BAD_GROUP', `--group must be a non-negative integer, got '${v}'`);
  return n;
};

// The generator has no progress to report: its stream is the final result alone.
// eslint-disable-next-line require-yield
async function* inspectJob(file: string, opts: InspectCommandOptions): AsyncGenerator<never, InspectData> {
  const group = opts.group === undefined ? undefined : nonNegativeInteger(opts.group);
  if (!/^(hf:|https?:\/\/)/.test(file)) await assertInputExists(file, 'GGUF file or folder');
  const { inspectTarget } = await import('../../inspect/inspect-target.ts');
  const result = await inspectTarget(file, {
    block: opts.block, fullArrays: opts.fullArrays, layer: opts.layer, group,
    hub: { token: opts.token, offline: opts.offline ? true : undefined },
  });
  if ('block' in result) return { kind: 'block', data: result.block, text: async () => (await import('../../inspect/render-text.ts')).renderBlockText(result.block) };
  if ('quantized' in result) return { kind: 'quantized', data: result.quantized, text: async () => (await import('../../pipeline/awq-gptq/inspect-text.ts')).renderQuantizedFolderReport(result.quantized) + '\n' };
  if ('imatrix' in result) return { kind: 'imatrix', data: result.imatrix, text: async () => (await import('../../inspect/imatrix-report.ts')).renderImatrixText(result.imatrix) };
  return { kind: 'report', data: result.report, text: async () => (await import('../../inspect/render-text.ts')).renderInspectText(result.report) };
}

/** The command's whole behaviour; `write` receives stdout text (injectable for tests). */
export async function runInspectCommand(file: string, opts: InspectCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  let text = '';
  const data = await runHeadless(
    (async function* () {
      const r = yield* inspectJob(file, opts);
      if (!opts.json && !opts.jsonl) text = await r.text();
      return r.data;
    })(),
    { json: opts.json, jsonl: opts.jsonl, stdout: { write }, formatResult: () => text.replace(/\n$/, '') },
  );
  void data;
}

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('show a GGUF file (local, http(s) URL or hf:ORG/NAME/file.gguf, read by ranges) or an AWQ/GPTQ checkpoint folder')
    .argument('<target>', 'GGUF path, http(s):// URL, hf:ORG/NAME[@REV]/path/file.gguf, or AWQ/GPTQ folder')
    .option('--block <tensor[:index]>', 'decode one quant block of a tensor into its fields')
    .option('--full-arrays', 'include every element of metadata arrays in --json output (default: first 8)')
    .option('--layer <name>', 'AWQ/GPTQ folder: the packed layer whose group to decode (default: the first)')
    .addOption(new Option('--group <n>', 'AWQ/GPTQ folder: the group index to decode (default 0)').argParser(parser(nonNegativeInteger)))
    .addOption(tokenOption())
    .addOption(offlineOption());
  addOutputModes(cmd).action((file: string, opts: InspectCommandOptions) => runInspectCommand(file, opts));
}
