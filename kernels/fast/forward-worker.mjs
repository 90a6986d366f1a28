// A forward-pass worker: one wasm instance (kernels/wasm/assembly/matmul.ts + the dequantizers) whose
// memory holds one token block of x, one weight panel (raw and dequantized) and that panel's output.
// Types without a wasm dequantizer are dequantized by the JS reference into the same memory.
// Attention runs attentionHead per query head. Plain JS: the TypeScript loader is registered only
// when a job first needs a reference dequantizer.
import { parentPort } from 'node:worker_threads';
import { TOKEN_BLOCK, panelRowsFor } from './forward-geometry.mjs';
import { referenceLoader } from './reference-loader.mjs';

if (!parentPort) throw new Error('kernels/fast/forward-worker.mjs must run as a worker thread');
const port = parentPort;
/** @type {any} */ let ex;
let forceReference = false;
let heldX = ''; // `${xId}:${firstToken}` of the x block in wasm memory

/** The JS reference dequantizers for types the wasm module lacks (see reference-loader.mjs). */
const reference = referenceLoader('forward worker');

/** Grows wasm memory to `bytes` above heapBase; returns the base pointer. */
function reserve(bytes) {
  const base = ex.heapBase();
  const have = ex.memory.buffer.byteLength;
  if (base + bytes > have) {
    ex.memory.grow(Math.ceil((base + bytes - have) / 65536));
    heldX = '';
  }
  return base;
}

/** @param {import('./forward-protocol.ts').MatmulJob} job */
async function matmul(job) {
  const { nTokens, cols, rows, typeId, typeName, blockSize, typeSize, r0, r1 } = job;
  const rowBytes = (cols / blockSize) * typeSize;
  const dequant = typeId === 0 || forceReference ? undefined : ex[`dequantize${typeName}`];
  const ref = typeId !== 0 && !dequant ? await reference.load() : undefined;
  const refDequant = ref ? ref.quantKernel(typeId)?.dequantize : undefined;
  if (ref && !refDequant) throw new RangeError(`no dequantizer for ggml type ${typeId}`);
  const P = panelRowsFor(cols);
  const TB = Math.min(TOKEN_BLOCK, nTokens);
  // Layout: x block | dequantized panel | raw panel | output panel, each 16-byte aligned.
  const xBytes = TB * cols * 4, fBytes = P * cols * 4, rBytes = Math.ceil(P * rowBytes / 16) * 16, oBytes = TB * P * 4;
  const base = reserve(xBytes + fBytes + rBytes + oBytes);
  const xPtr = base, fPtr = xPtr + xBytes, rPtr = fPtr + fBytes, oPtr = rPtr + rBytes;
  const mem = ex.memory.buffer;
  const heapU8 = new Uint8Array(mem);
  const heapF32 = new Float32Array(mem);
  const srcX = new Uint8Array(job.x, job.xOffset, nTokens * cols * 4);
  const w = new Uint8Array(job.w, job.wOffset, (r1 - r0) * rowBytes); // rows r0..r1
  const out = new Float32Array(job.out, job.outOffset, nTokens * rows);
  const bias = job.bias ? new Float32Array(job.bias, job.biasOffset ?? 0, rows) : undefined;
  for (let t0 = 0; t0 < nTokens; t0 += TB) {
    const tb = Math.min(TB, nTokens - t0);
    const key = `${job.xId}:${t0}`;
    if (heldX !== key) {
      heapU8.set(srcX.subarray(t0 * cols * 4, (t0 + tb) * cols * 4), xPtr);
      heldX = key;
    }
    for (let p0 = r0; p0 < r1; p0 += P) {
      const pr = Math.min(P, r1 - p0);
      heapU8.set(w.subarray((p0 - r0) * rowBytes, (p0 - r0 + pr) * rowBytes), typeId === 0 ? fPtr : rPtr);
      if (dequant) dequant(rPtr, fPtr, (pr * cols) / blockSize);
      else if (refDequant) refDequant(new Uint8Array(mem, rPtr, pr * rowBytes), new Float32Array(mem, fPtr, pr * cols), pr * cols);
      ex.matmulPanelF32(xPtr, tb, cols, fPtr, pr, oPtr, pr);
      const o = oPtr >>> 2;
      for (let t = 0; t < tb; t++) {
        const dst = (t0 + t) * rows + p0, src = o + t * pr;
        if (bias) for (let i = 0; i < pr; i++) out[dst + i] = heapF32[src + i] + bias[p0 + i];
        else out.set(heapF32.subarray(src, src + pr), dst);
      }
    }
  }
}

/**
 * Heads [h0, h1): each kv head's k and v rows, then each query head's q rows, are gathered into
 * contiguous wasm memory for attentionHead (kernels/wasm/assembly/attention.ts); its output rows
 * are scattered back. Gathering is O(n·d) per head against O(n²·d) of compute.
 * @param {import('./forward-protocol.ts').AttentionJob} job
 */
function attention(job) {
  const { nTokens: n, nHead, nHeadKv, headDim: d } = job;
  const group = nHead / nHeadKv;
  const rowBytes = n * d * 4;
  const base = reserve(rowBytes * 4 + n * 4 + 64);
  heldX = ''; // this job overwrites the x block at the base of memory
  const kPtr = base, vPtr = kPtr + rowBytes, qPtr = vPtr + rowBytes, oPtr = qPtr + rowBytes, pPtr = oPtr + rowBytes;
  const heap = new Float32Array(ex.memory.buffer);
  const q = new Float32Array(job.q, job.qOffset, n * nHead * d);
  const out = new Float32Array(job.out, job.outOffset, n * nHead * d);
  const k = new Float32Array(job.k, job.kOffset, n * nHeadKv * d);
  const v = new Float32Array(job.v, job.vOffset, n * nHeadKv * d);
  const gather = (src, stride, head, ptr) => {
    for (let t = 0; t < n; t++) heap.set(src.subarray(t * stride + head * d, t * stride + head * d + d), (ptr >>> 2) + t * d);
  };
  let heldKv = -1;
  for (let h = job.h0; h < job.h1; h++) {
    const g = Math.floor(h / group);
    if (g !== heldKv) { gather(k, nHeadKv * d, g, kPtr); gather(v, nHeadKv * d, g, vPtr); heldKv = g; }
    gather(q, nHead * d, h, qPtr);
    ex.attentionHead(qPtr, kPtr, vPtr, oPtr, n, d, job.scale, job.softcap, job.window, pPtr);
    const o = oPtr >>> 2;
    for (let t = 0; t < n; t++) out.set(heap.subarray(o + t * d, o + t * d + d), t * nHead * d + h * d);
  }
}

port.on('message', async (msg) => {
  if (msg.kind === 'init') {
    ex = new WebAssembly.Instance(msg.module, { env: { abort: () => { throw new Error('wasm abort'); } } }).exports;
    forceReference = msg.reference;
    reference.setSource(msg.referenceUrl, msg.typescript);
    port.postMessage({ id: -1, ok: true, ready: true });
    return;
  }
  try {
    if (msg.kind === 'matmul') await matmul(msg);
    else if (msg.kind === 'attention') attention(msg);
    else throw new Error(`unknown forward job ${msg.kind}`);
    port.postMessage({ id: msg.id, ok: true, firstNonFinite: -1 });
  } catch (e) {
    port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
