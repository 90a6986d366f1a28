/**
 * Flags shared by several commands, declared once. Values go through the parsers in
 * src/options/values.ts (the batch file uses the same ones); a bad value is a commander usage
 * error, reported before any file is touched.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ForgeError } from '../../formats/errors.ts';
import { positiveInteger, positiveNumber, targetType } from '../options/values.ts';
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
export const typeOption = (groupwise: boolean, description: string) =>
  new Option('-t, --type <type>', description).argParser(parser((v) => targetType(v, groupwise)));

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
