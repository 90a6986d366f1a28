// A forward-pass worker: one wasm instance (kernels/wasm/assembly/matmul.ts + the dequantizers) whose
// memory holds one token block of x, one weight panel (raw and dequantized) and that panel's output.
// Types without a wasm dequantizer are dequantized by the JS reference into the same memory;
// attention runs the reference (kernels/forward/attention.ts) on the shared arrays. Plain JS: the
// TypeScript loader is registered only when a job first needs the reference.
import { parentPort } from 'node:worker_threads';
import { wasmTypeInfo } from './wasm-kernels.mjs';
import { TOKEN_BLOCK, panelRowsFor } from './forward-geometry.mjs';

if (!parentPort) throw new Error('kernels/fast/forward-worker.mjs must run as a worker thread');
const port = parentPort;
/** @type {any} */ let ex;
let forceReference = false;
/** @type {Promise<any> | undefined} */ let reference;
let heldX = ''; // `${xId}:${firstToken}` of the x block in wasm memory

function loadReference() {
  reference ??= (async () => {
    const { register } = await import('tsx/esm/api');
    register();
    const [table, attn] = await Promise.all([import('../quant-table.ts'), import('../forward/attention.ts')]);
    return { quantKernel: table.quantKernel, attentionHeads: attn.attentionHeads };
  })();
  return reference;
}

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
  const { nTokens, cols, rows, typeId, blockSize, typeSize, r0, r1 } = job;
  const rowBytes = (cols / blockSize) * typeSize;
  const info = forceReference ? undefined : wasmTypeInfo(typeId);
  const dequant = typeId === 0 || forceReference ? undefined : info ? ex[`dequantize${info.name}`] : undefined;
  const ref = typeId !== 0 && !dequant ? await loadReference() : undefined;
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
  const w = new Uint8Array(job.w, job.wOffset, rows * rowBytes);
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
      heapU8.set(w.subarray(p0 * rowBytes, (p0 + pr) * rowBytes), typeId === 0 ? fPtr : rPtr);
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

/** @param {import('./forward-protocol.ts').AttentionJob} job */
async function attention(job) {
  const { attentionHeads } = await loadReference();
  const { nTokens, nHead, nHeadKv, headDim } = job;
  const q = new Float32Array(job.q, job.qOffset, nTokens * nHead * headDim);
  const out = new Float32Array(job.out, job.outOffset, nTokens * nHead * headDim);
  const k = new Float32Array(job.k, job.kOffset, nTokens * nHeadKv * headDim);
  const v = new Float32Array(job.v, job.vOffset, nTokens * nHeadKv * headDim);
  const opts = { softcap: job.softcap || undefined, window: job.window || undefined };
  attentionHeads(q, k, v, nTokens, nHead, nHeadKv, headDim, job.scale, out, opts, job.h0, job.h1);
}

port.on('message', async (msg) => {
  if (msg.kind === 'init') {
    ex = new WebAssembly.Instance(msg.module, { env: { abort: () => { throw new Error('wasm abort'); } } }).exports;
    forceReference = msg.reference;
    port.postMessage({ id: -1, ok: true, ready: true });
    return;
  }
  try {
    if (msg.kind === 'matmul') await matmul(msg);
    else if (msg.kind === 'attention') await attention(msg);
    else throw new Error(`unknown forward job ${msg.kind}`);
    port.postMessage({ id: msg.id, ok: true, firstNonFinite: -1 });
  } catch (e) {
    port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
