/**
 * `gguf-forge convert`: a Hugging Face model folder (or `hf:` repo, or AWQ/GPTQ checkpoint) → GGUF.
 *
 * What a quantized output means is defined by llama.cpp's own two-step pipeline: the result of
 * `--type T` is the file `llama-quantize` would write from convert_hf_to_gguf's f32 output (or its
 * f16 output with `--via f16`): the same tensor order, per-tensor types, metadata and bytes. For
 * f32/f16/bf16 the result is convert_hf_to_gguf's own output. Tensors stream from the safetensors
 * files through the shared write stage; validation (round-trip metrics, anomalies, a structural
 * re-read of the output) is on by default.
 */
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { readHfConfig } from '../../formats/hf/config.ts';
import { archFor } from '../../formats/hf/architectures.ts';
import { validateConfigAgainstTensors } from '../../formats/hf/config-validate.ts';
import { mapTensors, type MappedTensor } from '../../formats/hf/tensor-map.ts';
import { buildGgufMetadata } from '../../formats/hf/gguf-metadata.ts';
import { checkValue } from '../../formats/gguf/write-value.ts';
import { countParameters, sizeLabelOfTensors } from '../../formats/hf/size-label.ts';
import { readGguf, padTo, GGUF_DEFAULT_ALIGNMENT } from '../../formats/gguf/reader.ts';
import { CancelledError, UsageError, ValidationError } from '../../formats/errors.ts';
import { writeFileAtomic } from '../../formats/io/atomic-file.ts';
import { staleTempWarnings } from './stale-temps.ts';
import { fileTypeByName } from '../../kernels/file-types.ts';
import { GgmlTypeId as T, ggmlType } from '../../kernels/ggml-types.ts';
import { planTensorTypes, PLANNABLE_FILE_TYPES, type TensorPlan } from '../policy/type-policy.ts';
import { resolveSource, type ResolveOptions } from '../hub/resolve-source.ts';
import { buildReport, type ValidationReport } from '../validate/report.ts';
import { writeGguf, plannedBytes, type TensorSource } from './write-gguf.ts';
import { fallbackWarnings, headerBytes, parseTensorTypeOverride, planRow } from './quantize.ts';
import { quantizedFileKvs } from './quantized-kvs.ts';
import { hfRowReader } from './hf-tensor-source.ts';
import { openModelTensors } from './model-tensors.ts';
import type { JobSummary, PipelineEvent } from './events.ts';

export interface ConvertOptions {
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
  threads?: number;
  force?: boolean;
  dryRun?: boolean;
  /** Round-trip metrics and anomaly checks (default true). */
  validate?: boolean;
  /** Force `tokenizer.ggml.pre` instead of detecting it. */
  pre?: string;
  /** `general.name`; default the folder (or repo) name. */
  name?: string;
  /** Write the validation report as JSON here. */
  reportPath?: string;
  /** Fail (exit code 3) when the report lists anomalies; the output is kept for inspection. */
  failOnAnomaly?: boolean;
  /** F32 bytes per streamed chunk (default: the write stage's). */
  chunkBytes?: number;
  /** Options for `hf:` sources. */
  hub?: ResolveOptions;
  signal?: AbortSignal;
}

const FLOAT_FILE_TYPES = new Set(['f32', 'f16', 'bf16']);
const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

export async function* convertModel(opts: ConvertOptions): AsyncGenerator<PipelineEvent, JobSummary> {
  const started = performance.now();
  const ft = fileTypeByName(opts.fileType);
  if (!ft || !PLANNABLE_FILE_TYPES.includes(ft.name)) {
    throw new UsageError('BAD_FILE_TYPE', `unknown or unsupported type '${opts.fileType}' (supported: ${PLANNABLE_FILE_TYPES.join(', ')}, awq, gptq)`);
  }
  const overrides = (opts.overrides ?? []).map(parseTensorTypeOverride);
  const isFloat = FLOAT_FILE_TYPES.has(ft.name);

  yield { type: 'phase', phase: 'resolve', message: `resolving ${opts.source}` };
  const { dir, hub } = yield* resolveSource(opts.source, { ...opts.hub, signal: opts.signal });
  const config = await readHfConfig(dir);
  const arch = archFor(config);
  const model = await openModelTensors(dir);
  try {
    validateConfigAgainstTensors(config, model.tensors); // before anything is sized from config.json
    const { tensors: mapped, generated } = mapTensors(arch, config, model.tensors);
    if (model.quantizedSource) {
      yield { type: 'warning', code: 'DEQUANTIZED_SOURCE', file: dir, message: `source is a ${model.quantizedSource} checkpoint: its weights are dequantized to F32 first, so the output inherits its quantization error` };
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
    let plans = planTensorTypes(planInputs, facts, ft, { pure: opts.pure, overrides, allowRequantize: true });
    if (isFloat) plans = inConvertOrder(plans, planInputs.map((p) => p.name));
    yield* fallbackWarnings(plans);

    const written = [...mapped.map((m) => ({ name: m.ggufName, ne: m.ne })), ...generated.map((g) => ({ name: g.ggufName, ne: g.ne }))];
    const parameterCount = countParameters(written.map((t) => t.ne));
    // A hub snapshot folder is named by its commit sha, so name the model after the repo there;
    // for a local folder the metadata builder applies convert_hf_to_gguf's own naming.
    const name = opts.name ?? (hub ? hub.repo.split('/').pop()! : undefined);
    const meta = await buildGgufMetadata(dir, config, arch, { fileTypeId: isFloat ? ft.id : viaF16 ? 1 : 0, name, pre: opts.pre, parameterCount, sizeLabel: sizeLabelOfTensors(written) });
    const modelName = name ?? basename(dir);
    for (const w of meta.warnings) yield { type: 'warning', code: w.code, message: w.message };
    const kvs = isFloat ? meta.kvs : quantizedFileKvs(meta.kvs, ft.id);
    const output = opts.output ?? `${modelName}-${ft.name.toUpperCase()}.gguf`;
    const plannedSize = headerBytes(kvs, plans) + plans.reduce((s, p) => s + padTo(plannedBytes(p), GGUF_DEFAULT_ALIGNMENT), 0);
    const base = {
      source: opts.source, dir, fileType: ft.name, architecture: config.architecture, parameters: parameterCount,
      fallbacks: plans.filter((p) => p.fallback).length, plan: plans.map(planRow),
    };
    for (const kv of kvs) checkValue(kv.key, kv); // the writer's own check, so a dry run finds what a real run would
    if (opts.dryRun) {
      const summary: JobSummary = { output, outputBytes: plannedSize, seconds: (performance.now() - started) / 1000, tensors: plans.length, dryRun: true, ...base };
      yield { type: 'done', summary };
      return summary;
    }
    if (opts.signal?.aborted) throw new CancelledError();

    yield { type: 'phase', phase: 'write', message: `writing ${output} (${ft.name})` };
    const gen = new Map(generated.map((g) => [g.ggufName, g]));
    const byGguf = new Map(mapped.map((m) => [m.ggufName, m]));
    const sources: TensorSource[] = plans.map((plan) => {
      const g = gen.get(plan.name);
      if (g) return { plan, readRowsF32: async (r, n) => g.data.subarray(r * g.ne[0]!, (r + n) * g.ne[0]!) };
      const m = byGguf.get(plan.name)!;
      return { plan, readRowsF32: rowReader(model.readRowsF32, m, viaF16 && !m.forceF32) };
    });
    const result = yield* writeGguf({
      outPath: output, force: opts.force, kvs, tensors: sources, signal: opts.signal,
      threads: opts.threads ?? availableParallelism(), validate: opts.validate ?? true, chunkBytes: opts.chunkBytes,
    });

    yield { type: 'phase', phase: 'verify', message: `re-reading ${output}` };
    await verifyOutput(output, plans);

    let report: ValidationReport | undefined;
    if (opts.validate ?? true) {
      yield { type: 'phase', phase: 'validate', message: 'round-trip report' };
      report = buildReport(plans.filter((p) => result.metrics[p.name]).map((p) => ({ name: p.name, type: typeName(p.targetType), metrics: result.metrics[p.name]! })));
      for (const a of report.anomalies) yield { type: 'warning', code: `ANOMALY_${a.code.toUpperCase().replace(/-/g, '_')}`, tensor: a.tensor, message: a.message };
    }
    const summary: JobSummary = {
      output, outputBytes: result.outputBytes, seconds: (performance.now() - started) / 1000, tensors: plans.length,
      ...base, ...(hub ? { hub } : {}), ...(report ? { report } : {}),
    };
    if (opts.reportPath) yield* staleTempWarnings(await writeFileAtomic(opts.reportPath, JSON.stringify({ complete: true, ...summary }, null, 2) + '\n'));
    yield { type: 'done', summary };
    if (opts.failOnAnomaly && report && report.anomalies.length) {
      throw new ValidationError('ANOMALY', `${report.anomalies.length} anomal${report.anomalies.length === 1 ? 'y' : 'ies'} in the round-trip report (output kept at ${output}): ${report.anomalies[0]!.message}`, { file: output });
    }
    return summary;
  } finally {
    await model.close();
  }
}

function rowReader(read: (n: string, r: number, c: number) => Promise<Float32Array>, m: MappedTensor, viaF16: boolean) {
  const rowLen = m.ne[0]!;
  const nRows = m.ne.slice(1).reduce((a, b) => a * b, 1);
  return hfRowReader(read, { hfName: m.hfName, rowLen, nRows, permuteHeads: m.permute?.heads, viaF16, stack: m.stack, addOne: m.addOne });
}

/** f32/f16/bf16 outputs keep convert_hf_to_gguf's tensor order (generated first, then checkpoint order). */
function inConvertOrder(plans: TensorPlan[], order: string[]): TensorPlan[] {
  const rank = new Map(order.map((n, i) => [n, i]));
  return [...plans].sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
}

/** Re-opens the written file with the strict reader and checks it holds exactly the plan. */
async function verifyOutput(path: string, plans: TensorPlan[]): Promise<void> {
  const file = await readGguf(path);
  if (file.tensors.length !== plans.length) throw new ValidationError('VERIFY', `${path}: has ${file.tensors.length} tensors, expected ${plans.length}`, { file: path });
  file.tensors.forEach((t, i) => {
    const p = plans[i]!;
    if (t.name !== p.name || t.type !== p.targetType || t.ne.join(',') !== p.ne.join(',')) {
      throw new ValidationError('VERIFY', `${path}: tensor ${i} is ${t.name} ${typeName(t.type)} [${t.ne}], expected ${p.name} ${typeName(p.targetType)} [${p.ne}]`, { file: path, tensor: t.name });
    }
  });
}
