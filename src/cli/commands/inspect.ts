/**
 * `gguf-forge inspect FILE|URL|hf:ORG/NAME/FILE.gguf|AWQ-GPTQ-FOLDER [--json] [--block TENSOR[:INDEX]]`
 */
import type { Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import { inspectTarget } from '../../inspect/inspect-target.ts';
import { renderBlockText, renderInspectText } from '../../inspect/render-text.ts';
import { renderQuantizedFolderReport } from '../../pipeline/awq-gptq/inspect-text.ts';

export interface InspectCommandOptions {
  json?: boolean;
  jsonl?: boolean;
  block?: string;
  fullArrays?: boolean;
  layer?: string;
  group?: string;
  token?: string;
  offline?: boolean;
}

/** The command's whole behaviour; `write` receives stdout text (injectable for tests). */
export async function runInspectCommand(file: string, opts: InspectCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const group = opts.group === undefined ? undefined : Number(opts.group);
  if (group !== undefined && !(Number.isInteger(group) && group >= 0)) throw new UsageError('BAD_GROUP', `--group must be a non-negative integer, got '${opts.group}'`);
  const result = await inspectTarget(file, {
    block: opts.block, fullArrays: opts.fullArrays, layer: opts.layer, group,
    hub: { token: opts.token, offline: opts.offline ? true : undefined },
  });
  const data = 'block' in result ? result.block : 'quantized' in result ? result.quantized : result.report;
  if (opts.json && opts.jsonl) throw new UsageError('BAD_FLAGS', '--json and --jsonl are mutually exclusive');
  if (opts.json) write(JSON.stringify(data, null, 2) + '\n');
  // inspect has no progress to stream: its event stream is the one final event.
  else if (opts.jsonl) write(JSON.stringify({ type: 'done', summary: data }) + '\n');
  else if ('block' in result) write(renderBlockText(result.block));
  else if ('quantized' in result) write(renderQuantizedFolderReport(result.quantized) + '\n');
  else write(renderInspectText(result.report));
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show a GGUF file (local, http(s) URL or hf:ORG/NAME/file.gguf, read by ranges) or an AWQ/GPTQ checkpoint folder')
    .argument('<target>', 'GGUF path, http(s):// URL, hf:ORG/NAME[@REV]/path/file.gguf, or AWQ/GPTQ folder')
    .option('--json', 'print one JSON document instead of text (u64/i64 values beyond 2^53 are strings)')
    .option('--jsonl', 'print the result as one JSON event line ({"type":"done","summary":…}), like the other commands\' event streams')
    .option('--block <tensor[:index]>', 'decode one quant block of a tensor into its fields')
    .option('--full-arrays', 'include every element of metadata arrays in --json output (default: first 8)')
    .option('--layer <name>', 'AWQ/GPTQ folder: the packed layer whose group to decode (default: the first)')
    .option('--group <n>', 'AWQ/GPTQ folder: the group index to decode (default 0)')
    .option('--token <token>', 'Hugging Face token for hf: targets (default $HF_TOKEN); never printed')
    .option('--offline', 'hf: targets from the HF cache only')
    .action((file: string, opts: InspectCommandOptions) => runInspectCommand(file, opts));
}
