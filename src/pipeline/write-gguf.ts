/**
 * The shared GGUF write stage (convert and quantize both end here): the scheduler. For each
 * planned tensor, in plan order: pull F32 row chunks from the source (write-steps.ts), quantize
 * them with the fast Quantizer, which also finds NaN/Inf inputs and measures the round-trip error
 * where it quantizes (or copy raw bytes when the type does not change), check the result the way
 * `ggml_validate_row_data` does (source-checks.ts over kernels/validate-row.ts), write, and report
 * progress as pipeline events.
 *
 * Memory stays bounded: every chunk lives in one of a few reused shared buffers, read into one,
 * quantized into another, written from it, and each goes back to the pool only when its last
 * user (the async file write included) is done. The output goes to a temporary name and is
 * renamed only when complete; any failure or abort removes it.
 */
import { stat } from 'node:fs/promises';
import { GgufWriter } from '../../formats/gguf/writer.ts';
import type { GgufKv, GgufValue } from '../../formats/gguf/value-types.ts';
import { createAtomicFile } from '../../formats/io/atomic-file.ts';
import { staleTempWarnings } from './stale-temps.ts';
import { CancelledError } from '../../formats/errors.ts';
import { ggmlType, rowSize, GgmlTypeId as T } from '../../kernels/ggml-types.ts';
import type { CheckedQuantization, FileQuantization, FileRegion, Quantizer } from '../../kernels/fast/index.ts';
import { RoundTripMetrics, type ErrorMetrics } from '../../kernels/metrics.mjs';
import type { PipelineEvent, TensorEvent } from './events.ts';
import { openQuantizer, referenceQuantizer } from './reference-quantizer.ts';
import { checkQuantizedRows, nonFiniteError, quantOverflowError } from './source-checks.ts';
import { lenderFor, loadStep, stepBytes, stepImatrix, stepsOf, type Lender, type Loaded, type Step, type TensorSource } from './write-steps.ts';

export type { ErrorMetrics } from '../../kernels/metrics.mjs';
export type { Quantizer } from '../../kernels/fast/index.ts';
export type { TensorSource } from './write-steps.ts';

export interface WriteGgufArgs {
  outPath: string;
  force?: boolean;
  kvs: GgufKv[];
  tensors: TensorSource[];
  threads?: number;
  /** Measure round-trip metrics of every quantized chunk (default true). */
  validate?: boolean;
  signal?: AbortSignal;
  /** F32 bytes per chunk (default 16 MiB: seven buffers of it at most, and no slower than 32 MiB on the benches); at least one row. */
  chunkBytes?: number;
  /** Use this quantizer instead of creating (and closing) a fast one. */
  quantizer?: Quantizer;
}

export interface WriteGgufResult {
  outputBytes: number;
  metrics: Record<string, ErrorMetrics>;
}

const DEFAULT_CHUNK_BYTES = 16 << 20;
const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

/** A step's input: rows read into memory, or (`region`) rows the workers read from the file themselves. */
interface Input extends Loaded { region?: FileRegion }

/** A step whose output is on its way: `outHeld` is the buffer it lands in (for copies, the input's). */
interface Started extends Loaded {
  step: Step;
  outHeld?: Uint8Array;
  result: Promise<CheckedQuantization & Partial<FileQuantization>>;
  /** False for copies, which have nothing to check or measure. */
  quantized?: boolean;
  /** Bytes the workers wrote into the output file themselves (file-to-file steps). */
  written?: number;
}

const NO_BYTES = new Uint8Array(0);

export async function* writeGguf(args: WriteGgufArgs): AsyncGenerator<PipelineEvent, WriteGgufResult> {
  const { signal } = args;
  const validate = args.validate ?? true;
  const checkAbort = () => {
    if (signal?.aborted) throw new CancelledError(`cancelled while writing ${args.outPath}`);
  };
  checkAbort();
  const atomic = await createAtomicFile(args.outPath, { force: args.force });
  yield* staleTempWarnings(atomic.staleRemoved);
  let writer: GgufWriter | undefined;
  let committed = false;
  let quantizer = args.quantizer;
  const ownQuantizer = !quantizer;
  let pool: Lender | undefined;
  /** File-to-file steps not finished yet: the workers write into the output's descriptor until they are. */
  const workersWriting = new Set<Promise<unknown>>();
  try {
    // Nothing to quantize (every tensor copied or widened): no worker pool is started.
    if (!quantizer && !args.tensors.some((t) => t.plan.quantize)) quantizer = referenceQuantizer();
    if (!quantizer) {
      const q = await openQuantizer(args.threads);
      quantizer = q.quantizer;
      if (q.warning) yield { type: 'warning', code: 'FAST_KERNELS_UNAVAILABLE', message: q.warning };
    }
    const q = quantizer;
    writer = await GgufWriter.open(atomic.tmpPath);
    for (const kv of args.kvs) writer.addKv(kv.key, valueOf(kv));
    for (const s of args.tensors) writer.addTensor(s.plan.name, s.plan.ne, s.plan.targetType);
    await writer.writeHeader();

    const metrics: Record<string, ErrorMetrics> = {};
    const count = args.tensors.length;
    const chunkBytes = args.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    // Every (tensor, row range) step in output order, overlapped three ways: step k+1 is read
    // while step k is quantized, and step k-1 is checked and written meanwhile, so the workers
    // always have the next chunk queued and never wait on the main thread. In use at once, at
    // most: the input being read, the input and output being quantized, the previous step's input
    // and output, and the output before that still being written: six buffers whatever the model size.
    const steps = stepsOf(args.tensors, chunkBytes);
    const lender = lenderFor(q, steps.reduce((m, s) => Math.max(m, stepBytes(args.tensors[s.index]!, s)), chunkBytes));
    pool = lender;
    // F32 rows of a local file go file to file: the workers read them and write the result at its
    // place in the output themselves, so this thread neither reads nor writes them.
    // Not with importance weights: file jobs run the plain kernels only.
    const viaFile = (src: TensorSource) => src.plan.quantize && !!q.quantizesFiles?.(src.plan.targetType) && src.imatrix === undefined;
    const load = (k: number): Promise<Input> | undefined => {
      const step = steps[k];
      if (!step) return undefined;
      const src = args.tensors[step.index]!;
      const region = viaFile(src) ? src.fileRowsF32?.(step.r) : undefined;
      if (region) return Promise.resolve({ data: NO_BYTES, region });
      // Workers find NaN/Inf while they read the input, so the main thread scans only what it does not quantize.
      const pending = loadStep(src, step, lender, !src.plan.quantize);
      pending.catch(() => undefined); // awaited later; never an unhandled rejection if we stop first
      return pending;
    };
    /** Starts quantizing a loaded step (nothing to do for copies); its result is awaited in `finish`. */
    const start = (step: Step, { data, held, region }: Input): Started => {
      const { plan: p } = args.tensors[step.index]!;
      const qw = stepImatrix(args.tensors[step.index]!, step);
      const nPerRow = p.ne[0]!;
      if (region) {
        const rowBytes = rowSize(ggmlType(p.targetType)!, nPerRow);
        const at = writer!.tensorDataPosition(p.name);
        const dst = { fd: at.fd, offset: at.offset + step.r * rowBytes };
        const result = q.quantizeFile!(p.targetType, region, step.n, nPerRow, dst, { measure: validate }).then((f) => ({ ...f, bytes: NO_BYTES }));
        const settled = result.catch(() => undefined); // awaited in finish; never an unhandled rejection if we stop first
        workersWriting.add(settled);
        void settled.then(() => workersWriting.delete(settled));
        return { step, data, result, quantized: true, written: step.n * rowBytes };
      }
      if (!(data instanceof Float32Array) || (!p.quantize && p.targetType === T.F32)) {
        // A copy: raw source bytes, or F32 rows that stay F32, written as they were read.
        const out = data instanceof Float32Array ? new Uint8Array(data.buffer, data.byteOffset, step.n * nPerRow * 4) : data;
        return { step, data, held, outHeld: held, result: Promise.resolve({ bytes: out, firstNonFinite: -1 }) };
      }
      const outHeld = lender.acquire();
      // Types whose quantizer takes no imatrix ignore it (in the pool, as ggml_quantize_chunk does).
      const result = q.quantizeChecked(p.targetType, data, step.n, nPerRow, outHeld, { measure: validate && p.quantize, imatrix: qw });
      result.catch(() => undefined); // awaited in finish; never an unhandled rejection if we stop first
      return { step, data, held, outHeld, result, quantized: true };
    };

    let pendingWrite: Promise<void> = Promise.resolve();
    let acc: RoundTripMetrics | undefined;
    let bytes = 0;
    /** Checks a started step's result, adds its metrics, hands it to the writer and reports it. */
    async function* finish({ step, data, held, outHeld, result, quantized, written }: Started): AsyncGenerator<PipelineEvent, void> {
      const { index, r, n, rowsTotal } = step;
      const p = args.tensors[index]!.plan;
      const ev = (state: TensorEvent['state'], extra: Partial<TensorEvent> = {}): TensorEvent => ({
        type: 'tensor', state, name: p.name, index, count, sourceType: typeName(p.sourceType), targetType: typeName(p.targetType),
        shape: p.ne, rowsTotal, ...extra,
      });
      if (r === 0) {
        yield ev('start', { rowsDone: 0 });
        acc = p.quantize && validate ? new RoundTripMetrics() : undefined;
        bytes = 0;
      }
      const { bytes: out, firstNonFinite: bad, metrics: measured, nonFiniteValue, invalidRow = -1 } = await result;
      if (quantized) {
        if (bad >= 0) throw nonFiniteError(p, r * p.ne[0]! + bad, nonFiniteValue ?? (data as Float32Array)[bad]!);
        if (invalidRow >= 0) throw quantOverflowError(p, r + invalidRow);
        if (written === undefined) checkQuantizedRows(p, out, r);
        if (acc && measured) acc.merge(measured);
        if (held) lender.release(held);
      }
      await pendingWrite;
      // Empty tensors have no bytes to stream (the writer steps over them). The output's buffer
      // goes back to the pool only once the write has finished with it.
      const release = () => { if (outHeld) lender.release(outHeld); };
      if (written !== undefined) pendingWrite = writer!.wroteTensorData(p.name, written);
      else if (out.length > 0) pendingWrite = writer!.writeTensorData(p.name, out).finally(release);
      else release();
      pendingWrite.catch(() => undefined);
      bytes += written ?? out.length;
      if (r + n < rowsTotal) {
        yield ev('progress', { rowsDone: r + n, bytes });
        return;
      }
      const done: Partial<TensorEvent> = { rowsDone: rowsTotal, bytes };
      if (acc) done.metrics = metrics[p.name] = acc.result();
      yield ev('done', done);
    }

    let next = load(0);
    let previous: Started | undefined;
    for (let k = 0; k <= steps.length; k++) {
      checkAbort();
      let current: Started | undefined;
      if (k < steps.length) {
        const loaded = await next!;
        next = load(k + 1);
        current = start(steps[k]!, loaded);
      }
      if (previous) yield* finish(previous);
      previous = current;
    }
    await pendingWrite;
    await writer.finish();
    writer = undefined;
    checkAbort();
    await atomic.commit();
    committed = true;
    return { outputBytes: (await stat(atomic.path)).size, metrics };
  } finally {
    // Also reached when the consumer stops early (generator.return()), where no catch runs.
    if (!committed) {
      pool?.abandon();
      // No worker may still be writing when the descriptor closes (a later open could reuse its number).
      await Promise.all(workersWriting);
      await writer?.abort().catch(() => undefined);
      await atomic.abort();
    }
    if (ownQuantizer) await quantizer?.close();
  }
}

function valueOf(kv: GgufKv): GgufValue {
  const { key: _key, ...value } = kv;
  return value as GgufValue;
}

/** Bytes of a tensor in the output (for plans and dry runs). */
export function plannedBytes(p: { ne: number[]; targetType: number }): number {
  return rowSize(ggmlType(p.targetType)!, p.ne[0]!) * p.ne.slice(1).reduce((a, b) => a * b, 1);
}
