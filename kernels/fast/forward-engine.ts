/**
 * The fast MatmulEngine: matmul and attention split across the worker pool (kernels/fast/pool.ts
 * running forward-worker.mjs) on shared memory, with the wasm SIMD f32 tile kernel
 * (kernels/wasm/assembly/matmul.ts) over weight panels dequantized in wasm. Matmul splits output
 * rows, attention splits heads; results equal the reference engine within the tolerances that
 * test/forward-fast.test.ts states.
 */
import { availableParallelism } from 'node:os';
import { ggmlType, rowSize } from '../ggml-types.ts';
import { checkMatmulArgs } from '../forward/matmul-ref.ts';
import { checkAttentionArgs } from '../forward/attention.ts';
import type { MatmulEngine } from '../forward/engine.ts';
import { loadWasmModule } from './wasm-module.ts';
import { WorkerPool } from './pool.ts';
import { panelRowsFor } from './forward-geometry.mjs';
import type { AttentionJob, ForwardJob, MatmulJob } from './forward-protocol.ts';

const WORKER_URL = new URL('./forward-worker.mjs', import.meta.url);

/** Bytes of non-shared weights staged at once (whole panels). */
const STAGE_BYTES = 16 << 20;

/** Grow-only shared staging for arrays that are not on shared memory already. */
class Staging {
  private buf = new SharedArrayBuffer(0);
  /** Shared view of `a`'s bytes: `a` itself if shared, else a copy (when `copy`) in this staging buffer. */
  place(a: ArrayBufferView, bytes: number, copy: boolean): { buf: SharedArrayBuffer; off: number } {
    if (a.buffer instanceof SharedArrayBuffer) return { buf: a.buffer, off: a.byteOffset };
    if (this.buf.byteLength < bytes) this.buf = new SharedArrayBuffer(Math.ceil(bytes / 65536) * 65536);
    if (copy) new Uint8Array(this.buf, 0, bytes).set(new Uint8Array(a.buffer, a.byteOffset, bytes));
    return { buf: this.buf, off: 0 };
  }
}

export interface FastEngineOptions {
  /** Worker threads; default os.availableParallelism(). */
  threads?: number;
  /** Run the JS reference dequantizers in the workers instead of wasm (to test the fallback). */
  reference?: boolean;
}

/** A Uint8Array on shared memory holding a copy of `bytes`: weights placed here are never restaged. */
export function toSharedBytes(bytes: Uint8Array): Uint8Array {
  const s = new Uint8Array(new SharedArrayBuffer(bytes.length));
  s.set(bytes);
  return s;
}

export async function createFastEngine(opts: FastEngineOptions = {}): Promise<MatmulEngine> {
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  const pool = await WorkerPool.start<ForwardJob>(threads, loadWasmModule(), opts.reference ?? false, WORKER_URL);
  const stage = { x: new Staging(), w: new Staging(), out: new Staging(), bias: new Staging(), q: new Staging(), k: new Staging(), v: new Staging() };
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  let nextXId = 0;
  // Calls share the staging buffers, so they run one after another.
  const serial = (fn: () => Promise<void>): Promise<void> => {
    if (closed) return Promise.reject(new Error('forward engine is closed'));
    const r = chain.then(fn);
    chain = r.catch(() => undefined);
    return r;
  };

  const matmul = async (x: Float32Array, nTokens: number, w: Parameters<MatmulEngine['matmul']>[2], out: Float32Array, bias?: Float32Array): Promise<void> => {
    checkMatmulArgs(x, nTokens, w, out, bias);
    if (nTokens === 0 || w.rows === 0) return;
    const t = ggmlType(w.type)!;
    const rb = rowSize(t, w.cols);
    const xs = stage.x.place(x, nTokens * w.cols * 4, true);
    const os = stage.out.place(out, nTokens * w.rows * 4, false);
    const bs = bias ? stage.bias.place(bias, w.rows * 4, true) : undefined;
    const P = panelRowsFor(w.cols);
    const xId = nextXId++;
    // Weights on ordinary memory are staged a slice of whole panels (≤ STAGE_BYTES) at a time, so a
    // large matrix (an output head) never needs a second full copy; shared weights go in one go.
    const shared = w.data.buffer instanceof SharedArrayBuffer;
    const sliceRows = shared ? w.rows : Math.max(P, Math.floor(STAGE_BYTES / rb / P) * P);
    for (let s0 = 0; s0 < w.rows; s0 += sliceRows) {
      const s1 = Math.min(w.rows, s0 + sliceRows);
      const slice = shared ? w.data : w.data.subarray(s0 * rb, s1 * rb);
      const ws = stage.w.place(slice, (s1 - s0) * rb, true);
      // Byte offset of weight row r in the staged (or shared) memory.
      const rowAt = (r: number) => ws.off + (shared ? r : r - s0) * rb;
      // Row ranges: whole panels, about 3 jobs per thread so a slow worker's tail is short.
      const panels = Math.ceil((s1 - s0) / P);
      const perJob = Math.max(1, Math.ceil(panels / (threads * 3)));
      const jobs: MatmulJob[] = [];
      for (let p = 0; p < panels; p += perJob) {
        const r0 = s0 + p * P;
        jobs.push({
          kind: 'matmul', xId, x: xs.buf, xOffset: xs.off, nTokens, cols: w.cols, rows: w.rows,
          typeId: w.type, blockSize: t.blockSize, typeSize: t.typeSize, w: ws.buf, wOffset: rowAt(r0),
          r0, r1: Math.min(s1, s0 + (p + perJob) * P), out: os.buf, outOffset: os.off,
          ...(bs ? { bias: bs.buf, biasOffset: bs.off } : {}),
        });
      }
      await pool.runAll(jobs);
    }
    if (!(out.buffer instanceof SharedArrayBuffer)) out.set(new Float32Array(os.buf, os.off, nTokens * w.rows));
  };

  const attention: MatmulEngine['attention'] = async (q, k, v, nTokens, nHead, nHeadKv, headDim, scale, out, o = {}) => {
    checkAttentionArgs(q, k, v, nTokens, nHead, nHeadKv, headDim, out);
    if (nTokens === 0) return;
    const qBytes = nTokens * nHead * headDim * 4, kvBytes = nTokens * nHeadKv * headDim * 4;
    const qs = stage.q.place(q, qBytes, true), ks = stage.k.place(k, kvBytes, true), vs = stage.v.place(v, kvBytes, true);
    const os = stage.out.place(out, qBytes, false);
    const perJob = Math.max(1, Math.ceil(nHead / (threads * 2)));
    const jobs: AttentionJob[] = [];
    for (let h = 0; h < nHead; h += perJob) {
      jobs.push({
        kind: 'attention', q: qs.buf, qOffset: qs.off, k: ks.buf, kOffset: ks.off, v: vs.buf, vOffset: vs.off,
        out: os.buf, outOffset: os.off, nTokens, nHead, nHeadKv, headDim, scale,
        softcap: o.softcap ?? 0, window: o.window ?? 0, h0: h, h1: Math.min(nHead, h + perJob),
      });
    }
    await pool.runAll(jobs);
    if (!(out.buffer instanceof SharedArrayBuffer)) out.set(new Float32Array(os.buf, os.off, nTokens * nHead * headDim));
  };

  return {
    name: opts.reference ? 'fast-ref-dequant' : 'fast',
    threads,
    matmul: (x, nTokens, w, out, bias) => serial(() => matmul(x, nTokens, w, out, bias)),
    attention: (...args) => serial(() => attention(...args)),
    close: async () => {
      if (closed) return;
      closed = true;
      await chain;
      await pool.close();
    },
  };
}
