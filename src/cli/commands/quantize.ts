/**
 * `gguf-forge quantize IN.gguf OUT.gguf --type q5_K_M`: GGUF → GGUF requantization with
 * llama-quantize's per-tensor policy. Ctrl-C aborts cleanly (the temporary output is removed).
 */
import type { Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import { quantizeGguf } from '../../pipeline/quantize.ts';
import type { QuantizeSummary } from '../../pipeline/events.ts';
import { formatPlan } from '../plan-text.ts';
import { PLANNABLE_FILE_TYPES } from '../../policy/type-policy.ts';
import { runHeadless } from '../headless.ts';
import { formatBytes } from '../../format-units.ts';
import { withSigintAbort } from '../sigint.ts';

interface QuantizeFlags {
  type: string;
  pure?: boolean;
  tensorType: string[];
  outputTensorType?: string;
  tokenEmbeddingType?: string;
  threads?: string;
  force?: boolean;
  allowRequantize?: boolean;
  dryRun?: boolean;
  validate: boolean;
  json?: boolean;
  jsonl?: boolean;
}

export function register(program: Command): void {
  program
    .command('quantize')
    .description('requantize an F32/F16/BF16 GGUF to a llama.cpp file type, byte-identical to llama-quantize')
    .argument('<input>', 'input GGUF file')
    .argument('<output>', 'output GGUF file')
    .requiredOption('-t, --type <ftype>', `file type: ${PLANNABLE_FILE_TYPES.join(', ')}`)
    .option('--pure', 'no per-tensor mixture rules: every quantizable tensor gets the default type (shape fallbacks still apply)')
    .option('--tensor-type <pattern=type>', 'override the type of tensors whose name matches a regex; repeatable, first match wins', collect, [])
    .option('--output-tensor-type <type>', 'ggml type for output.weight (and a tied token_embd), e.g. q8_0')
    .option('--token-embedding-type <type>', 'ggml type for token_embd.weight, e.g. q8_0')
    .option('--threads <n>', 'worker threads (default: all cores)')
    .option('--force', 'overwrite an existing output')
    .option('--allow-requantize', 'accept already-quantized input (dequantized first; loses quality)')
    .option('--dry-run', 'print the plan (types, fallbacks, output size) and write nothing')
    .option('--no-validate', 'skip the round-trip error metrics')
    .option('--json', 'print one JSON document at the end on stdout')
    .option('--jsonl', 'print every event as a JSON line on stdout')
    .action(async (input: string, output: string, flags: QuantizeFlags) => {
      const threads = flags.threads === undefined ? undefined : Number(flags.threads);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new UsageError('BAD_THREADS', `--threads must be a positive integer, got '${flags.threads}'`);
      if (flags.json && flags.jsonl) throw new UsageError('BAD_FLAGS', '--json and --jsonl are mutually exclusive');
      await withSigintAbort((signal) => runHeadless(
        quantizeGguf({
          input, output, fileType: flags.type, pure: flags.pure, overrides: flags.tensorType, threads,
          outputTensorType: flags.outputTensorType, tokenEmbeddingType: flags.tokenEmbeddingType, force: flags.force,
          allowRequantize: flags.allowRequantize, dryRun: flags.dryRun, validate: flags.validate, signal,
        }),
        { json: flags.json, jsonl: flags.jsonl, formatResult: formatSummary },
      ));
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Human summary; a dry run prints the whole plan table. */
export function formatSummary(result: unknown): string {
  const s = result as QuantizeSummary;
  if (s.dryRun) return formatPlan(s);
  return `wrote ${s.output}: ${s.fileType}, ${s.tensors} tensors, ${s.outputBytes} bytes (${formatBytes(s.outputBytes)}) in ${s.seconds.toFixed(2)} s; ${s.fallbacks} fallback(s)`;
}
