/**
 * `executePlan`: runs a plan (plan.ts) and nothing else. The tensors, their types, the metadata
 * and the order are the plan's; this opens the inputs (for an `hf:` plan, downloads the weights
 * of the commit the plan was made from), streams every tensor through the write stage, re-reads
 * the output against the plan and, for conversions, builds the validation report.
 */
import { availableParallelism } from 'node:os';
import { readGguf } from '../../formats/gguf/reader.ts';
import { openFileSource } from '../../formats/io/byte-source.ts';
import { CancelledError, FormatError, ValidationError } from '../../formats/errors.ts';
import { writeFileAtomic } from '../../formats/io/atomic-file.ts';
import { staleTempWarnings } from './stale-temps.ts';
import { ggmlType } from '../../kernels/ggml-types.ts';
import type { MappedTensor } from '../../formats/hf/tensor-map.ts';
import type { TensorPlan } from '../policy/type-policy.ts';
import type { ValidationReport } from '../validate/report.ts';
import { writeGguf, type Quantizer, type TensorSource } from './write-gguf.ts';
import type { hfRowReader as HfRowReader } from './hf-tensor-source.ts';
import { ggufTensorSource } from './gguf-tensor-source.ts';
import { ReusedBytes } from './reused-bytes.ts';
import { plannedHeader } from './planned-header.ts';
import { planFacts, type ConvertPlan, type Plan, type QuantizePlan } from './plan.ts';
import type { ConvertSummary, PipelineEvent, QuantizeSummary } from './events.ts';

export interface ExecuteOptions {
  threads?: number;
  force?: boolean;
  /** Round-trip metrics and anomaly checks (default true). */
  validate?: boolean;
  signal?: AbortSignal;
  /** F32 bytes per streamed chunk (default: the write stage's). */
  chunkBytes?: number;
  /** Reuse a running quantizer (its worker pool) instead of starting one for this job. */
  quantizer?: Quantizer;
  /** Write the validation report as JSON here (conversions). */
  reportPath?: string;
  /** Fail (exit code 3) when the report lists anomalies; the output is kept for inspection. */
  failOnAnomaly?: boolean;
  /** When the job started (for the summary's seconds); default now. */
  started?: number;
}

const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

export function executePlan(plan: ConvertPlan, run?: ExecuteOptions): AsyncGenerator<PipelineEvent, ConvertSummary>;
export function executePlan(plan: QuantizePlan, run?: ExecuteOptions): AsyncGenerator<PipelineEvent, QuantizeSummary>;
export function executePlan(plan: Plan, run?: ExecuteOptions): AsyncGenerator<PipelineEvent, ConvertSummary | QuantizeSummary>;
export function executePlan(plan: Plan, run: ExecuteOptions = {}): AsyncGenerator<PipelineEvent, ConvertSummary | QuantizeSummary> {
  return plan.kind === 'convert' ? executeConvert(plan, run) : executeQuantize(plan, run);
}

const writeArgs = (plan: Plan, run: ExecuteOptions, tensors: TensorSource[]) => ({
  outPath: plan.output, force: run.force, kvs: plan.kvs, tensors, signal: run.signal, threads: run.threads ?? availableParallelism(),
  validate: run.validate ?? true, chunkBytes: run.chunkBytes, quantizer: run.quantizer,
});

async function* executeQuantize(plan: QuantizePlan, run: ExecuteOptions): AsyncGenerator<PipelineEvent, QuantizeSummary> {
  const started = run.started ?? performance.now();
  if (run.signal?.aborted) throw new CancelledError();
  const src = await openFileSource(plan.input);
  try {
    const file = (await plannedHeader(plan, plan.input)) ?? (await readGguf(src));
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    yield { type: 'phase', phase: 'write', message: `writing ${plan.output} (${plan.fileType})` };
    const raw = new ReusedBytes();
    const sources = plan.tensors.map((p) => {
      const t = byName.get(p.name);
      if (!t) throw new FormatError('PLAN_STALE', `${plan.input} changed since it was planned: no tensor '${p.name}'`, { file: plan.input, tensor: p.name });
      const source = ggufTensorSource(src, file, t, p, raw);
      const w = plan.imatrix?.weights.get(p.name);
      return w ? { ...source, imatrix: w } : source;
    });
    const result = yield* writeGguf(writeArgs(plan, run, sources));
    const summary: QuantizeSummary = {
      kind: 'quantize', ...planFacts(plan), outputBytes: result.outputBytes, seconds: (performance.now() - started) / 1000,
      input: plan.input, inputBytes: plan.inputBytes, metrics: result.metrics,
    };
    yield { type: 'done', summary };
    return summary;
  } finally {
    await src.close();
  }
}

async function* executeConvert(plan: ConvertPlan, run: ExecuteOptions): AsyncGenerator<PipelineEvent, ConvertSummary> {
  const started = run.started ?? performance.now();
  if (run.signal?.aborted) throw new CancelledError();
  // Conversion-only modules (Hub, safetensors and AWQ/GPTQ readers, the report) load here, so a
  // GGUF requantize never pays for them.
  const [{ resolveSource }, { openModelTensors }, { hfRowReader }, { buildReport }] = await Promise.all([
    import('../hub/resolve-source.ts'), import('./model-tensors.ts'), import('./hf-tensor-source.ts'), import('../validate/report.ts'),
  ]);
  // An hf: plan was made from headers read remotely: fetch the weights of that same commit now.
  const dir = plan.hub ? (yield* resolveSource(`hf:${plan.hub.repo}@${plan.hub.commit}`, { ...plan.hubOptions, signal: run.signal })).dir : plan.dir;
  const model = await openModelTensors(dir);
  try {
    const have = new Set(model.tensors.map((t) => t.name));
    const missing = plan.mapped.find((m) => !have.has(m.hfName));
    if (missing) throw new FormatError('PLAN_STALE', `${dir} has no tensor '${missing.hfName}', which the plan reads`, { file: dir, tensor: missing.hfName });
    yield { type: 'phase', phase: 'write', message: `writing ${plan.output} (${plan.fileType})` };
    const gen = new Map(plan.generated.map((g) => [g.ggufName, g]));
    const byGguf = new Map(plan.mapped.map((m) => [m.ggufName, m]));
    const sources: TensorSource[] = plan.tensors.map((p) => {
      const g = gen.get(p.name);
      const w = plan.imatrix?.weights.get(p.name);
      const im = w ? { imatrix: w } : {};
      if (g) return { plan: p, ...im, readRowsF32: async (r, n) => g.data.subarray(r * g.ne[0]!, (r + n) * g.ne[0]!) };
      const m = byGguf.get(p.name)!;
      return { plan: p, ...im, readRowsF32: rowReader(hfRowReader, model.readRowsF32, m, plan.viaF16 && !m.forceF32) };
    });
    const result = yield* writeGguf(writeArgs(plan, run, sources));

    yield { type: 'phase', phase: 'verify', message: `re-reading ${plan.output}` };
    await verifyOutput(plan.output, plan.tensors);
    let report: ValidationReport | undefined;
    if (run.validate ?? true) {
      yield { type: 'phase', phase: 'validate', message: 'round-trip report' };
      report = buildReport(plan.tensors.filter((p) => result.metrics[p.name]).map((p) => ({ name: p.name, type: typeName(p.targetType), metrics: result.metrics[p.name]! })));
      for (const a of report.anomalies) yield { type: 'warning', code: `ANOMALY_${a.code.toUpperCase().replace(/-/g, '_')}`, tensor: a.tensor, message: a.message };
    }
    const summary: ConvertSummary = {
      kind: 'convert', ...planFacts(plan), outputBytes: result.outputBytes, seconds: (performance.now() - started) / 1000,
      source: plan.source, dir, architecture: plan.architecture, parameters: plan.parameters,
      ...(plan.hub ? { hub: plan.hub } : {}), ...(report ? { report } : {}),
    };
    if (run.reportPath) yield* staleTempWarnings(await writeFileAtomic(run.reportPath, JSON.stringify({ complete: true, ...summary }, null, 2) + '\n'));
    yield { type: 'done', summary };
    if (run.failOnAnomaly && report && report.anomalies.length) {
      throw new ValidationError('ANOMALY', `${report.anomalies.length} anomal${report.anomalies.length === 1 ? 'y' : 'ies'} in the round-trip report (output kept at ${plan.output}): ${report.anomalies[0]!.message}`, { file: plan.output });
    }
    return summary;
  } finally {
    await model.close();
  }
}

function rowReader(hfRowReader: typeof HfRowReader, read: (n: string, r: number, c: number) => Promise<Float32Array>, m: MappedTensor, viaF16: boolean) {
  const rowLen = m.ne[0]!;
  const nRows = m.ne.slice(1).reduce((a, b) => a * b, 1);
  return hfRowReader(read, { hfName: m.hfName, rowLen, nRows, permuteHeads: m.permute?.heads, viaF16, stack: m.stack, addOne: m.addOne });
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
