/**
 * Options of `convert SRC --type awq|gptq`, their defaults (AWQ: 4-bit, g128, asymmetric; GPTQ:
 * 4-bit, g128, symmetric, no act-order) and the combinations refused up front.
 */
import { UsageError } from '../../../formats/errors.ts';
import type { GroupBits, GroupwiseSolver } from '../../../kernels/groupwise/spec.ts';
import type { ResolveOptions } from '../../hub/resolve-source.ts';
import type { MatmulEngine } from '../../../kernels/forward/index.ts';
import type { LayerMethod } from '../../calibrate/layer-method.ts';
import type { AnomalyThresholds } from '../../calibrate/anomalies.ts';
import { calibratedMethodNames } from '../../calibrate/methods.ts';

/** How the layers are quantized: round-to-nearest, or a calibrated method (src/calibrate/). */
export type QuantAlgorithm = 'rtn' | 'gptq' | 'awq';

/** The calibrated run's parameters (`--calib*`, `--damp-percent`, …). */
export interface CalibrationOptions {
  /** `--calib FILE` (text or JSONL); default the shipped corpus. */
  file?: string;
  samples?: number;
  seqlen?: number;
  seed?: number;
  /** GPTQ. */
  dampPercent?: number;
  trueSequential?: boolean;
  staticGroups?: boolean;
  /** Bytes; default 3/4 of the machine's memory. */
  maxMemory?: number;
  threads?: number;
  /** The kernels (default the fast engine on `threads` workers; tests pass the reference engine). */
  engine?: MatmulEngine;
  thresholds?: AnomalyThresholds;
  /** A method instance to run instead of the registry's (tests, or a method not registered yet). */
  layerMethod?: LayerMethod;
}

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
  /** Replace RTN with another per-matrix solver (implies algorithm 'rtn'). */
  solver?: GroupwiseSolver;
  /**
   * `--method`: default the calibrated method of the type (gptq for gptq; awq for awq once that
   * method is registered in src/calibrate/methods.ts), 'rtn' when a `solver` is given.
   */
  algorithm?: QuantAlgorithm;
  calibration?: CalibrationOptions;
  /** Options for `hf:` sources (token, offline, cache). */
  hub?: ResolveOptions;
  signal?: AbortSignal;
}

export interface ResolvedOptions extends Required<Omit<AwqGptqOptions, 'solver' | 'signal' | 'hub' | 'reportPath' | 'calibration'>> {
  calibration: CalibrationOptions;
  reportPath?: string;
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
  const algorithm = o.algorithm ?? (o.solver || !calibratedMethodNames().includes(o.method) ? 'rtn' : o.method);
  if (algorithm !== 'rtn' && algorithm !== 'gptq' && algorithm !== 'awq') throw new UsageError('BAD_METHOD', `--method must be rtn, gptq or awq, got ${String(algorithm)}`);
  if (algorithm !== 'rtn' && algorithm !== o.method) throw new UsageError('BAD_METHOD', `--method ${algorithm} writes ${algorithm} checkpoints; use --type ${algorithm} (or --method rtn)`);
  if (algorithm !== 'rtn' && o.solver) throw new UsageError('BAD_METHOD', `a custom solver replaces round-to-nearest only (--method rtn), not --method ${algorithm}`);
  const c = o.calibration ?? {};
  if (c.dampPercent !== undefined && !(c.dampPercent > 0 && c.dampPercent < 1)) throw new UsageError('BAD_DAMP', `--damp-percent must lie in (0, 1), got ${c.dampPercent}`);
  if (c.staticGroups && algorithm !== 'gptq') throw new UsageError('BAD_STATIC_GROUPS', '--static-groups is a GPTQ solver option (--method gptq)');
  const maxShardBytes = o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(maxShardBytes > 0)) throw new UsageError('BAD_SHARD', `shard size must be positive, got ${maxShardBytes}`);
  return {
    source: o.source, output: o.output, method: o.method, bits: bits as GroupBits, groupSize,
    sym: o.sym ?? o.method === 'gptq', descAct: o.descAct ?? false, keepUnaligned: o.keepUnaligned ?? false,
    maxShardBytes, force: o.force ?? false, validate: o.validate ?? true, reportPath: o.reportPath, failOnAnomaly: o.failOnAnomaly ?? false, solver: o.solver, hub: o.hub, signal: o.signal,
    algorithm, calibration: c,
  };
}
