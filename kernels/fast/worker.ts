/**
 * A pool worker: one wasm instance (memory sized once, reused), running jobs on SharedArrayBuffer
 * views. Types without a wasm kernel run the JS reference (kernels/quant-table.ts) here instead,
 * so the pool never returns wrong bytes and never needs the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { WasmKernels, wasmSupports } from './wasm-kernels.ts';
import { quantKernel } from '../quant-table.ts';
import { ggmlType } from '../ggml-types.ts';
import type { InitMessage, JobMessage, WorkerReply } from './protocol.ts';

if (!parentPort) throw new Error('kernels/fast/worker.ts must run as a worker thread');
const port = parentPort;
let kernels: WasmKernels | undefined;
let useWasm = (typeId: number) => wasmSupports(typeId);

function run(job: JobMessage): void {
  const t = ggmlType(job.typeId);
  if (!t) throw new RangeError(`unknown ggml type ${job.typeId}`);
  const blocks = job.n / t.blockSize;
  if (job.kind === 'quantize') {
    const src = new Float32Array(job.src, job.srcOffset, job.n);
    const dst = new Uint8Array(job.dst, job.dstOffset, blocks * t.typeSize);
    if (useWasm(job.typeId)) return kernels!.quantize(job.typeId, src, 0, job.n, dst, 0);
    const ref = quantKernel(job.typeId)?.quantize;
    if (!ref) throw new RangeError(`no quantizer for ggml type ${t.name}`);
    return ref(src, dst, blocks, t.blockSize);
  }
  const src = new Uint8Array(job.src, job.srcOffset, blocks * t.typeSize);
  const dst = new Float32Array(job.dst, job.dstOffset, job.n);
  if (useWasm(job.typeId)) return kernels!.dequantize(job.typeId, src, 0, job.n, dst, 0);
  const ref = quantKernel(job.typeId)?.dequantize;
  if (!ref) throw new RangeError(`no dequantizer for ggml type ${t.name}`);
  return ref(src, dst, job.n);
}

port.on('message', (msg: InitMessage | JobMessage) => {
  if (msg.kind === 'init') {
    kernels = new WasmKernels(msg.module);
    if (msg.reference) useWasm = () => false;
    port.postMessage({ id: -1, ok: true, ready: true } satisfies WorkerReply);
    return;
  }
  try {
    run(msg);
    port.postMessage({ id: msg.id, ok: true } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
  }
});
