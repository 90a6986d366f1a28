/**
 * `planConvert`: everything `convert` will do, decided before a weight is read. The tensor list
 * comes from the safetensors headers only; for an `hf:` source those are read from the Hub with
 * HTTP range requests (a few kB per shard) after fetching just the config and tokenizer files, so
 * the plan, `--dry-run` and the TUI's plan screen appear in seconds, and the weights are
 * downloaded only by `executePlan`.
 *
 * What a quantized output means is llama.cpp's own two-step pipeline: the result of `--type T` is
 * the file `llama-quantize` would write from convert_hf_to_gguf's f32 output (or its f16 output
 * with `--via f16`). For f32/f16/bf16 the result is convert_hf_to_gguf's own output.
 */
import { basename } from 'node:path';
import { readHfConfig } from '../../formats/hf/config.ts';
import { archFor } from '../../formats/hf/architectures.ts';
import { mapTensors } from '../../formats/hf/tensor-map.ts';
import { buildGgufMetadata } from '../../formats/hf/gguf-metadata.ts';
import { countParameters, sizeLabelOfTensors } from '../../formats/hf/size-label.ts';
import { validateConfigAgainstTensors } from '../../formats/hf/config-validate.ts';
import { checkValue } from '../../formats/gguf/write-value.ts';
import { UsageError } from '../../formats/errors.ts';
import { fileTypeByName } from '../../kernels/file-types.ts';
import { GgmlTypeId as T } from '../../kernels/ggml-types.ts';
import { planTensorTypes, PLANNABLE_FILE_TYPES, type TensorPlan } from '../policy/type-policy.ts';
import { parseTensorTypeOverride } from '../policy/overrides.ts';
import { resolveSource, type ResolveOptions, type ResolvedSource } from '../hub/resolve-source.ts';
import { isQuantizedFolder } from '../../formats/awq-gptq/checkpoint.ts';
import { quantizedFileKvs } from './quantized-kvs.ts';
import { listModelTensors } from './model-tensors.ts';
import { fallbackWarnings, plannedSize, type ConvertPlan } from './plan.ts';
import type { PipelineEvent } from './events.ts';
import type { Imatrix } from '../../formats/imatrix/imatrix.ts';
import { applyImatrix, checkNoImatrixNeeded, withImatrixKvs, type PlanImatrix } from './imatrix-apply.ts';
import { checkKernels } from './plan-quantize.ts';

export interface ConvertPlanOptions {
  /** A local model folder or `hf:ORG/NAME[@REV]`. */
  source: string;
  /** Output path; default `<model name>-<TYPE>.gguf` in the current directory. */
  output?: string;
  /** `f32`, `f16`, `bf16`, `q8_0`, `q4_0`, `q5_K_M`, … */
  fileType: string;
  /** Round weights through fp16 first, as a convert `--outtype f16` + llama-quantize pipeline would. */
  viaF16?: boolean;
  pure?: boolean;
  /** `PATTERN=TYPE` per-tensor overrides, as llama-quantize's `--tensor-type`. */
  overrides?: string[];
  /** Force `tokenizer.ggml.pre` instead of detecting it. */
  pre?: string;
  /** `general.name`; default the folder (or repo) name. */
  name?: string;
  /** Options for `hf:` sources. */
  hub?: ResolveOptions;
  signal?: AbortSignal;
  /** `--imatrix FILE|auto`: a file to read, or `auto` (computed from the calibration text before writing). */
  imatrix?: string;
  /** The matrix `auto` computed (convert.ts fills it in; without it an `auto` plan is a dry run's). */
  imatrixComputed?: { imatrix: Imatrix; file: string };
  /** The source already resolved (convert --imatrix auto pulled an hf: model whole): not resolved again. */
  resolved?: ResolvedSource;
  dryRun?: boolean;
}

const FLOAT_FILE_TYPES = new Set(['f32', 'f16', 'bf16']);

export async function* planConvert(opts: ConvertPlanOptions): AsyncGenerator<PipelineEvent, ConvertPlan> {
  const ft = fileTypeByName(opts.fileType);
  if (!ft || !PLANNABLE_FILE_TYPES.includes(ft.name)) {
    throw new UsageError('BAD_FILE_TYPE', `unknown or unsupported type '${opts.fileType}' (supported: ${PLANNABLE_FILE_TYPES.join(', ')}, awq, gptq)`);
  }
  const overrides = (opts.overrides ?? []).map(parseTensorTypeOverride);
  const isFloat = FLOAT_FILE_TYPES.has(ft.name);
  const hubOptions = { ...opts.hub, signal: opts.signal };

  yield { type: 'phase', phase: 'resolve', message: `resolving ${opts.source}` };
  let { dir, hub, remoteWeights } = opts.resolved ?? (yield* resolveSource(opts.source, { ...hubOptions, metadataOnly: true }));
  // An AWQ/GPTQ checkpoint's tensor list comes from dequantizing its packed layers: fetch it whole.
  if (remoteWeights && (await isQuantizedFolder(dir))) ({ dir, hub, remoteWeights } = yield* resolveSource(opts.source, hubOptions));
  yield { type: 'phase', phase: 'plan', message: remoteWeights ? `reading the safetensors headers of ${hub!.repo} (no weights downloaded)` : `reading ${dir}` };
  const config = await readHfConfig(dir);
  const arch = archFor(config);
  // The Hub client is loaded only for hf: sources (local plans stay light: see test/cli-lazy-load).
  const listing = remoteWeights && hub
    ? await (await import('./remote-tensors.ts')).remoteModelTensors(dir, hub, remoteWeights, hubOptions)
    : await listModelTensors(dir);
  validateConfigAgainstTensors(config, listing.tensors); // before anything is sized from config.json
  const { tensors: mapped, generated } = mapTensors(arch, config, listing.tensors);
  if (listing.quantizedSource) {
    yield { type: 'warning', code: 'DEQUANTIZED_SOURCE', file: dir, message: `source is a ${listing.quantizedSource} checkpoint: its weights are dequantized to F32 first, so the output inherits its quantization error` };
  }
  // The intermediate llama.cpp would quantize from: convert's f32 output, or its f16 output with --via f16.
  const viaF16 = !!opts.viaF16 && !isFloat;
  const intermediateType = (m: { forceF32: boolean }) => (viaF16 && !m.forceF32 ? T.F16 : T.F32);
  const planInputs = [
    ...generated.map((g) => ({ name: g.ggufName, ne: g.ne, type: T.F32 })),
    ...mapped.map((m) => ({ name: m.ggufName, ne: m.ne, type: intermediateType(m) })),
  ];
  const nExpert = Number(config.raw.num_local_experts ?? config.raw.num_experts ?? 0) || 0;
  const facts = { arch: arch.ggufArch, nLayer: config.numLayers, nHead: config.numHeads, nHeadKv: config.numKvHeads, nExpert };
  const imatrix = opts.imatrixComputed ?? (opts.imatrix !== undefined && opts.imatrix !== 'auto'
    ? { imatrix: await (await import('../../formats/imatrix/read-imatrix.ts')).readImatrix(opts.imatrix), file: opts.imatrix } : undefined);
  const willHaveImatrix = !!imatrix || opts.imatrix === 'auto';
  let tensors = planTensorTypes(planInputs, facts, ft, { pure: opts.pure, overrides, allowRequantize: true, hasImatrix: willHaveImatrix && !isFloat });
  if (isFloat) tensors = inConvertOrder(tensors, planInputs.map((p) => p.name));
  yield* fallbackWarnings(tensors);
  let planImatrix: PlanImatrix | undefined;
  if (!isFloat) {
    if (imatrix) planImatrix = yield* applyImatrix(tensors, imatrix.imatrix, imatrix.file, ft.name);
    // A dry run of `--imatrix auto` computes nothing: the plan names it, with no weights yet.
    else if (opts.imatrix === 'auto') planImatrix = { file: 'auto', datasets: [], entries: 0, chunks: 0, used: 0, missing: [], weights: new Map() };
    else yield* checkNoImatrixNeeded(tensors, ft.name, !!opts.dryRun);
    if (opts.imatrix !== 'auto' || imatrix) checkKernels(tensors, dir, planImatrix);
  }

  const written = [...mapped.map((m) => ({ name: m.ggufName, ne: m.ne })), ...generated.map((g) => ({ name: g.ggufName, ne: g.ne }))];
  const parameters = countParameters(written.map((t) => t.ne));
  // A hub snapshot folder is named by its commit sha, so name the model after the repo there;
  // for a local folder the metadata builder applies convert_hf_to_gguf's own naming.
  const name = opts.name ?? (hub ? hub.repo.split('/').pop()! : undefined);
  const meta = await buildGgufMetadata(dir, config, arch, { fileTypeId: isFloat ? ft.id : viaF16 ? 1 : 0, name, pre: opts.pre, parameterCount: parameters, sizeLabel: sizeLabelOfTensors(written), ...(hub ? { dirName: hub.repo.split('/').pop()! } : {}) });
  for (const w of meta.warnings) yield { type: 'warning', code: w.code, message: w.message };
  const kvs = isFloat ? meta.kvs : withImatrixKvs(quantizedFileKvs(meta.kvs, ft.id), planImatrix);
  for (const kv of kvs) checkValue(kv.key, kv); // the writer's own check, so a dry run finds what a real run would
  const output = opts.output ?? `${name ?? basename(dir)}-${ft.name.toUpperCase()}.gguf`;
  return {
    kind: 'convert', source: opts.source, dir, ...(hub ? { hub, hubOptions: opts.hub } : {}), output, fileType: ft.name,
    architecture: config.architecture, parameters, tensors, kvs, ...plannedSize(kvs, tensors),
    mapped, generated, viaF16, ...(listing.quantizedSource ? { quantizedSource: listing.quantizedSource } : {}),
    ...(planImatrix ? { imatrix: planImatrix } : {}),
  };
}

/** f32/f16/bf16 outputs keep convert_hf_to_gguf's tensor order (generated first, then checkpoint order). */
function inConvertOrder(plans: TensorPlan[], order: string[]): TensorPlan[] {
  const rank = new Map(order.map((n, i) => [n, i]));
  return [...plans].sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
}
