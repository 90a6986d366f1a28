// A pool worker: one wasm instance (memory sized once, reused), running jobs on SharedArrayBuffer
// views. Types without a wasm kernel run the JS reference (kernels/quant-table.ts) here instead, so
// the pool never returns wrong bytes and never needs the main thread. Plain JS: the reference is
// loaded only when a fallback job first arrives, from the URL the pool sends (compiled JS in
// dist/, or the TypeScript source through tsx's loader when the pool itself runs from source).
import { parentPort } from 'node:worker_threads';
import { WasmKernels } from './wasm-kernels.mjs';
import { referenceLoader } from './reference-loader.mjs';
import { RoundTripMetrics } from '../metrics.mjs';

if (!parentPort) throw new Error('kernels/fast/worker.mjs must run as a worker thread');
const port = parentPort;
/** @type {WasmKernels | undefined} */
let kernels;
let forceReference = false;
const reference = referenceLoader('kernel worker');

/** @type {Float32Array} */
let roundTrip = new Float32Array(0);

/**
 * A quantize job's round-trip metrics, measured here on the bytes just written: dequantized into
 * this worker's own scratch, so no second trip through the pool and no buffer of the caller's.
 * @param {Float32Array} src @param {Uint8Array} dst @param {number} n @param {(back: Float32Array) => void} dequantize
 */
function measure(src, dst, n, dequantize) {
  if (roundTrip.length < n) roundTrip = new Float32Array(n);
  const back = roundTrip.subarray(0, n);
  dequantize(back);
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
  const wasm = !forceReference && kernels.names.has(job.typeName);
  const imatrix = job.kind === 'quantize' ? job.imatrix : undefined;
  const wasmImatrix = imatrix !== undefined && !forceReference && kernels.imatrixNames.has(job.typeName);
  // The reference serves what wasm lacks: the whole type, or only its imatrix quantizer.
  const ref = wasm && (imatrix === undefined || wasmImatrix) ? undefined : await reference.load();
  const t = ref ? ref.quantKernel(typeId)?.type : undefined;
  const geometry = wasm ? { name: job.typeName, blockSize: job.blockSize, typeSize: job.typeSize } : t;
  if (!geometry) throw new RangeError(`no kernel for ggml type ${typeId}`);
  const blocks = n / geometry.blockSize;
  if (job.kind === 'quantize') {
    const src = new Float32Array(job.src, job.srcOffset, n);
    const dst = new Uint8Array(job.dst, job.dstOffset, blocks * geometry.typeSize);
    let firstNonFinite = -1;
    const refImatrix = imatrix && !wasmImatrix ? ref.quantKernel(typeId)?.quantizeImatrix : undefined;
    if (wasmImatrix) firstNonFinite = kernels.quantizeImatrix(geometry, src, 0, n, dst, 0, imatrix, job.nPerRow, job.check);
    else if (refImatrix) {
      if (n % job.nPerRow !== 0) throw new RangeError(`${t.name}: ${n} values are not whole rows of ${job.nPerRow}`);
      refImatrix(src, dst, n / job.nPerRow, job.nPerRow, imatrix);
      if (job.check) firstNonFinite = src.findIndex((v) => !Number.isFinite(v));
    } else if (wasm) firstNonFinite = kernels.quantize(geometry, src, 0, n, dst, 0, job.check);
    else {
      const q = ref.quantKernel(typeId)?.quantize;
      if (!q) throw new RangeError(`no quantizer for ggml type ${t.name}`);
      q(src, dst, blocks, geometry.blockSize);
      if (job.check) firstNonFinite = src.findIndex((v) => !Number.isFinite(v));
    }
    if (!job.measure) return { firstNonFinite };
    const refDq = wasm ? undefined : ref.quantKernel(typeId)?.dequantize;
    if (!wasm && !refDq) throw new RangeError(`no dequantizer for ggml type ${t.name} to measure the round trip`);
    const dq = wasm ? (back) => kernels.dequantize(geometry, dst, 0, n, back, 0) : (back) => refDq(dst, back, n);
    return { firstNonFinite, metrics: measure(src, dst, n, dq) };
  }
  const src = new Uint8Array(job.src, job.srcOffset, blocks * geometry.typeSize);
  const dst = new Float32Array(job.dst, job.dstOffset, n);
  if (wasm) kernels.dequantize(geometry, src, 0, n, dst, 0);
  else {
    const dq = ref.quantKernel(typeId)?.dequantize;
    if (!dq) throw new RangeError(`no dequantizer for ggml type ${t.name}`);
    dq(src, dst, n);
  }
  return { firstNonFinite: -1 };
}

port.on('message', async (msg) => {
  if (msg.kind === 'init') {
    kernels = new WasmKernels(msg.module);
    forceReference = msg.reference;
    reference.setSource(msg.referenceUrl, msg.typescript);
    port.postMessage({ id: -1, ok: true, ready: true });
    return;
  }
  try {
    const { firstNonFinite, metrics } = await run(msg);
    port.postMessage({ id: msg.id, ok: true, firstNonFinite, metrics });
  } catch (e) {
    port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
