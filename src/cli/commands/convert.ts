/**
 * `gguf-forge convert SRC --type T -o OUT`: HF folder or `hf:` repo → GGUF (llama.cpp file types),
 * or → an AWQ/GPTQ checkpoint folder (`--type awq|gptq`). Validation is on by default.
 */
import type { Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import { convertModel } from '../../pipeline/convert.ts';
import { convertAwqGptq } from '../../pipeline/awq-gptq.ts';
import { PLANNABLE_FILE_TYPES } from '../../policy/type-policy.ts';
import type { ValidationReport } from '../../validate/report.ts';
import { runHeadless } from '../headless.ts';
import { formatBytes } from '../../format-units.ts';
import { formatSummary as formatPlan } from './quantize.ts';
import { formatReport } from '../report-text.ts';
import { withSigintAbort } from '../sigint.ts';
import { withEval, evalFiguresLine, type EvalFigures } from '../../pipeline/eval-after.ts';

interface ConvertFlags {
  type: string;
  output?: string;
  via?: string;
  pure?: boolean;
  tensorType: string[];
  threads?: string;
  force?: boolean;
  dryRun?: boolean;
  validate: boolean;
  report?: string;
  failOnAnomaly?: boolean;
  pre?: string;
  name?: string;
  bits?: string;
  groupSize?: string;
  sym?: boolean;
  asym?: boolean;
  descAct?: boolean;
  keepUnaligned?: boolean;
  token?: string;
  offline?: boolean;
  json?: boolean;
  jsonl?: boolean;
  eval?: boolean | string;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a Hugging Face model (folder or hf:ORG/NAME[@REV]) to GGUF, AWQ or GPTQ, with a round-trip validation report')
    .argument('<source>', 'model folder, hf:ORG/NAME[@REVISION], or an AWQ/GPTQ checkpoint folder')
    .requiredOption('-t, --type <type>', `output type: ${PLANNABLE_FILE_TYPES.join(', ')}, awq, gptq`)
    .option('-o, --output <path>', 'output file (GGUF) or folder (AWQ/GPTQ); default <name>-<TYPE>.gguf')
    .option('--via <type>', "'f16': round weights through fp16 first, like convert --outtype f16 + llama-quantize")
    .option('--pure', 'no per-tensor mixture rules (shape fallbacks still apply)')
    .option('--tensor-type <pattern=type>', 'override the type of tensors matching a regex; repeatable', collect, [])
    .option('--threads <n>', 'worker threads (default: all cores)')
    .option('--force', 'overwrite an existing output')
    .option('--dry-run', 'print the plan (types, fallbacks, size) and write nothing')
    .option('--no-validate', 'skip round-trip metrics and the anomaly checks')
    .option('--report <file>', 'write the validation report as JSON')
    .option('--fail-on-anomaly', 'exit with code 3 when the report lists anomalies')
    .option('--pre <name>', 'tokenizer.ggml.pre to write when the pre-tokenizer is not recognised')
    .option('--name <name>', 'general.name (default: the folder or repo name)')
    .option('--bits <n>', 'AWQ/GPTQ bits (AWQ: 4; GPTQ: 2, 3, 4, 8)')
    .option('--group-size <n>', 'AWQ/GPTQ group size (32, 64, 128, -1 per channel)')
    .option('--sym', 'symmetric zero points (GPTQ default)')
    .option('--asym', 'asymmetric zero points (AWQ default)')
    .option('--desc-act', 'GPTQ act-order (scattered g_idx)')
    .option('--keep-unaligned', 'AWQ/GPTQ: keep layers whose shape cannot be packed in fp16 (listed in the config) instead of failing')
    .option('--token <token>', 'Hugging Face token (default $HF_TOKEN); never printed')
    .option('--offline', 'use the HF cache only (like HF_HUB_OFFLINE=1)')
    .option('--eval [file]', 'after converting, evaluate the output against the source (perplexity, KL divergence) on FILE or the bundled text')
    .option('--json', 'print one JSON document at the end on stdout')
    .option('--jsonl', 'print every event as a JSON line on stdout')
    .action(async (source: string, flags: ConvertFlags) => {
      const threads = flags.threads === undefined ? undefined : Number(flags.threads);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new UsageError('BAD_THREADS', `--threads must be a positive integer, got '${flags.threads}'`);
      if (flags.json && flags.jsonl) throw new UsageError('BAD_FLAGS', '--json and --jsonl are mutually exclusive');
      if (flags.via !== undefined && flags.via.toLowerCase() !== 'f16') throw new UsageError('BAD_VIA', `--via takes only 'f16', got '${flags.via}'`);
      if (flags.sym && flags.asym) throw new UsageError('BAD_FLAGS', '--sym and --asym are mutually exclusive');
      const method = flags.type.toLowerCase();
      const out = { json: flags.json, jsonl: flags.jsonl };
      const evalOpts = (signal: AbortSignal) => ({ textFile: typeof flags.eval === 'string' ? flags.eval : undefined, threads, signal });
      await withSigintAbort(async (signal) => {
        if (method === 'awq' || method === 'gptq') {
          if (!flags.output) throw new UsageError('NO_OUTPUT', `--type ${method} writes a folder: give it with -o OUT_DIR`);
          const num = (s: string | undefined, flag: string) => {
            if (s === undefined) return undefined;
            const n = Number(s);
            if (!Number.isInteger(n)) throw new UsageError('BAD_NUMBER', `${flag} must be an integer, got '${s}'`);
            return n;
          };
          if (flags.eval && source.startsWith('hf:')) throw new UsageError('BAD_FLAGS', '--eval with --type awq/gptq needs a local source folder (the reference)');
          const job = convertAwqGptq({
            source, output: flags.output, method, bits: num(flags.bits, '--bits'), groupSize: num(flags.groupSize, '--group-size'),
            sym: flags.sym ? true : flags.asym ? false : undefined, descAct: flags.descAct, keepUnaligned: flags.keepUnaligned,
            force: flags.force, validate: flags.validate, reportPath: flags.report, failOnAnomaly: flags.failOnAnomaly,
            hub: { token: flags.token, offline: flags.offline ? true : undefined }, signal,
          });
          await runHeadless(flags.eval ? withEval(job, () => source, evalOpts(signal)) : job, { ...out, formatResult: formatConvertSummary });
          return;
        }
        const job = convertModel({
          source, output: flags.output, fileType: flags.type, viaF16: flags.via !== undefined, pure: flags.pure, overrides: flags.tensorType,
          threads, force: flags.force, dryRun: flags.dryRun, validate: flags.validate, pre: flags.pre, name: flags.name,
          reportPath: flags.report, failOnAnomaly: flags.failOnAnomaly, signal,
          hub: { token: flags.token, offline: flags.offline ? true : undefined },
        });
        await runHeadless(flags.eval ? withEval(job, (s) => s.dir as string, evalOpts(signal)) : job, { ...out, formatResult: formatConvertSummary });
      });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function formatConvertSummary(result: unknown): string {
  const s = result as { dryRun?: boolean; output: string; outputBytes: number; seconds: number; tensors: number; fileType?: string; fallbacks?: number; report?: ValidationReport; parameters?: number; plan: unknown[]; eval?: EvalFigures };
  if (s.dryRun) return formatPlan({ ...s, inputBytes: 0 }).replace(/, input .*$/m, '');
  const parts = [s.fileType, `${s.tensors} tensors`, s.parameters !== undefined && `${s.parameters.toLocaleString('en-US')} parameters`, formatBytes(s.outputBytes)].filter(Boolean);
  const fallbacks = s.fallbacks !== undefined ? `; ${s.fallbacks} fallback(s)` : '';
  const lines = [`wrote ${s.output}: ${parts.join(', ')} in ${s.seconds.toFixed(2)} s${fallbacks}`];
  if (s.report) lines.push(formatReport(s.report));
  if (s.eval) lines.push(evalFiguresLine(s.eval));
  return lines.join('\n');
}
