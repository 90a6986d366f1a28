/**
 * The float64 solver kernels of kernels/wasm/assembly/f64-solver.ts on this thread: one instance of
 * the wasm module with its own memory, a bump heap the caller resets per solve (`reset`), and
 * Float64Array views into it. Memory only grows, to the largest solve's need. Views are taken
 * after every allocation of a solve (growth detaches the old ones): `alloc` returns byte offsets.
 */
import { loadWasmModule } from '../fast/wasm-module.ts';

type Fn = (...args: number[]) => void;
interface Instance { exports: Record<string, unknown> & { memory: { buffer: ArrayBuffer; grow(pages: number): number }; heapBase(): number } }
const Wasm = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, imports: object) => Instance } }).WebAssembly;

export class F64Wasm {
  private static shared?: F64Wasm;
  private readonly inst: Instance;
  private top: number;
  private readonly base: number;
  readonly quadFormPairs: Fn;
  readonly subOuter: Fn;
  readonly choleskyUpper: (h: number, n: number, lt: number, s: number) => number;
  readonly lowerInverse: Fn;
  readonly gramOfLower: Fn;

  private constructor() {
    this.inst = new Wasm.Instance(loadWasmModule(), { env: { abort: () => { throw new Error('wasm abort'); } } });
    this.base = this.top = this.inst.exports.heapBase();
    this.quadFormPairs = this.inst.exports.quadFormPairsF64 as Fn;
    this.subOuter = this.inst.exports.subOuterF64 as Fn;
    this.choleskyUpper = this.inst.exports.choleskyUpperF64 as (h: number, n: number, lt: number, s: number) => number;
    this.lowerInverse = this.inst.exports.lowerInverseF64 as Fn;
    this.gramOfLower = this.inst.exports.gramOfLowerF64 as Fn;
  }

  /** The process's instance (calibration runs one solve at a time on the main thread). */
  static get(): F64Wasm {
    return (F64Wasm.shared ??= new F64Wasm());
  }

  /** Frees every allocation (the start of a solve). */
  reset(): void {
    this.top = this.base;
  }

  /** Byte offset of `n` float64 (16-aligned), growing memory as needed. */
  alloc(n: number): number {
    const at = this.top;
    this.top = Math.ceil((at + 8 * n) / 16) * 16;
    const mem = this.inst.exports.memory;
    if (this.top > mem.buffer.byteLength) mem.grow(Math.ceil((this.top - mem.buffer.byteLength) / 65536));
    return at;
  }

  /** A view of `n` float64 at byte offset `at` (valid until the next alloc that grows memory). */
  f64(at: number, n: number): Float64Array {
    return new Float64Array(this.inst.exports.memory.buffer, at, n);
  }
}
