/**
 * One instance of the wasm kernels plus the copy-in/copy-out around them. Memory is sized once
 * for a fixed piece of work (PIECE_ELEMS elements in, their bytes out) and reused for every call,
 * so a worker's memory never grows with tensor size.
 */
import { ggmlType } from '../ggml-types.ts';
import { Wasm, type WasmMemory, type WasmModule } from './wasm-api.ts';

/** Elements handled per kernel call: 64 Ki floats = 256 KiB in, at most 256 KiB out. */
export const PIECE_ELEMS = 65536;

interface WasmTypeKernels { quantize: string; dequantize: string }

/** ggml type id → wasm export names. Counts passed are blocks (elements for F16/BF16). */
const WASM_EXPORTS = new Map<number, WasmTypeKernels>([
  [1, { quantize: 'quantizeF16', dequantize: 'dequantizeF16' }],
  [30, { quantize: 'quantizeBF16', dequantize: 'dequantizeBF16' }],
  [8, { quantize: 'quantizeQ8_0', dequantize: 'dequantizeQ8_0' }],
  [2, { quantize: 'quantizeQ4_0', dequantize: 'dequantizeQ4_0' }],
  [3, { quantize: 'quantizeQ4_1', dequantize: 'dequantizeQ4_1' }],
  [6, { quantize: 'quantizeQ5_0', dequantize: 'dequantizeQ5_0' }],
  [7, { quantize: 'quantizeQ5_1', dequantize: 'dequantizeQ5_1' }],
  [10, { quantize: 'quantizeQ2_K', dequantize: 'dequantizeQ2_K' }],
  [11, { quantize: 'quantizeQ3_K', dequantize: 'dequantizeQ3_K' }],
  [12, { quantize: 'quantizeQ4_K', dequantize: 'dequantizeQ4_K' }],
  [13, { quantize: 'quantizeQ5_K', dequantize: 'dequantizeQ5_K' }],
  [14, { quantize: 'quantizeQ6_K', dequantize: 'dequantizeQ6_K' }],
]);

export function wasmSupports(typeId: number): boolean {
  return WASM_EXPORTS.has(typeId);
}

type Kernel = (src: number, dst: number, count: number) => void;

export class WasmKernels {
  private readonly memory: WasmMemory;
  private readonly exports: Record<string, unknown>;
  private readonly inPtr: number;
  private readonly outPtr: number;

  constructor(module: WasmModule) {
    const instance = new Wasm.Instance(module, { env: { abort: () => { throw new Error('wasm abort'); } } });
    this.exports = instance.exports;
    this.memory = this.exports.memory as WasmMemory;
    const base = (this.exports.heapBase as () => number)();
    this.inPtr = base;
    this.outPtr = base + PIECE_ELEMS * 4;
    const need = this.outPtr + PIECE_ELEMS * 4;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
  }

  private kernel(name: string): Kernel {
    return this.exports[name] as Kernel;
  }

  /**
   * Quantizes `n` floats of `src` starting at element `srcOff` into `dst` at byte `dstOff`.
   * `n` must be whole blocks of the type.
   */
  quantize(typeId: number, src: Float32Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void {
    const names = WASM_EXPORTS.get(typeId);
    const t = ggmlType(typeId);
    if (!names || !t) throw new RangeError(`no wasm quantizer for ggml type ${typeId}`);
    const fn = this.kernel(names.quantize);
    const piece = PIECE_ELEMS - (PIECE_ELEMS % t.blockSize);
    const heapF32 = new Float32Array(this.memory.buffer, this.inPtr, PIECE_ELEMS);
    const heapU8 = new Uint8Array(this.memory.buffer);
    for (let done = 0; done < n; done += piece) {
      const m = Math.min(piece, n - done);
      heapF32.set(src.subarray(srcOff + done, srcOff + done + m));
      const blocks = m / t.blockSize;
      fn(this.inPtr, this.outPtr, blocks);
      const bytes = blocks * t.typeSize;
      dst.set(heapU8.subarray(this.outPtr, this.outPtr + bytes), dstOff + (done / t.blockSize) * t.typeSize);
    }
  }

  /** Dequantizes `n` elements from `src` at byte `srcOff` into `dst` at element `dstOff`. */
  dequantize(typeId: number, src: Uint8Array, srcOff: number, n: number, dst: Float32Array, dstOff: number): void {
    const names = WASM_EXPORTS.get(typeId);
    const t = ggmlType(typeId);
    if (!names || !t) throw new RangeError(`no wasm dequantizer for ggml type ${typeId}`);
    const fn = this.kernel(names.dequantize);
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
