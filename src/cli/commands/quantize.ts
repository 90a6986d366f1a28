/**
 * `gguf-forge quantize IN.gguf OUT.gguf --type q5_K_M`: GGUF → GGUF requantization with
 * llama-quantize's per-tensor policy. Ctrl-C aborts cleanly (the temporary output is removed).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import type { JobSummary, PipelineEvent } from '../../pipeline/events.ts';
import type { PlannedTensor as PlannedTensorRow } from '../../pipeline/events.ts';
import { PLANNABLE_FILE_TYPES } from '../../policy/type-policy.ts';
import { formatBytes } from '../../format-units.ts';
import { addOutputModes, collect, forceOption, threadsOption, type OutputModeFlags } from '../options.ts';
import { runCommand } from '../run-command.ts';
import { typeOption } from '../type-option.ts';
import { assertInputExists, prepareOutput } from '../preflight.ts';
import { imatrixLine } from '../../pipeline/imatrix-text.ts';

interface QuantizeFlags extends OutputModeFlags {
  type?: string;
  pure?: boolean;
  tensorType: string[];
  outputTensorType?: string;
  tokenEmbeddingType?: string;
  threads?: number;
  force?: boolean;
  allowRequantize?: boolean;
  dryRun?: boolean;
  validate: boolean;
  imatrix?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('quantize')
    .description('requantize an F32/F16/BF16 GGUF to a llama.cpp file type, byte-identical to llama-quantize')
    .argument('<input>', 'input GGUF file')
    .argument('<output>', 'output GGUF file')
    .addOption(typeOption(false, `file type: ${PLANNABLE_FILE_TYPES.join(', ')} (required)`))
    .option('--pure', 'no per-tensor mixture rules: every quantizable tensor gets the default type (shape fallbacks still apply)')
    .option('--tensor-type <pattern=type>', 'override the type of tensors whose name matches a regex; repeatable, first match wins', collect, [])
    .option('--output-tensor-type <type>', 'ggml type for output.weight (and a tied token_embd), e.g. q8_0')
    .option('--token-embedding-type <type>', 'ggml type for token_embd.weight, e.g. q8_0')
    .addOption(threadsOption())
    .addOption(forceOption())
    .option('--allow-requantize', 'accept already-quantized input (dequantized first; loses quality)')
    .option('--imatrix <file>', 'importance matrix (llama.cpp imatrix GGUF or legacy .dat) for the quantizers and the type policy, as llama-quantize --imatrix')
    .option('--dry-run', 'print the plan (types, fallbacks, output size) and write nothing')
    .addOption(new Option('--no-validate', 'skip the round-trip error metrics'));
  addOutputModes(cmd).action(async (input: string, output: string, flags: QuantizeFlags) => {
    await runCommand(flags, (signal) => quantizeJob(input, output, flags, signal), { formatResult: formatSummary });
  });
}

async function* quantizeJob(input: string, output: string, flags: QuantizeFlags, signal: AbortSignal): AsyncGenerator<PipelineEvent, JobSummary> {
  if (!flags.type) throw new UsageError('NO_TYPE', `missing --type: one of ${PLANNABLE_FILE_TYPES.join(', ')}`);
  await assertInputExists(input, 'input GGUF');
  if (flags.imatrix !== undefined) await assertInputExists(flags.imatrix, 'imatrix file');
  await prepareOutput(output, { force: flags.force, dryRun: flags.dryRun });
  // The worker pool is booting already when bin.ts started this command line (src/cli/early-pool.ts).
  const { quantizeGguf } = await import('../../pipeline/quantize.ts');
  return yield* quantizeGguf({
    input, output, fileType: flags.type, pure: flags.pure, overrides: flags.tensorType, threads: flags.threads,
    outputTensorType: flags.outputTensorType, tokenEmbeddingType: flags.tokenEmbeddingType, force: flags.force,
    allowRequantize: flags.allowRequantize, dryRun: flags.dryRun, validate: flags.validate, imatrix: flags.imatrix, signal,
  });
}

interface PlanSummary {
  output: string; outputBytes: number; inputBytes?: number; tensors: number; fallbacks?: number; plan: PlannedTensorRow[];
  imatrix?: { file: string; datasets: string[]; entries: number; chunks: number; used: number; missing: string[] };
}

export { imatrixLine };

/** A dry run's whole plan table (quantize and convert share it). */
export function formatPlan(s: PlanSummary): string {
  const w = Math.max(...s.plan.map((r) => r.name.length), 4);
  const lines = [`${'tensor'.padEnd(w)}  ${'shape'.padEnd(18)} ${'source'.padEnd(6)} → ${'target'.padEnd(6)} ${'size'.padStart(11)}  rule`];
  for (const r of s.plan) {
    lines.push(`${r.name.padEnd(w)}  ${`[${r.shape.join(', ')}]`.padEnd(18)} ${r.sourceType.padEnd(6)} → ${r.targetType.padEnd(6)}${r.imatrix ? '*' : ' '}${formatBytes(r.bytes).padStart(11)}  ${r.rule}`);
    if (r.fallback) lines.push(`${''.padEnd(w)}  fallback ${r.fallback.from} → ${r.fallback.to}: ${r.fallback.reason}`);
  }
  lines.push(...imatrixLine(s));
  const input = s.inputBytes !== undefined ? `, input ${formatBytes(s.inputBytes)}` : '';
  lines.push(`dry run: ${s.tensors} tensors, ${s.fallbacks ?? 0} fallback(s); ${s.output} would be ${s.outputBytes} bytes (${formatBytes(s.outputBytes)})${input}`);
  return lines.join('\n');
}

/** Human summary; a dry run prints the whole plan table. */
export function formatSummary(result: unknown): string {
  const s = result as PlanSummary & { seconds: number; fileType: string; dryRun?: boolean; inputBytes: number };
  if (s.dryRun) return formatPlan(s);
  return [`wrote ${s.output}: ${s.fileType}, ${s.tensors} tensors, ${s.outputBytes} bytes (${formatBytes(s.outputBytes)}) in ${s.seconds.toFixed(2)} s; ${s.fallbacks} fallback(s)`, ...imatrixLine(s)].join('\n');
}
