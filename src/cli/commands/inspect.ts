/** `gguf-forge inspect FILE|URL [--json] [--block TENSOR[:INDEX]] [--full-arrays]` */
import type { Command } from 'commander';
import { inspectTarget } from '../../inspect/inspect-target.ts';
import { renderBlockText, renderInspectText } from '../../inspect/render-text.ts';

export interface InspectCommandOptions {
  json?: boolean;
  block?: string;
  fullArrays?: boolean;
}

/** The command's whole behaviour; `write` receives stdout text (injectable for tests). */
export async function runInspectCommand(file: string, opts: InspectCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const result = await inspectTarget(file, { block: opts.block, fullArrays: opts.fullArrays });
  const data = 'block' in result ? result.block : result.report;
  if (opts.json) write(JSON.stringify(data, null, 2) + '\n');
  else write('block' in result ? renderBlockText(result.block) : renderInspectText(result.report));
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('Show a GGUF file (local path or http(s) URL): metadata, tensors, types, parameter count, file type')
    .argument('<file>', 'GGUF file path or http(s):// URL (read with range requests)')
    .option('--json', 'print one JSON document instead of text (u64/i64 values beyond 2^53 are strings)')
    .option('--block <tensor[:index]>', 'decode one quant block of a tensor into its fields')
    .option('--full-arrays', 'include every element of metadata arrays in --json output (default: first 8)')
    .action((file: string, opts: InspectCommandOptions) => runInspectCommand(file, opts));
}
