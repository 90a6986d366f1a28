/**
 * `gguf-forge imatrix MODEL [--calib FILE] [--chunks N] [--ctx 512] [--process-output] -o FILE`:
 * an importance matrix as llama-imatrix computes it, written as its GGUF (or `.dat`) file.
 * `--in-file F` (repeatable) loads existing matrices: combined alone without MODEL, or continued
 * with MODEL. `--in-file F --show-statistics` prints llama-imatrix's per-tensor statistics.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import type { ImatrixSummary } from '../../pipeline/imatrix.ts';
import type { ImatrixStatistics } from '../../inspect/imatrix-stats.ts';
import { positiveInteger } from '../../options/values.ts';
import { formatBytes } from '../../format-units.ts';
import { addOutputModes, collect, forceOption, offlineOption, parser, threadsOption, tokenOption, type OutputModeFlags } from '../options.ts';
import { runCommand } from '../run-command.ts';
import { assertInputExists, prepareOutput } from '../preflight.ts';
import { parseSize } from './eval.ts';

interface ImatrixFlags extends OutputModeFlags {
  token?: string;
  offline?: boolean;
  output?: string;
  calib?: string;
  chunks?: number;
  ctx?: number;
  processOutput?: boolean;
  threads?: number;
  force?: boolean;
  maxMemory: number;
  inFile: string[];
  showStatistics?: boolean;
}

interface StatisticsResult extends ImatrixStatistics {
  kind: 'imatrix-statistics';
  file: string;
  format: 'gguf' | 'dat';
}

export function register(program: Command): void {
  const cmd = program
    .command('imatrix')
    .description('compute an importance matrix (per-column Σx² of every weight\'s inputs) over a calibration text, as llama-imatrix does; or combine imatrix files (--in-file), or show their statistics')
    .argument('[model]', 'GGUF file, HF model folder or hf:ORG/NAME[@REV] (pulled into the HF cache first); omit it to only combine --in-file matrices')
    .option('-o, --output <file>', 'imatrix file to write: llama.cpp\'s GGUF form, or the legacy form when it ends in .dat')
    .option('--in-file <file>', 'an existing imatrix (GGUF or .dat) to start from; repeatable: their sums and counts add up (llama-imatrix --in-file)', collect, [])
    .option('--show-statistics', 'print llama-imatrix\'s per-tensor statistics of the one --in-file (Σ(Act²), min, max, μ, σ, % active, entropy, ZD, CosSim) instead of computing')
    .option('--calib <file>', 'calibration text (plain text, or JSONL with a "text" field); default: State of the Union addresses, bundled')
    .addOption(new Option('--chunks <n>', 'process at most this many chunks (default: all of --calib; 128 of the bundled corpus)').argParser(parser(positiveInteger)))
    .addOption(new Option('--ctx <n>', 'tokens per chunk (default 512, or the model\'s shorter context); without MODEL, the chunk size of the combined file (default: the inputs\' own, else 512)').argParser(parser(positiveInteger)))
    .option('--process-output', 'also collect output.weight (llama-imatrix --process-output)')
    .addOption(tokenOption())
    .addOption(offlineOption())
    .addOption(threadsOption())
    .addOption(forceOption())
    .addOption(new Option('--max-memory <size>', 'memory budget deciding how many chunks go through the layers together (e.g. 512M, 2G)').default(1024 ** 3, '1G').argParser(parser((v) => parseSize('--max-memory', v))));
  addOutputModes(cmd).action(async (model: string | undefined, flags: ImatrixFlags) => {
    if (flags.showStatistics) {
      const shown = { text: '' };
      await runCommand(flags, () => statisticsJob(model, flags, shown), { formatResult: () => shown.text.replace(/\n$/, '') });
      return;
    }
    await runCommand(flags, async function* (signal) {
      if (!flags.output) throw new UsageError('NO_OUTPUT', 'missing -o FILE');
      if (!model && flags.inFile.length === 0) throw new UsageError('NOTHING_TO_DO', 'give a MODEL to compute an imatrix, or --in-file FILE (repeatable) to combine existing ones');
      if (!model && flags.calib !== undefined) throw new UsageError('CALIB_WITHOUT_MODEL', '--calib needs a MODEL to run the text through');
      if (model && !model.startsWith('hf:')) await assertInputExists(model, 'model');
      for (const f of flags.inFile) await assertInputExists(f, 'imatrix file');
      if (flags.calib !== undefined) await assertInputExists(flags.calib, 'calibration text');
      await prepareOutput(flags.output, { force: flags.force });
      const { imatrixJob } = await import('../../pipeline/imatrix.ts');
      return yield* imatrixJob({
        model, inFiles: flags.inFile, output: flags.output, force: flags.force, calibFile: flags.calib, chunks: flags.chunks, ctx: flags.ctx,
        processOutput: flags.processOutput, threads: flags.threads, maxMemory: flags.maxMemory, signal,
        hub: { token: flags.token, offline: flags.offline ? true : undefined },
      });
    }, { formatResult: formatImatrix });
  });
}

// No progress to report: the stream is the result alone.
// eslint-disable-next-line require-yield
async function* statisticsJob(model: string | undefined, flags: ImatrixFlags, shown: { text: string }): AsyncGenerator<never, StatisticsResult> {
  // llama-imatrix: "a single imatrix file is required to compute tensor statistics".
  if (model !== undefined || flags.inFile.length !== 1) throw new UsageError('STATISTICS_INPUT', '--show-statistics takes exactly one --in-file FILE and no MODEL');
  const file = flags.inFile[0]!;
  await assertInputExists(file, 'imatrix file');
  const [{ readImatrix }, { imatrixStatistics, renderImatrixStatistics }] = await Promise.all([import('../../../formats/imatrix/read-imatrix.ts'), import('../../inspect/imatrix-stats.ts')]);
  const m = await readImatrix(file);
  const stats = imatrixStatistics(m, flags.ctx);
  if (!flags.json && !flags.jsonl) shown.text = renderImatrixStatistics(file, stats);
  return { kind: 'imatrix-statistics', file, format: m.legacy ? 'dat' : 'gguf', ...stats };
}

function formatImatrix(result: unknown): string {
  const s = result as ImatrixSummary;
  const from = s.inFiles.length ? `${s.model ? 'continued from' : 'combined from'} ${s.inFiles.length} file(s); ` : '';
  return [
    `wrote ${s.output} (${s.format}, ${formatBytes(s.outputBytes)}): ${s.entries} entries, ${from}${s.chunks} chunks of ${s.chunkSize} tokens from ${s.datasets.join(', ')}`,
    s.model ? `${s.seconds.toFixed(1)} s, ${s.tokensPerSecond.toFixed(0)} tokens/s (${s.engine} kernels, ${s.seqPerPass} chunk(s) per pass)` : `${s.seconds.toFixed(2)} s`,
  ].join('\n');
}
