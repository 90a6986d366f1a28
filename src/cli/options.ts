/**
 * Flags shared by several commands, declared once. Values go through the parsers in
 * src/options/values.ts (the batch file uses the same ones); a bad value is a commander usage
 * error, reported before any file is touched.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ForgeError } from '../../formats/errors.ts';
import { nonNegativeInteger, positiveInteger, positiveNumber } from '../options/values.ts';
import type { LossThresholds } from '../pipeline/calib-anomalies.ts';

/** Wraps a value parser for commander: its UsageError becomes commander's "invalid argument". */
export function parser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof ForgeError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}

export const threadsOption = (description = 'worker threads (default: all cores)') => new Option('--threads <n>', description).argParser(parser(positiveInteger));
export const forceOption = () => new Option('--force', 'overwrite an existing output');
export const tokenOption = () => new Option('--token <token>', 'Hugging Face token (default $HF_TOKEN); never printed');
export const offlineOption = () => new Option('--offline', 'use the HF cache only (like HF_HUB_OFFLINE=1)');

/**
 * The calibration anomaly thresholds (src/pipeline/calib-anomalies.ts); the batch file's
 * `lossEarlyThreshold` / `lossOutlierFactor` use the same parser.
 */
export const lossThresholdOptions = () => [
  new Option('--loss-early-threshold <x>', 'AWQ/GPTQ calibration: flag layers 0–2 whose average loss is above X (default 1.0)').argParser(parser(positiveNumber)),
  new Option('--loss-outlier-factor <x>', 'AWQ/GPTQ calibration: flag a module loss above X × the median of the same module 2 layers either side (default 10)').argParser(parser(positiveNumber)),
];

export interface LossThresholdFlags {
  lossEarlyThreshold?: number;
  lossOutlierFactor?: number;
}

/** The flags as the anomaly rules take them (unset ones keep the rules' defaults). */
export const lossThresholdsOf = (f: LossThresholdFlags): Partial<LossThresholds> => ({ earlyThreshold: f.lossEarlyThreshold, outlierFactor: f.lossOutlierFactor });

/** --json and --jsonl: one document at the end, or one event per line; never both. */
export function addOutputModes(cmd: Command): Command {
  return cmd
    .addOption(new Option('--json', 'print one JSON document at the end on stdout: {ok, result | error, warnings}').conflicts('jsonl'))
    .addOption(new Option('--jsonl', 'print every event as a JSON line on stdout, ending with a done or error line').conflicts('json'));
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export interface OutputModeFlags {
  json?: boolean;
  jsonl?: boolean;
}

/** AWQ/GPTQ calibration flags (convert --type awq|gptq; the batch file's keys of the same names). */
export interface CalibrationFlags {
  method?: 'rtn' | 'gptq' | 'awq';
  calib?: string;
  calibSamples?: number;
  calibSeqlen?: number;
  seed?: number;
  dampPercent?: number;
  staticGroups?: boolean;
  trueSequential?: boolean;
  maxMemory?: number;
}

const fraction = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`${flag} must lie in (0, 1), got ${v}`);
  return n;
};
/** 512M, 2G, 1.5GiB, or bytes. */
export function byteSize(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`${flag} must be a size such as 512M or 4G, got ${v}`);
  return Math.floor(Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()));
}

export function addCalibrationOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--method <method>', 'AWQ/GPTQ algorithm: rtn (round-to-nearest, no calibration), gptq, awq (default: the type\'s own)').choices(['rtn', 'gptq', 'awq']))
    .option('--calib <file>', 'calibration text for AWQ/GPTQ and --imatrix auto: plain text, or JSONL with a "text" field (default: the bundled State of the Union corpus)')
    .addOption(new Option('--calib-samples <n>', 'calibration samples (default 128)').argParser(parser(positiveInteger)))
    .addOption(new Option('--calib-seqlen <n>', 'tokens per calibration sample (default 512)').argParser(parser(positiveInteger)))
    .addOption(new Option('--seed <n>', 'calibration sampling seed (default 42)').argParser(parser(nonNegativeInteger)))
    .addOption(new Option('--damp-percent <x>', 'GPTQ dampening, a fraction of mean(diag H) (default 0.01)').argParser(fraction('--damp-percent')))
    .option('--static-groups', 'GPTQ: group parameters computed up front on the original column order')
    .option('--true-sequential', 'GPTQ: quantize a layer subset by subset ([k,v,q], [o], [up,gate], [down]) (default)')
    .option('--no-true-sequential', 'GPTQ: quantize all seven linears of a layer from one forward')
    .addOption(new Option('--max-memory <size>', 'calibration memory budget (e.g. 2G); default 3/4 of RAM').argParser((v) => byteSize('--max-memory', v)));
}

/** The pipeline's calibration options from the flags. */
export function calibrationOptions(f: CalibrationFlags, threads?: number) {
  return {
    algorithm: f.method,
    calibration: {
      file: f.calib, samples: f.calibSamples, seqlen: f.calibSeqlen, seed: f.seed, dampPercent: f.dampPercent,
      staticGroups: f.staticGroups, trueSequential: f.trueSequential, maxMemory: f.maxMemory, threads,
    },
  };
}
