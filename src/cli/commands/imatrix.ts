/**
 * `gguf-forge imatrix MODEL [--calib FILE] [--chunks N] [--ctx 512] [--process-output] -o FILE`:
 * an importance matrix as llama-imatrix computes it, written as its GGUF (or `.dat`) file.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import type { ImatrixSummary } from '../../pipeline/imatrix.ts';
import { positiveInteger } from '../../options/values.ts';
import { formatBytes } from '../../format-units.ts';
import { addOutputModes, forceOption, parser, threadsOption, type OutputModeFlags } from '../options.ts';
import { runCommand } from '../run-command.ts';
import { assertInputExists, prepareOutput } from '../preflight.ts';
import { parseSize } from './eval.ts';

interface ImatrixFlags extends OutputModeFlags {
  output?: string;
  calib?: string;
  chunks?: number;
  ctx?: number;
  processOutput?: boolean;
  threads?: number;
  force?: boolean;
  maxMemory: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('imatrix')
    .description('compute an importance matrix (per-column Σx² of every weight\'s inputs) over a calibration text, as llama-imatrix does')
    .argument('<model>', 'GGUF file or HF model folder')
    .requiredOption('-o, --output <file>', 'imatrix file to write: llama.cpp\'s GGUF form, or the legacy form when it ends in .dat')
    .option('--calib <file>', 'calibration text (plain text, or JSONL with a "text" field); default: State of the Union addresses, bundled')
    .addOption(new Option('--chunks <n>', 'process at most this many chunks (default: all of --calib; 128 of the bundled corpus)').argParser(parser(positiveInteger)))
    .addOption(new Option('--ctx <n>', 'tokens per chunk (default 512, or the model\'s shorter context)').argParser(parser(positiveInteger)))
    .option('--process-output', 'also collect output.weight (llama-imatrix --process-output)')
    .addOption(threadsOption())
    .addOption(forceOption())
    .addOption(new Option('--max-memory <size>', 'memory budget deciding how many chunks go through the layers together (e.g. 512M, 2G)').default(1024 ** 3, '1G').argParser(parser((v) => parseSize('--max-memory', v))));
  addOutputModes(cmd).action(async (model: string, flags: ImatrixFlags) => {
    await runCommand(flags, async function* (signal) {
      if (!flags.output) throw new UsageError('NO_OUTPUT', 'missing -o FILE');
      await assertInputExists(model, 'model');
      if (flags.calib !== undefined) await assertInputExists(flags.calib, 'calibration text');
      await prepareOutput(flags.output, { force: flags.force });
      const { imatrixJob } = await import('../../pipeline/imatrix.ts');
      return yield* imatrixJob({
        model, output: flags.output, force: flags.force, calibFile: flags.calib, chunks: flags.chunks, ctx: flags.ctx,
        processOutput: flags.processOutput, threads: flags.threads, maxMemory: flags.maxMemory, signal,
      });
    }, { formatResult: formatImatrix });
  });
}

function formatImatrix(result: unknown): string {
  const s = result as ImatrixSummary;
  return [
    `wrote ${s.output} (${s.format}, ${formatBytes(s.outputBytes)}): ${s.entries} entries, ${s.chunks} chunks of ${s.chunkSize} tokens from ${s.datasets.join(', ')}`,
    `${s.seconds.toFixed(1)} s, ${s.tokensPerSecond.toFixed(0)} tokens/s (${s.engine} kernels, ${s.seqPerPass} chunk(s) per pass)`,
  ].join('\n');
}
