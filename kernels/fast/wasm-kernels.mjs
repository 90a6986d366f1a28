// One instance of the wasm kernels plus the copy-in/copy-out around them. Memory is sized once
// for a fixed piece of work (PIECE_ELEMS elements in, their bytes out) and reused for every call,
// so a worker's memory never grows with tensor size.
//
// Plain JS (types in wasm-kernels.d.mts) so pool workers can load it without a TypeScript loader:
// registering tsx costs ~200 ms per worker, more than everything else in its start-up.

/** Elements handled per kernel call: 64 Ki floats = 256 KiB in, at most 256 KiB out. */
export const PIECE_ELEMS = 65536;

/**
 * Elements per piece of a file job (file-job.mjs), which reads and writes each piece with one
 * syscall: 256 Ki floats = 1 MiB in. Bigger than PIECE_ELEMS because each read and, more, each
 * write costs the kernel a fixed amount (ext4: ~10 µs a write call, measured): with 4× fewer calls
 * a worker's share of a 415 MB F32 model took ~10-15% less CPU, even though a piece's three regions
 * then outgrow the L2 cache. The instance's regions are this size.
 */
export const FILE_PIECE_ELEMS = 262144;

/** Float64 in the wasm round-trip metrics state (RoundTripMetrics.fromState). */
export const METRICS_STATE = 13;

/**
 * The types the module has kernels for: every `quantize<NAME>` export with a matching
 * `dequantize<NAME>`, by ggml type name. Block geometry is not written here: callers pass the
 * type's row of the ggml table (kernels/ggml-types.ts, sizes from kernels/block-layouts.ts).
 * @param {WebAssembly.Module} module
 * @returns {Set<string>}
 */
export function wasmKernelNames(module) {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return new Set([...names].filter((n) => n.startsWith('quantize') && names.has(`de${n}`)).map((n) => n.slice('quantize'.length)));
}

/**
 * The types with an imatrix quantizer in the module: a `quantize<NAME>Imatrix(x, y, nrows,
 * nPerRow, qw)` export over whole rows. A type may have one without a plain kernel pair (its
 * other work then runs the JS reference).
 * @param {WebAssembly.Module} module
 * @returns {Set<string>}
 */
export function wasmImatrixNames(module) {
  const re = /^quantize(.+)Imatrix$/;
  return new Set(WebAssembly.Module.exports(module).map((e) => re.exec(e.name)?.[1]).filter((n) => n !== undefined));
}

/**
 * The types with a `dequantize<NAME>` export: with or without a quantizer of the same name (the
 * i-quants have only an imatrix quantizer).
 * @param {WebAssembly.Module} module
 * @returns {Set<string>}
 */
export function wasmDequantNames(module) {
  return new Set(WebAssembly.Module.exports(module).filter((e) => e.name.startsWith('dequantize')).map((e) => e.name.slice('dequantize'.length)));
}

/** @typedef {{ name: string, blockSize: number, typeSize: number }} WasmType */

export class WasmKernels {
  /** @param {'quantize' | 'dequantize'} op @param {WasmType} t */
  kernel(op, t) {
    const fn = this.exports[`${op}${t.name}`];
    if (typeof fn !== 'function') throw new RangeError(`no wasm kernel for ggml type ${t.name}`);
    return fn;
  }

  /** @param {WebAssembly.Module} module */
  constructor(module) {
    // A kernel's abort(message) (the i-quant kernels, where llama.cpp's GGML_ASSERT fires) throws
    // a RangeError with its message: an AssemblyScript string, UTF-16 with its byte length before it.
    /** @type {WebAssembly.Memory | undefined} */
    let mem;
    const text = (/** @type {number} */ p) => {
      if (!mem || !p) return 'wasm abort';
      const bytes = new DataView(mem.buffer).getUint32(p - 4, true);
      return String.fromCharCode(...new Uint16Array(mem.buffer.slice(p, p + bytes)));
    };
    const instance = new WebAssembly.Instance(module, { env: { abort: (/** @type {number} */ msg) => { throw new RangeError(text(msg)); } } });
    mem = /** @type {WebAssembly.Memory} */ (instance.exports.memory);
    this.exports = instance.exports;
    this.names = wasmKernelNames(module);
    this.imatrixNames = wasmImatrixNames(module);
    this.dequantNames = wasmDequantNames(module);
    this.memory = instance.exports.memory;
    const base = instance.exports.heapBase();
    // Regions of FILE_PIECE_ELEMS floats (≥ PIECE_ELEMS, the copy-in loops' piece).
    this.inPtr = base;
    this.outPtr = base + FILE_PIECE_ELEMS * 4;
    // A piece's round trip (dequantized output, for metrics) when a job measures in place (file-job.mjs).
    this.backPtr = this.outPtr + FILE_PIECE_ELEMS * 4;
    // …and the job's metrics accumulator (roundTripAccumulate: 13 float64).
    this.metricsPtr = this.backPtr + FILE_PIECE_ELEMS * 4;
    const need = this.metricsPtr + METRICS_STATE * 8;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
  }

  /**
   * Quantizes `n` floats of `src` from element `srcOff` into `dst` at byte `dstOff`; `n` is whole
   * blocks of the type. With `check`, also returns the index (from srcOff) of the first NaN/±Inf
   * input, or -1; without, returns -1.
   * @param {WasmType} t @param {Float32Array} src @param {number} srcOff @param {number} n
   * @param {Uint8Array} dst @param {number} dstOff @param {boolean} [check]
   */
  quantize(t, src, srcOff, n, dst, dstOff, check = false) {
    const fn = this.kernel('quantize', t);
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
   * Quantizes whole rows (`n` a multiple of `nPerRow`, src[srcOff] the start of a row) with the
   * importance weights `imatrix[0..nPerRow)`, by the type's `quantize<NAME>Imatrix` export. Pieces
   * are whole rows (some types take σ² over a whole row): as many as fit in PIECE_ELEMS, or one
   * row when rows are longer (then in a region above the imatrix, grown for it). `check` as for quantize.
   * @param {WasmType} t @param {Float32Array} src @param {number} srcOff @param {number} n
   * @param {Uint8Array} dst @param {number} dstOff @param {Float32Array} imatrix @param {number} nPerRow
   * @param {boolean} [check]
   */
  quantizeImatrix(t, src, srcOff, n, dst, dstOff, imatrix, nPerRow, check = false) {
    const fn = this.exports[`quantize${t.name}Imatrix`];
    if (typeof fn !== 'function') throw new RangeError(`no wasm imatrix kernel for ggml type ${t.name}`);
    if (nPerRow <= 0 || nPerRow % t.blockSize !== 0 || n % nPerRow !== 0) throw new RangeError(`${t.name}: ${n} values are not whole rows of ${nPerRow}`);
    if (imatrix.length < nPerRow) throw new RangeError(`${t.name}: importance matrix has ${imatrix.length} values, need ${nPerRow}`);
    const rowsPerPiece = Math.max(1, Math.floor(PIECE_ELEMS / nPerRow));
    const cap = rowsPerPiece * nPerRow;
    const qwPtr = this.outPtr + PIECE_ELEMS * 4;
    let inPtr = this.inPtr, outPtr = this.outPtr;
    if (cap > PIECE_ELEMS) {
      inPtr = qwPtr + Math.ceil(nPerRow / 4) * 16;
      outPtr = inPtr + cap * 4;
    }
    const need = Math.max(qwPtr + nPerRow * 4, outPtr + cap * 4);
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
    new Float32Array(this.memory.buffer, qwPtr, nPerRow).set(imatrix.subarray(0, nPerRow));
    const heapF32 = new Float32Array(this.memory.buffer, inPtr, cap);
    const heapU8 = new Uint8Array(this.memory.buffer);
    const rowBytes = (nPerRow / t.blockSize) * t.typeSize;
    let bad = -1;
    for (let done = 0; done < n; done += cap) {
      const m = Math.min(cap, n - done);
      heapF32.set(src.subarray(srcOff + done, srcOff + done + m));
      if (check && bad < 0) {
        const r = this.exports.firstNonFinite(inPtr, m);
        if (r >= 0) bad = done + r;
      }
      const rows = m / nPerRow;
      fn(inPtr, outPtr, rows, nPerRow, qwPtr);
      dst.set(heapU8.subarray(outPtr, outPtr + rows * rowBytes), dstOff + (done / nPerRow) * rowBytes);
    }
    return bad;
  }

  /**
   * Dequantizes `n` elements from `src` at byte `srcOff` into `dst` at element `dstOff`.
   * @param {WasmType} t @param {Uint8Array} src @param {number} srcOff @param {number} n
   * @param {Float32Array} dst @param {number} dstOff
   */
  dequantize(t, src, srcOff, n, dst, dstOff) {
    const fn = this.kernel('dequantize', t);
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
