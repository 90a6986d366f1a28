/**
 * `gguf-forge convert SRC --type T -o OUT`: HF folder or `hf:` repo → GGUF (llama.cpp file types),
 * or → an AWQ/GPTQ checkpoint folder (`--type awq|gptq`). Validation is on by default.
 * The pipeline modules are imported when the command runs, not when the CLI starts.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import type { JobSummary, PipelineEvent } from '../../pipeline/events.ts';
import type { ValidationReport } from '../../validate/report.ts';
import { PLANNABLE_FILE_TYPES } from '../../policy/type-policy.ts';
import { formatBytes } from '../../format-units.ts';
import { integer, viaType } from '../../options/values.ts';
import { formatCalibrationReport, formatReport } from '../report-text.ts';
import type { CalibrationReport } from '../../pipeline/calib-report.ts';
import { evalFiguresLine, type EvalFigures } from '../../pipeline/eval-figures.ts';
import { addCalibrationOptions, addOutputModes, calibrationOptions, collect, forceOption, lossThresholdOptions, lossThresholdsOf, offlineOption, parser, threadsOption, tokenOption, type CalibrationFlags, type LossThresholdFlags, type OutputModeFlags } from '../options.ts';
import { runCommand } from '../run-command.ts';
import { typeOption } from '../type-option.ts';
import { assertInputExists, assertNotGguf, prepareOutput } from '../preflight.ts';
import { formatPlan, imatrixLine } from './quantize.ts';

interface ConvertFlags extends OutputModeFlags, LossThresholdFlags, CalibrationFlags {
  type?: string;
  output?: string;
  via?: 'f16';
  pure?: boolean;
  tensorType: string[];
  threads?: number;
  force?: boolean;
  dryRun?: boolean;
  validate: boolean;
  report?: string;
  failOnAnomaly?: boolean;
  pre?: string;
  name?: string;
  bits?: number;
  groupSize?: number;
  sym?: boolean;
  asym?: boolean;
  descAct?: boolean;
  keepUnaligned?: boolean;
  token?: string;
  offline?: boolean;
  eval?: boolean | string;
  imatrix?: string;
  calib?: string;
  chunks?: number;
  ctx?: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a Hugging Face model (folder or hf:ORG/NAME[@REV]) to GGUF, AWQ or GPTQ, with a round-trip validation report')
    .argument('<source>', 'model folder, hf:ORG/NAME[@REVISION], or an AWQ/GPTQ checkpoint folder')
    .addOption(typeOption(true, `output type: ${PLANNABLE_FILE_TYPES.join(', ')}, awq, gptq (required)`))
    .option('-o, --output <path>', 'output file (GGUF) or folder (AWQ/GPTQ); default <name>-<TYPE>.gguf')
    .addOption(new Option('--via <type>', "'f16': round weights through fp16 first, like convert --outtype f16 + llama-quantize").argParser(parser(viaType)))
    .option('--pure', 'no per-tensor mixture rules (shape fallbacks still apply)')
    .option('--tensor-type <pattern=type>', 'override the type of tensors matching a regex; repeatable', collect, [])
    .addOption(threadsOption())
    .addOption(forceOption())
    .option('--dry-run', 'print the plan (types, fallbacks, size) and write nothing')
    .option('--no-validate', 'skip round-trip metrics and the anomaly checks')
    .option('--report <file>', 'write the validation report as JSON')
    .option('--fail-on-anomaly', 'exit with code 3 when the report lists anomalies')
    .option('--pre <name>', 'tokenizer.ggml.pre to write when the pre-tokenizer is not recognised')
    .option('--name <name>', 'general.name (default: the folder or repo name)')
    .addOption(new Option('--bits <n>', 'AWQ/GPTQ bits (AWQ: 4; GPTQ: 2, 3, 4, 8)').argParser(parser(integer)))
    .addOption(new Option('--group-size <n>', 'AWQ/GPTQ group size (32, 64, 128, -1 per channel)').argParser(parser(integer)))
    .addOption(new Option('--sym', 'symmetric zero points (GPTQ default)').conflicts('asym'))
    .addOption(new Option('--asym', 'asymmetric zero points (AWQ default)').conflicts('sym'))
    .option('--desc-act', 'GPTQ act-order (scattered g_idx)')
    .option('--keep-unaligned', 'AWQ/GPTQ: keep layers whose shape cannot be packed in fp16 (listed in the config) instead of failing')
    .addOption(tokenOption())
    .addOption(offlineOption())
    .option('--imatrix <file|auto>', "importance matrix for the quantizers and the type policy: an imatrix file (GGUF or .dat), or 'auto' to compute it from the calibration text in this run (an hf: model is first downloaded whole into the Hub cache)")
    .addOption(new Option('--chunks <n>', 'with --imatrix auto: chunks of calibration text (default: all of --calib; 128 of the bundled corpus)').argParser(parser(integer)))
    .addOption(new Option('--ctx <n>', 'with --imatrix auto: tokens per chunk (default 512)').argParser(parser(integer)))
    .option('--eval [file]', 'after converting, evaluate the output against the source (perplexity, KL divergence) on FILE or the bundled text');
  for (const o of lossThresholdOptions()) cmd.addOption(o);
  addOutputModes(addCalibrationOptions(cmd)).action(async (source: string, flags: ConvertFlags) => {
    await runCommand(flags, (signal) => (flags.eval ? convertThenEval(source, flags, signal) : convertJob(source, flags, signal)), { formatResult: formatConvertSummary });
  });
}

async function* convertJob(source: string, flags: ConvertFlags, signal: AbortSignal): AsyncGenerator<PipelineEvent, JobSummary> {
  if (!flags.type) throw new UsageError('NO_TYPE', `missing --type: one of ${PLANNABLE_FILE_TYPES.join(', ')}, awq, gptq`);
  const hf = source.startsWith('hf:');
  if (!hf) {
    await assertInputExists(source, 'model folder');
    await assertNotGguf(source, flags.type);
  }
  const hub = { token: flags.token, offline: flags.offline ? true : undefined };
  const method = flags.type;
  if (method === 'awq' || method === 'gptq') {
    if (!flags.output) throw new UsageError('NO_OUTPUT', `--type ${method} writes a folder: give it with -o OUT_DIR`);
    const output = flags.output;
    await prepareOutput(output, { force: flags.force });
    const { convertAwqGptq } = await import('../../pipeline/awq-gptq.ts');
    return yield* convertAwqGptq({
      source, output, method, bits: flags.bits, groupSize: flags.groupSize,
      sym: flags.sym ? true : flags.asym ? false : undefined, descAct: flags.descAct, keepUnaligned: flags.keepUnaligned,
      force: flags.force, validate: flags.validate, reportPath: flags.report, failOnAnomaly: flags.failOnAnomaly, hub, signal,
      lossThresholds: lossThresholdsOf(flags),
      ...calibrationOptions(flags, flags.threads),
    });
  }
  if (flags.imatrix !== undefined && flags.imatrix !== 'auto') await assertInputExists(flags.imatrix, 'imatrix file');
  if (flags.calib !== undefined) await assertInputExists(flags.calib, 'calibration text');
  if (flags.output) await prepareOutput(flags.output, { force: flags.force, dryRun: flags.dryRun });
  const { convertModel } = await import('../../pipeline/convert.ts');
  return yield* convertModel({
    source, output: flags.output, fileType: method, viaF16: flags.via !== undefined, pure: flags.pure, overrides: flags.tensorType,
    threads: flags.threads, force: flags.force, dryRun: flags.dryRun, validate: flags.validate, pre: flags.pre, name: flags.name,
    reportPath: flags.report, failOnAnomaly: flags.failOnAnomaly, signal, hub,
    imatrix: flags.imatrix, calib: { file: flags.calib, chunks: flags.chunks, ctx: flags.ctx },
  });
}

async function* convertThenEval(source: string, flags: ConvertFlags, signal: AbortSignal): AsyncGenerator<PipelineEvent, JobSummary> {
  if (source.startsWith('hf:') && (flags.type === 'awq' || flags.type === 'gptq')) throw new UsageError('BAD_FLAGS', '--eval with --type awq/gptq needs a local source folder (the reference)');
  const { withEval } = await import('../../pipeline/eval-after.ts');
  // The reference is the folder convert read: the resolved snapshot for hf: sources.
  const refOf = (s: JobSummary) => ('dir' in s ? s.dir : source);
  // --report is written after eval, with the figures (the job itself writes none).
  return yield* withEval(convertJob(source, { ...flags, report: undefined }, signal), refOf, {
    textFile: typeof flags.eval === 'string' ? flags.eval : undefined, threads: flags.threads, signal, reportPath: flags.report,
  });
}

function formatConvertSummary(result: unknown): string {
  const s = result as { dryRun?: boolean; output: string; outputBytes: number; seconds: number; tensors: number; fileType?: string; fallbacks?: number; report?: ValidationReport; parameters?: number; plan: unknown[]; eval?: EvalFigures; calibration?: CalibrationReport };
  if (s.dryRun) return formatPlan(s as Parameters<typeof formatPlan>[0]);
  const parts = [s.fileType, `${s.tensors} tensors`, s.parameters !== undefined && `${s.parameters.toLocaleString('en-US')} parameters`, formatBytes(s.outputBytes)].filter(Boolean);
  const fallbacks = s.fallbacks !== undefined ? `; ${s.fallbacks} fallback(s)` : '';
  const lines = [`wrote ${s.output}: ${parts.join(', ')} in ${s.seconds.toFixed(2)} s${fallbacks}`, ...imatrixLine(s as Parameters<typeof imatrixLine>[0])];
  if (s.report) lines.push(formatReport(s.report));
  if (s.calibration) lines.push(formatCalibrationReport(s.calibration));
  if (s.eval) lines.push(evalFiguresLine(s.eval));
  return lines.join('\n');
}
