/**
 * Plan, then execute. `planConvert` (plan-convert.ts) and `planQuantize` (plan-quantize.ts) decide
 * everything a run will do before any tensor data is read: each tensor's source and target type,
 * the rule that chose it and any fallback with its reason, its bytes, the metadata, and the exact
 * output size (the header measured with the writer's own encoder). `executePlan` (execute-plan.ts)
 * then runs exactly that plan. A dry run, the CLI's plan table and the TUI's plan and run screens
 * all read this one object, so what is shown is what is written.
 */
import type { GgufKv } from '../../formats/gguf/value-types.ts';
import { encodeGgufHeader } from '../../formats/gguf/writer.ts';
import { GGUF_DEFAULT_ALIGNMENT, padTo } from '../../formats/gguf/reader.ts';
import { ggmlType } from '../../kernels/ggml-types.ts';
import { hasImatrixQuantizer } from '../../kernels/quant-support.ts';
import { fallbackNotes } from '../policy/fallback.ts';
import type { TensorPlan } from '../policy/type-policy.ts';
import type { MappedTensor } from '../../formats/hf/tensor-map.ts';
import type { ResolveOptions } from '../hub/resolve-source.ts';
import type { PipelineEvent, PlannedTensor } from './events.ts';
import { plannedBytes } from './write-gguf.ts';
import type { PlanImatrix } from './imatrix-apply.ts';

export type { PlannedTensor } from './events.ts';

const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

interface PlanCommon {
  output: string;
  /** The file type, as llama.cpp names it (`q5_K_M`). */
  fileType: string;
  /** Output order, with the types as numbers (what the writer needs). */
  tensors: TensorPlan[];
  kvs: GgufKv[];
  /** The whole output file, header and padding included. */
  outputBytes: number;
  headerBytes: number;
  /** The importance matrix the quantizers use (`--imatrix`), with each tensor's weights. */
  imatrix?: PlanImatrix;
}

/** A HF model folder (or `hf:` repo) → GGUF. */
export interface ConvertPlan extends PlanCommon {
  kind: 'convert';
  source: string;
  /** The local folder read (for `hf:` sources, the snapshot folder, which may not hold the weights yet). */
  dir: string;
  /** Set for `hf:` sources: the repo and pinned commit the plan was made from. */
  hub?: { repo: string; revision: string; commit: string; files: string[] };
  hubOptions?: ResolveOptions;
  architecture: string;
  parameters: number;
  /** How each output tensor is read from the checkpoint (generated tensors are held in memory). */
  mapped: MappedTensor[];
  generated: { ggufName: string; ne: number[]; data: Float32Array }[];
  viaF16: boolean;
  /** AWQ/GPTQ source kind, when the checkpoint is one (its weights are dequantized first). */
  quantizedSource?: string;
}

/** A GGUF → GGUF requantization. */
export interface QuantizePlan extends PlanCommon {
  kind: 'quantize';
  input: string;
  inputBytes: number;
}

export type Plan = ConvertPlan | QuantizePlan;

/** A plan entry with type names, as summaries and `--dry-run` report it. */
export function plannedTensor(p: TensorPlan): PlannedTensor {
  const row: PlannedTensor = { name: p.name, shape: p.ne, sourceType: typeName(p.sourceType), targetType: typeName(p.targetType), rule: p.rule, bytes: plannedBytes(p) };
  if (p.fallback) row.fallback = { from: typeName(p.fallback.from), to: typeName(p.fallback.to), reason: p.fallback.reason };
  return row;
}

/** Header bytes (from the writer's own encoder) and the whole file's bytes of a planned output. */
export function plannedSize(kvs: GgufKv[], tensors: TensorPlan[]): { headerBytes: number; outputBytes: number } {
  const infos = tensors.map((p) => ({ name: p.name, ne: p.ne, type: p.targetType, nbytes: plannedBytes(p) }));
  const headerBytes = encodeGgufHeader(kvs, infos, GGUF_DEFAULT_ALIGNMENT).length;
  return { headerBytes, outputBytes: headerBytes + infos.reduce((s, t) => s + padTo(t.nbytes, GGUF_DEFAULT_ALIGNMENT), 0) };
}

/** Every shape fallback of a plan as a warning event: none is ever silent. */
export function* fallbackWarnings(tensors: TensorPlan[], file?: string): Generator<PipelineEvent> {
  for (const n of fallbackNotes(tensors)) yield { type: 'warning', code: 'FALLBACK', tensor: n.tensor, ...(file ? { file } : {}), message: n.message };
}

/** What a plan reports (its dry-run summary, and the part of a run's summary the plan decided). */
export function planFacts(plan: Plan): { output: string; outputBytes: number; headerBytes: number; tensors: number; fileType: string; fallbacks: number; plan: PlannedTensor[]; imatrix?: ImatrixFacts } {
  const w = plan.imatrix?.weights;
  return {
    output: plan.output, outputBytes: plan.outputBytes, headerBytes: plan.headerBytes, tensors: plan.tensors.length, fileType: plan.fileType,
    fallbacks: plan.tensors.filter((p) => p.fallback).length, plan: plan.tensors.map((p) => (w?.has(p.name) && p.quantize && hasImatrixQuantizer(p.targetType) ? { ...plannedTensor(p), imatrix: true } : plannedTensor(p))),
    ...(plan.imatrix ? { imatrix: imatrixFacts(plan.imatrix) } : {}),
  };
}

/** The imatrix as summaries and plan screens show it. */
export interface ImatrixFacts { file: string; datasets: string[]; entries: number; chunks: number; used: number; missing: string[] }

export function imatrixFacts(im: PlanImatrix): ImatrixFacts {
  return { file: im.file, datasets: im.datasets, entries: im.entries, chunks: im.chunks, used: im.used, missing: im.missing };
}
