/**
 * `convert SRC --type awq|gptq`: a Hugging Face Llama-style folder in, a complete AWQ-GEMM or
 * GPTQ-v1 model folder out (reference §8 checklist). The seven linears of every block are
 * quantized by a pluggable solver (RTN by default) and packed; embeddings, norms, biases and
 * lm_head are kept in fp16 under their names; config.json gets `quantization_config`.
 *
 * Streamed: one linear (or one row chunk of a kept tensor) in memory at a time. Written into a
 * temporary folder and renamed when complete. Validation (on by default) re-opens the written
 * folder, checks every packed layer decodes to exactly what was written, and reports the
 * per-tensor round-trip error against the source in the same report format as the GGUF path.
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledError, UnsupportedError, ValidationError, fromFsError } from '../../formats/errors.ts';
import { openSafetensorsModel, type SafetensorsModel } from '../../formats/safetensors/model.ts';
import { toFloat32 } from '../../formats/safetensors/dtypes.ts';
import { SafetensorsWriter } from '../../formats/safetensors/writer.ts';
import { encodeSafetensorsIndex, INDEX_FILE_NAME } from '../../formats/safetensors/index-json.ts';
import { createAtomicDir, writeFileAtomic } from '../../formats/io/atomic-file.ts';
import { staleTempWarnings } from './stale-temps.ts';
import { readJsonFile } from '../../formats/hf/read-json.ts';
import { openDequantizedModel, quantizedTypeName } from '../../formats/awq-gptq/dequantized-model.ts';
import { fp32ToFp16 } from '../../kernels/fp16.ts';
import { awqRtnSolver } from '../../kernels/groupwise/rtn-awq.ts';
import { gptqRtnSolver } from '../../kernels/groupwise/rtn-gptq.ts';
import { packAwqGemm } from '../../kernels/groupwise/awq-gemm.ts';
import { packGptq } from '../../kernels/groupwise/gptq.ts';
import { dequantizeRows } from '../../kernels/groupwise/dequantize.ts';
import { RoundTripMetrics } from '../../kernels/metrics.mjs';
import { buildReport, type TensorResult, type ValidationReport } from '../validate/report.ts';
import type { GroupwiseSummary, PipelineEvent, TensorMetrics } from './events.ts';
import { resolveOptions, type AwqGptqOptions, type ResolvedOptions } from './awq-gptq/options.ts';
import { resolveSource } from '../hub/resolve-source.ts';
import { planConversion, type KeptItem, type PackedItem } from './awq-gptq/plan.ts';
import { planShards } from './awq-gptq/shards.ts';
import { assertFiniteSource, FLOAT_DTYPES } from './awq-gptq/source-check.ts';
import { quantizationConfigFor, writeFolderFiles } from './awq-gptq/folder-files.ts';
import { CalibratedLayers, blockPart, layerOrder } from './awq-gptq/calibrated.ts';

export type { AwqGptqOptions } from './awq-gptq/options.ts';

/** Elements per read when copying a kept tensor. */
const KEPT_CHUNK_ELEMENTS = 1 << 20;

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function toHalfBytes(x: Float32Array): Uint8Array {
  const h = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) h[i] = fp32ToFp16(x[i]!);
  return bytesOf(h);
}

/** Rows dequantized per step when measuring, so no second full-size float copy of a layer exists. */
const MEASURE_ROWS = 256;

/** FNV-1a over the float bits, continued from `h`: proves the re-read layer decodes to exactly what was written. */
function fingerprint(x: Float32Array, h = 0x811c9dc5): number {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i]!, 0x01000193) >>> 0;
  return h;
}

/** Round-trip metrics and fingerprint of a layer, dequantized `MEASURE_ROWS` rows at a time. */
async function measure(orig: Float32Array, rows: number, cols: number, rowsOf: (start: number, count: number) => Float32Array | Promise<Float32Array>) {
  const m = new RoundTripMetrics();
  let h = 0x811c9dc5;
  for (let r = 0; r < rows; r += MEASURE_ROWS) {
    const n = Math.min(MEASURE_ROWS, rows - r);
    const deq = await rowsOf(r, n);
    m.add(orig.subarray(r * cols, (r + n) * cols), deq);
    h = fingerprint(deq, h);
  }
  const { count: _count, ...metrics } = m.result();
  return { metrics: metrics as TensorMetrics, fingerprint: h };
}

async function readWhole(model: SafetensorsModel, name: string): Promise<Float32Array> {
  const t = model.tensors.get(name)!;
  return toFloat32(t.dtype, await model.readTensor(name));
}

export async function* convertAwqGptq(options: AwqGptqOptions): AsyncGenerator<PipelineEvent, GroupwiseSummary> {
  const started = performance.now();
  const o = resolveOptions(options);
  const checkCancel = () => { if (o.signal?.aborted) throw new CancelledError(); };
  yield { type: 'phase', phase: 'resolve', message: o.source };
  const { dir: sourceDir } = yield* resolveSource(o.source, { ...o.hub, signal: o.signal });
  const hfConfig = await readJsonFile(sourceDir, 'config.json');
  if (hfConfig.quantization_config) {
    throw new UnsupportedError('ALREADY_QUANTIZED', 'the source is already quantized (config.json has quantization_config); convert from the unquantized model', { file: join(sourceDir, 'config.json') });
  }
  const model = await openSafetensorsModel(sourceDir);
  try {
    yield { type: 'phase', phase: 'plan' };
    // Tied embeddings: lm_head is the embedding matrix, so a stored duplicate is dropped (as AutoAWQ does).
    const tied = hfConfig.tie_word_embeddings === true && model.tensors.has('lm_head.weight');
    if (tied) yield { type: 'warning', code: 'TIED_LM_HEAD', message: 'tie_word_embeddings is true: the stored lm_head.weight duplicate is not written', tensor: 'lm_head.weight' };
    const plan = planConversion([...model.tensors.values()].filter((t) => !(tied && t.name === 'lm_head.weight')), o, sourceDir);
    for (const w of plan.warnings) yield { type: 'warning', code: w.code, message: w.message, tensor: w.tensor };
    const layerCount = Number(hfConfig.num_hidden_layers ?? 0);
    if (o.algorithm !== 'rtn') plan.items = layerOrder(plan.items);
    const shards = planShards(plan.items.map((i) => (i.kind === 'packed' ? i.decls : [i.decl])), o.maxShardBytes);
    const qconfig = quantizationConfigFor(o, plan.skippedModules, layerCount);
    const out = await createAtomicDir(o.output, { force: o.force });
    yield* staleTempWarnings(out.staleRemoved);
    let calib: CalibratedLayers | undefined;
    try {
      if (o.algorithm !== 'rtn') calib = yield* CalibratedLayers.open(sourceDir, o, plan.items.filter((i) => i.kind === 'packed'));
      yield { type: 'phase', phase: 'write', message: `${shards.length} file(s)` };
      const written = new Map<string, { metrics: TensorMetrics; fingerprint: number; againstReference?: boolean }>();
      const shardOf = new Map<string, number>();
      shards.forEach((s, i) => s.decls.forEach((d) => shardOf.set(d.name, i)));
      let writer: SafetensorsWriter | null = null;
      let shardIndex = -1;
      const count = plan.items.length;
      try {
        for (const [index, item] of plan.items.entries()) {
          checkCancel();
          const block = blockPart(item.source.name);
          if (calib && block) yield* calib.ensureLayer(block[0]);
          const first = item.kind === 'packed' ? item.decls[0]!.name : item.decl.name;
          if (shardOf.get(first) !== shardIndex) {
            await writer?.finish();
            shardIndex = shardOf.get(first)!;
            writer = await SafetensorsWriter.open(join(out.tmpPath, shards[shardIndex]!.file), shards[shardIndex]!.decls, { format: 'pt' });
          }
          const shape = [...item.source.shape].reverse();
          const targetType = item.kind === 'packed' ? quantizedTypeName(o) : item.decl.dtype;
          yield { type: 'tensor', state: 'start', name: item.source.name, index, count, sourceType: item.source.dtype, targetType, shape };
          if (item.kind === 'packed') {
            const r = await writePacked(model, writer!, item, o, calib);
            written.set(item.module, r);
            yield { type: 'tensor', state: 'done', name: item.source.name, index, count, sourceType: item.source.dtype, targetType, shape, metrics: r.metrics };
          } else {
            const overflowed = await writeKept(model, writer!, item, calib?.vector(item.source.name));
            if (overflowed) yield { type: 'warning', code: 'FP16_OVERFLOW', tensor: item.source.name, message: `${item.source.name}: ${overflowed} value(s) exceed the fp16 range (±65504) and are stored as ±inf` };
            yield { type: 'tensor', state: 'done', name: item.source.name, index, count, sourceType: item.source.dtype, targetType, shape };
          }
        }
        await writer?.finish();
        writer = null;
      } finally {
        await writer?.abort();
      }
      const calibration = calib ? yield* calib.finish() : undefined;
      if (calibration) for (const a of calibration.anomalies) yield { type: 'warning', code: `CALIB_${a.rule.toUpperCase().replace(/-/g, '_')}`, message: a.message };
      if (shards.length > 1) {
        const map = new Map(shards.flatMap((s) => s.decls.map((d) => [d.name, s.file] as [string, string])));
        await writeFile(join(out.tmpPath, INDEX_FILE_NAME), encodeSafetensorsIndex(map, shards.reduce((a, s) => a + s.bytes, 0)));
      }
      const files = await writeFolderFiles(sourceDir, out.tmpPath, hfConfig, qconfig, o.method);

      let report: ValidationReport | undefined;
      if (o.validate) {
        yield { type: 'phase', phase: 'validate', message: 're-reading the written folder' };
        report = await validateWritten(model, out.tmpPath, plan.items.filter((i): i is PackedItem => i.kind === 'packed'), written, o, checkCancel);
      }
      const outputBytes = await folderBytes(out.tmpPath);
      await out.commit();
      const summary: GroupwiseSummary = {
        kind: o.method, output: out.path, outputBytes, seconds: (performance.now() - started) / 1000,
        tensors: shards.reduce((a, s) => a + s.decls.length, 0), report,
        method: o.method, quantization_config: qconfig,
        files: [...shards.map((s) => s.file), ...(shards.length > 1 ? [INDEX_FILE_NAME] : []), ...files],
        packedLayers: written.size, keptInFp16: plan.skippedModules,
        ...(calibration ? { calibration } : {}),
      };
      if (o.reportPath) yield* staleTempWarnings(await writeFileAtomic(o.reportPath, JSON.stringify({ complete: true, ...summary }, null, 2) + '\n'));
      yield { type: 'phase', phase: 'done' };
      yield { type: 'done', summary };
      if (o.failOnAnomaly && report && report.anomalies.length) {
        throw new ValidationError('ANOMALY', `${report.anomalies.length} anomal${report.anomalies.length === 1 ? 'y' : 'ies'} in the round-trip report (output kept at ${out.path}): ${report.anomalies[0]!.message}`, { file: out.path });
      }
      return summary;
    } catch (err) {
      await out.abort();
      throw err;
    } finally {
      await calib?.close();
    }
  } finally {
    await model.close();
  }
}

async function writePacked(model: SafetensorsModel, writer: SafetensorsWriter, item: PackedItem, o: ResolvedOptions, calib?: CalibratedLayers) {
  const w = await readWhole(model, item.source.name);
  assertFiniteSource(model.tensors.get(item.source.name)!, w);
  const solver = o.solver ?? (o.method === 'awq' ? awqRtnSolver : gptqRtnSolver());
  const m = calib ? calib.quantized(item.module) : solver.quantize(w, item.out, item.in, { bits: o.bits, groupSize: o.groupSize, sym: o.sym, descAct: o.descAct });
  if (!m) throw new Error(`internal: ${item.module} was not calibrated before it was written`);
  const scales = toHalfBytes(m.scales);
  if (o.method === 'awq') {
    const t = packAwqGemm(m);
    await writer.writeTensorData(`${item.module}.qweight`, bytesOf(t.qweight));
    await writer.writeTensorData(`${item.module}.qzeros`, bytesOf(t.qzeros));
    await writer.writeTensorData(`${item.module}.scales`, scales);
  } else {
    const t = packGptq(m, 'gptq');
    await writer.writeTensorData(`${item.module}.qweight`, bytesOf(t.qweight));
    await writer.writeTensorData(`${item.module}.qzeros`, bytesOf(t.qzeros));
    await writer.writeTensorData(`${item.module}.scales`, scales);
    await writer.writeTensorData(`${item.module}.g_idx`, bytesOf(t.gIdx));
  }
  // AWQ's codes approximate the scaled, clipped weights: measure against those (reference §6), not the source
  const reference = calib?.reference(item.module);
  return { ...(await measure(reference ?? w, item.out, item.in, (start, count) => dequantizeRows(m, start, count))), againstReference: reference !== undefined };
}

/** Copy a kept tensor (as fp16 when it is a float); returns how many finite values overflowed fp16. */
async function writeKept(model: SafetensorsModel, writer: SafetensorsWriter, item: KeptItem, replaced?: Float32Array): Promise<number> {
  const t = item.source;
  let overflowed = 0;
  if (replaced) { // a norm the calibrated method rescaled (AWQ)
    for (let i = 0; i < replaced.length; i++) if (Number.isFinite(replaced[i]!) && Math.abs(replaced[i]!) >= 65520) overflowed++;
    await writer.writeTensorData(item.decl.name, item.decl.dtype === 'F16' ? toHalfBytes(replaced) : bytesOf(replaced));
    return overflowed;
  }
  const rows = t.shape.length === 0 ? 1 : t.shape[0]!;
  const rowLen = rows === 0 ? 0 : t.shape.slice(1).reduce((a, b) => a * b, 1);
  const step = Math.max(1, Math.floor(KEPT_CHUNK_ELEMENTS / Math.max(1, rowLen)));
  for (let r = 0; r < rows; r += step) {
    const n = Math.min(step, rows - r);
    const raw = t.shape.length === 0 ? await model.readTensor(t.name) : await model.readRows(t.name, r, n);
    const x = FLOAT_DTYPES.has(t.dtype) ? toFloat32(t.dtype, raw) : undefined;
    if (x) assertFiniteSource(model.tensors.get(t.name)!, x, r * rowLen);
    if (x && item.decl.dtype === 'F16' && t.dtype !== 'F16') {
      for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!) && Math.abs(x[i]!) >= 65520) overflowed++; // rounds to ±inf in fp16
      await writer.writeTensorData(item.decl.name, toHalfBytes(x));
    } else {
      await writer.writeTensorData(item.decl.name, raw);
    }
  }
  return overflowed;
}

async function validateWritten(
  source: SafetensorsModel, dir: string, packed: PackedItem[], written: Map<string, { metrics: TensorMetrics; fingerprint: number; againstReference?: boolean }>,
  o: ResolvedOptions, checkCancel: () => void,
): Promise<ValidationReport> {
  const readBack = await openDequantizedModel(dir);
  const results: TensorResult[] = [];
  try {
    for (const item of packed) {
      checkCancel();
      const name = `${item.module}.weight`;
      const { metrics, fingerprint: got } = await measure(await readWhole(source, item.source.name), item.out, item.in, (start, count) => readBack.readRows(name, start, count));
      const w = written.get(item.module)!;
      if (got !== w.fingerprint) {
        throw new ValidationError('AWQ_GPTQ_READBACK', `${item.module}: the written layer does not decode to the values that were quantized`, { file: dir, tensor: name });
      }
      results.push({ name, type: quantizedTypeName(o), metrics: w.againstReference ? w.metrics : metrics });
    }
  } finally {
    await readBack.close();
  }
  const report = buildReport(results);
  const broken = report.anomalies.filter((a) => a.code === 'non-finite');
  if (broken.length) throw new ValidationError('AWQ_GPTQ_NON_FINITE', broken.map((a) => a.message).join('; '), { file: dir });
  return report;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size;
  return total;
}
