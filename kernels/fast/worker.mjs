// A pool worker: one wasm instance (memory sized once, reused), running jobs on SharedArrayBuffer
// views. Types without a wasm kernel run the JS reference (kernels/quant-table.ts) here instead, so
// the pool never returns wrong bytes and never needs the main thread. Plain JS: the reference is
// loaded only when a fallback job first arrives, from the URL the pool sends (compiled JS in
// dist/, or the TypeScript source through tsx's loader when the pool itself runs from source).
import { parentPort } from 'node:worker_threads';
import { WasmKernels, wasmSupports } from './wasm-kernels.mjs';

if (!parentPort) throw new Error('kernels/fast/worker.mjs must run as a worker thread');
const port = parentPort;
/** @type {WasmKernels | undefined} */
let kernels;
let forceReference = false;
/** @type {Promise<any> | undefined} */
let reference;
/** @type {{ url: string, typescript: boolean } | undefined} */
let referenceSource;

function loadReference() {
  reference ??= (async () => {
    if (!referenceSource) throw new Error('kernel worker: reference table requested before init');
    if (referenceSource.typescript) {
      const { register } = await import('tsx/esm/api');
      register();
    }
    return import(referenceSource.url);
  })();
  return reference;
}

/**
 * Runs one job; returns the first non-finite input index for checked quantize jobs, else -1.
 * @param {import('./protocol.ts').JobMessage} job
 */
async function run(job) {
  const { typeId, n } = job;
  const wasm = !forceReference && wasmSupports(typeId);
  const ref = wasm ? undefined : await loadReference();
  const t = ref ? ref.quantKernel(typeId)?.type : undefined;
  const geometry = wasm ? { blockSize: job.blockSize, typeSize: job.typeSize } : t;
  if (!geometry) throw new RangeError(`no kernel for ggml type ${typeId}`);
  const blocks = n / geometry.blockSize;
  if (job.kind === 'quantize') {
    const src = new Float32Array(job.src, job.srcOffset, n);
    const dst = new Uint8Array(job.dst, job.dstOffset, blocks * geometry.typeSize);
    if (wasm) return kernels.quantize(typeId, src, 0, n, dst, 0, job.check);
    const q = ref.quantKernel(typeId)?.quantize;
    if (!q) throw new RangeError(`no quantizer for ggml type ${t.name}`);
    q(src, dst, blocks, geometry.blockSize);
    return job.check ? src.findIndex((v) => !Number.isFinite(v)) : -1;
  }
  const src = new Uint8Array(job.src, job.srcOffset, blocks * geometry.typeSize);
  const dst = new Float32Array(job.dst, job.dstOffset, n);
  if (wasm) {
    kernels.dequantize(typeId, src, 0, n, dst, 0);
    return -1;
  }
  const dq = ref.quantKernel(typeId)?.dequantize;
  if (!dq) throw new RangeError(`no dequantizer for ggml type ${t.name}`);
  dq(src, dst, n);
  return -1;
}

port.on('message', async (msg) => {
  if (msg.kind === 'init') {
    kernels = new WasmKernels(msg.module);
    forceReference = msg.reference;
    referenceSource = { url: msg.referenceUrl, typescript: msg.typescript };
    port.postMessage({ id: -1, ok: true, ready: true });
    return;
  }
  try {
    const firstNonFinite = await run(msg);
    port.postMessage({ id: msg.id, ok: true, firstNonFinite });
  } catch (e) {
    port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
