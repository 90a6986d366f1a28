// One instance of the wasm kernels plus the copy-in/copy-out around them. Memory is sized once
// for a fixed piece of work (PIECE_ELEMS elements in, their bytes out) and reused for every call,
// so a worker's memory never grows with tensor size.
//
// Plain JS (types in wasm-kernels.d.mts) so pool workers can load it without a TypeScript loader:
// registering tsx costs ~200 ms per worker, more than everything else in its start-up.

/** Elements handled per kernel call: 64 Ki floats = 256 KiB in, at most 256 KiB out. */
export const PIECE_ELEMS = 65536;

/**
 * ggml type id → wasm export suffix and block geometry (the same numbers as kernels/ggml-types.ts,
 * which test/fast-kernels.test.ts checks). Counts passed to the exports are blocks (elements for
 * F16/BF16).
 */
const WASM_TYPES = new Map([
  [1, { name: 'F16', blockSize: 1, typeSize: 2 }],
  [30, { name: 'BF16', blockSize: 1, typeSize: 2 }],
  [8, { name: 'Q8_0', blockSize: 32, typeSize: 34 }],
  [2, { name: 'Q4_0', blockSize: 32, typeSize: 18 }],
  [3, { name: 'Q4_1', blockSize: 32, typeSize: 20 }],
  [6, { name: 'Q5_0', blockSize: 32, typeSize: 22 }],
  [7, { name: 'Q5_1', blockSize: 32, typeSize: 24 }],
  [10, { name: 'Q2_K', blockSize: 256, typeSize: 84 }],
  [11, { name: 'Q3_K', blockSize: 256, typeSize: 110 }],
  [12, { name: 'Q4_K', blockSize: 256, typeSize: 144 }],
  [13, { name: 'Q5_K', blockSize: 256, typeSize: 176 }],
  [14, { name: 'Q6_K', blockSize: 256, typeSize: 210 }],
]);

/** @param {number} typeId */
export function wasmSupports(typeId) {
  return WASM_TYPES.has(typeId);
}

/** @param {number} typeId */
export function wasmTypeInfo(typeId) {
  return WASM_TYPES.get(typeId);
}

/** @param {number} typeId */
function typeOrThrow(typeId) {
  const t = WASM_TYPES.get(typeId);
  if (!t) throw new RangeError(`no wasm kernel for ggml type ${typeId}`);
  return t;
}

export class WasmKernels {
  /** @param {WebAssembly.Module} module */
  constructor(module) {
    const instance = new WebAssembly.Instance(module, { env: { abort: () => { throw new Error('wasm abort'); } } });
    this.exports = instance.exports;
    this.memory = instance.exports.memory;
    const base = instance.exports.heapBase();
    this.inPtr = base;
    this.outPtr = base + PIECE_ELEMS * 4;
    const need = this.outPtr + PIECE_ELEMS * 4;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
  }

  /**
   * Quantizes `n` floats of `src` from element `srcOff` into `dst` at byte `dstOff`; `n` is whole
   * blocks of the type. With `check`, also returns the index (from srcOff) of the first NaN/±Inf
   * input, or -1; without, returns -1.
   * @param {number} typeId @param {Float32Array} src @param {number} srcOff @param {number} n
   * @param {Uint8Array} dst @param {number} dstOff @param {boolean} [check]
   */
  quantize(typeId, src, srcOff, n, dst, dstOff, check = false) {
    const t = typeOrThrow(typeId);
    const fn = this.exports[`quantize${t.name}`];
    const piece = PIECE_ELEMS - (PIECE_ELEMS % t.blockSize);
    const heapF32 = new Float32Array(this.memory.buffer, this.inPtr, PIECE_ELEMS);
    const heapU8 = new Uint8Array(this.memory.buffer);
    let bad = -1;
    for (let done = 0; done < n; done += piece) {
      const m = Math.min(piece, n - done);
      heapF32.set(src.subarray(srcOff + done, srcOff + done + m));
      if (check && bad < 0) {
        const r = this.exports.firstNonFinite(this.inPtr, m);
        if (r >= 0) bad = done + r;
      }
      const blocks = m / t.blockSize;
      fn(this.inPtr, this.outPtr, blocks);
      dst.set(heapU8.subarray(this.outPtr, this.outPtr + blocks * t.typeSize), dstOff + (done / t.blockSize) * t.typeSize);
    }
    return bad;
  }

  /**
   * Dequantizes `n` elements from `src` at byte `srcOff` into `dst` at element `dstOff`.
   * @param {number} typeId @param {Uint8Array} src @param {number} srcOff @param {number} n
   * @param {Float32Array} dst @param {number} dstOff
   */
  dequantize(typeId, src, srcOff, n, dst, dstOff) {
    const t = typeOrThrow(typeId);
    const fn = this.exports[`dequantize${t.name}`];
    const piece = PIECE_ELEMS - (PIECE_ELEMS % t.blockSize);
    const heapU8 = new Uint8Array(this.memory.buffer);
    const outF32 = new Float32Array(this.memory.buffer, this.outPtr, PIECE_ELEMS);
    for (let done = 0; done < n; done += piece) {
      const m = Math.min(piece, n - done);
      const blocks = m / t.blockSize;
      const off = srcOff + (done / t.blockSize) * t.typeSize;
      heapU8.set(src.subarray(off, off + blocks * t.typeSize), this.inPtr);
      fn(this.inPtr, this.outPtr, blocks);
      dst.set(outF32.subarray(0, m), dstOff + done);
    }
  }
}
