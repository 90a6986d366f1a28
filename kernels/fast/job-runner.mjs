// The jobs of one pool thread: a wasm instance (memory sized once, reused) running quantize,
// dequantize and file-to-file jobs on SharedArrayBuffer views. Types without a wasm kernel run the
// JS reference (kernels/quant-table.ts) instead, so the pool never returns wrong bytes. Shared by
// the worker script (worker.mjs) and the pool's own thread when it works as one of the threads
// (pool.ts `callerWorks`). Plain JS: the reference is loaded only when a fallback job first
// arrives, from the URL the pool sends (compiled JS in dist/, or the TypeScript source through
// tsx's loader when the pool itself runs from source).
import { WasmKernels } from './wasm-kernels.mjs';
import { referenceLoader } from './reference-loader.mjs';
import { RoundTripMetrics } from '../metrics.mjs';
import { runFileJob } from './file-job.mjs';

/**
 * One thread's runner. `handle` resolves with the reply the pool expects (never rejects); one
 * runner must not be given a second job before the first one's reply: jobs share its scratch.
 * @param {string} who names the thread in errors
 */
export function createJobRunner(who) {
  /** @type {WasmKernels | undefined} */
  let kernels;
  let forceReference = false;
  const reference = referenceLoader(who);

  /** @type {Float32Array} */
  let roundTrip = new Float32Array(0);

  /**
   * A quantize job's round-trip metrics, measured here on the bytes just written, dequantized into
   * this thread's own scratch (`back`): no second trip through the pool and no buffer of the caller's.
   * @param {Float32Array} src @param {Float32Array} back
   */
  function measure(src, back) {
    const m = new RoundTripMetrics();
    m.add(src, back);
    return m;
  }

  /**
   * Runs one job: the first non-finite input index for checked quantize jobs (else -1), and the
   * round-trip metrics for quantize jobs that ask for them.
   * @param {import('./protocol.ts').JobMessage} job
   * @returns {Promise<{ firstNonFinite: number, metrics?: RoundTripMetrics }>}
   */
  async function run(job) {
    const { typeId, n } = job;
    // Geometry comes with the job (from the ggml type table), so no path needs the reference for it.
    const geometry = { name: job.typeName, blockSize: job.blockSize, typeSize: job.typeSize };
    const blocks = n / geometry.blockSize;
    const has = (names) => !forceReference && names.has(job.typeName);
    const imatrix = job.kind === 'quantize' ? job.imatrix : undefined;
    // A type may have wasm for some operations only (the i-quants: an imatrix quantizer and a
    // dequantizer, no plain quantizer); the reference serves the rest. It is loaded here, before
    // the work: after this await the job runs to the end without yielding, so jobs that arrive
    // meanwhile cannot interleave with it and share this thread's round-trip scratch.
    const wasmQuantize = imatrix !== undefined ? has(kernels.imatrixNames) : has(kernels.names);
    const wasmDequantize = has(kernels.dequantNames);
    const needsRef = (job.kind === 'quantize' && !wasmQuantize) || ((job.kind === 'dequantize' || job.measure) && !wasmDequantize);
    const ref = needsRef ? (await reference.load()).quantKernel(typeId) : undefined;
    const kernel = (what) => {
      if (!ref?.[what]) throw new RangeError(`no ${what === 'dequantize' ? 'dequantizer' : 'quantizer'} for ggml type ${job.typeName}`);
      return ref[what];
    };
    const dequantize = (src, back) => (wasmDequantize ? kernels.dequantize(geometry, src, 0, n, back, 0) : kernel('dequantize')(src, back, n));
    if (job.kind === 'quantize') {
      const src = new Float32Array(job.src, job.srcOffset, n);
      const dst = new Uint8Array(job.dst, job.dstOffset, blocks * geometry.typeSize);
      let firstNonFinite = -1;
      const scan = () => (job.check ? src.findIndex((v) => !Number.isFinite(v)) : -1);
      if (imatrix !== undefined && wasmQuantize) {
        firstNonFinite = kernels.quantizeImatrix(geometry, src, 0, n, dst, 0, imatrix, job.nPerRow, job.check);
      } else if (imatrix !== undefined) {
        // The pool sends an imatrix only for types with an imatrix quantizer.
        if (n % job.nPerRow !== 0) throw new RangeError(`${job.typeName}: ${n} values are not whole rows of ${job.nPerRow}`);
        kernel('quantizeImatrix')(src, dst, n / job.nPerRow, job.nPerRow, imatrix);
        firstNonFinite = scan();
      } else if (wasmQuantize) firstNonFinite = kernels.quantize(geometry, src, 0, n, dst, 0, job.check);
      else {
        kernel('quantize')(src, dst, blocks, geometry.blockSize);
        firstNonFinite = scan();
      }
      if (!job.measure) return { firstNonFinite };
      if (roundTrip.length < n) roundTrip = new Float32Array(n);
      const back = roundTrip.subarray(0, n);
      dequantize(dst, back);
      return { firstNonFinite, metrics: measure(src, back) };
    }
    dequantize(new Uint8Array(job.src, job.srcOffset, blocks * geometry.typeSize), new Float32Array(job.dst, job.dstOffset, n));
    return { firstNonFinite: -1 };
  }


  return {
    /** @param {import('./protocol.ts').InitMessage} msg */
    init(msg) {
      kernels = new WasmKernels(msg.module);
      forceReference = msg.reference;
      reference.setSource(msg.referenceUrl, msg.typescript);
    },
    /**
     * @param {import('./protocol.ts').JobMessage | import('./protocol.ts').FileJobMessage} msg
     * @returns {Promise<import('./protocol.ts').WorkerReply>}
     */
    async handle(msg) {
      try {
        if (msg.kind === 'quantizeFile') return { id: msg.id, ok: true, ...runFileJob(kernels, msg) };
        const { firstNonFinite, metrics } = await run(msg);
        return { id: msg.id, ok: true, firstNonFinite, metrics };
      } catch (e) {
        return { id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    },
  };
}
