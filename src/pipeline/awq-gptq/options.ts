/**
 * Options of `convert SRC --type awq|gptq`, their defaults (AWQ: 4-bit, g128, asymmetric; GPTQ:
 * 4-bit, g128, symmetric, no act-order) and the combinations refused up front.
 */
import { UsageError } from '../../../formats/errors.ts';
import type { GroupBits, GroupwiseSolver } from '../../../kernels/groupwise/spec.ts';
import type { ResolveOptions } from '../../hub/resolve-source.ts';
import type { LossThresholds } from '../calib-anomalies.ts';

export interface AwqGptqOptions {
  /** A local model folder or `hf:ORG/NAME[@REV]`. */
  source: string;
  output: string;
  method: 'awq' | 'gptq';
  bits?: number;
  /** -1 = per-channel. */
  groupSize?: number;
  /** Default: false for AWQ (zero_point), true for GPTQ. */
  sym?: boolean;
  descAct?: boolean;
  /** Keep layers that break a hard shape constraint in fp16 (listed in the config) instead of failing. */
  keepUnaligned?: boolean;
  /** Shard above this many bytes per file (default 5 GB, transformers' max_shard_size). */
  maxShardBytes?: number;
  force?: boolean;
  /** Re-open the written folder and measure per-tensor round-trip error (default true). */
  validate?: boolean;
  /** Write the summary with the validation report as JSON here (same shape as the GGUF path). */
  reportPath?: string;
  /** Fail (exit code 3) when the report lists anomalies; the output is kept for inspection. */
  failOnAnomaly?: boolean;
  /** Replace RTN with a calibrated solver. */
  solver?: GroupwiseSolver;
  /** Options for `hf:` sources (token, offline, cache). */
  hub?: ResolveOptions;
  signal?: AbortSignal;
  /** Thresholds of the calibration anomaly rules (--loss-early-threshold, --loss-outlier-factor): pass to findAnomalies. */
  lossThresholds?: Partial<LossThresholds>;
}

export interface ResolvedOptions extends Required<Omit<AwqGptqOptions, 'solver' | 'signal' | 'hub' | 'reportPath' | 'lossThresholds'>> {
  reportPath?: string;
  lossThresholds?: Partial<LossThresholds>;
  bits: GroupBits;
  solver?: GroupwiseSolver;
  hub?: ResolveOptions;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export function resolveOptions(o: AwqGptqOptions): ResolvedOptions {
  if (o.method !== 'awq' && o.method !== 'gptq') throw new UsageError('BAD_TYPE', `--type must be awq or gptq, got ${String(o.method)}`);
  const bits = o.bits ?? 4;
  const groupSize = o.groupSize ?? 128;
  if (![2, 3, 4, 8].includes(bits)) throw new UsageError('BAD_BITS', `--bits must be 2, 3, 4 or 8, got ${bits}`);
  if (o.method === 'awq' && bits !== 4) throw new UsageError('BAD_BITS', `AWQ GEMM checkpoints are 4-bit only (AutoAWQ and vLLM accept nothing else), got --bits ${bits}`);
  if (!(groupSize === -1 || (Number.isInteger(groupSize) && groupSize > 0))) throw new UsageError('BAD_GROUP', `--group-size must be -1 or a positive integer, got ${groupSize}`);
  if (o.method === 'awq' && o.descAct) throw new UsageError('BAD_DESC_ACT', '--desc-act is GPTQ only: AWQ GEMM stores no g_idx');
  const maxShardBytes = o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(maxShardBytes > 0)) throw new UsageError('BAD_SHARD', `shard size must be positive, got ${maxShardBytes}`);
  return {
    source: o.source, output: o.output, method: o.method, bits: bits as GroupBits, groupSize,
    sym: o.sym ?? o.method === 'gptq', descAct: o.descAct ?? false, keepUnaligned: o.keepUnaligned ?? false,
    maxShardBytes, force: o.force ?? false, validate: o.validate ?? true, reportPath: o.reportPath, failOnAnomaly: o.failOnAnomaly ?? false, solver: o.solver, hub: o.hub, signal: o.signal,
    lossThresholds: o.lossThresholds,
  };
}
