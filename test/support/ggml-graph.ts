/**
 * llama.cpp's own CPU ops, run through koffi on tiny ggml graphs (libggml-base builds the graph,
 * the CPU backend that ggml_backend_load_all_from_path picks computes it). The oracle for the
 * forward kernels (test/forward-kernels-ggml.test.ts) and their benchmark.
 *
 * Tensors live in the context's own memory (no_alloc = false); data goes in and out by memcpy.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadLlamaCpp } from './llama-cpp.ts';

const require = createRequire(import.meta.url);

export interface GgmlWeight { type: number; rows: number; cols: number; data: Uint8Array }
export interface GgmlRopeOptions { mode: 'normal' | 'neox'; base: number; nRot?: number; freqFactors?: Float32Array; freqScale?: number }

export interface GgmlOps {
  /** ggml_mul(ggml_rms_norm(x, eps), w). */
  rmsNormMul(x: Float32Array, nTokens: number, dim: number, w: Float32Array, eps: number): Float32Array;
  /** ggml_rope_ext with ext_factor 0, attn_factor 1. */
  rope(x: Float32Array, nTokens: number, nHeads: number, headDim: number, pos: Int32Array, o: GgmlRopeOptions): Float32Array;
  /** ggml_soft_max_ext(x, NULL, scale, 0) over nRows rows of n. */
  softMax(x: Float32Array, nRows: number, n: number, scale: number): Float32Array;
  /** ggml_swiglu_split(gate, up). */
  swiglu(gate: Float32Array, up: Float32Array): Float32Array;
  /** ggml_mul_mat(W, x): out[t·rows + r]. */
  mulMat(w: GgmlWeight, x: Float32Array, nTokens: number): Float32Array;
  /** llama-graph build_attn_mha without flash attention, causal mask (and sliding window). */
  attention(q: Float32Array, k: Float32Array, v: Float32Array, nTokens: number, nHead: number, nHeadKv: number, headDim: number, scale: number, softcap?: number, window?: number): Float32Array;
  /** Seconds per ggml_mul_mat(W, x) graph compute, median of `reps` (graph built once), on `threads` threads. */
  timeMulMat(w: GgmlWeight, nTokens: number, threads: number, reps: number): number;
}

let cached: GgmlOps | undefined;

export async function loadGgmlOps(): Promise<GgmlOps> {
  if (cached) return cached;
  await loadLlamaCpp(); // loads the CPU backends (ggml_backend_load_all_from_path) and fails loudly off linux-x64
  const koffi = (await import('koffi')).default;
  const binsDir = join(dirname(require.resolve('@node-llama-cpp/linux-x64')), '..', 'bins', 'linux-x64');
  const base = koffi.load(join(binsDir, 'libggml-base.so'));
  const { readdirSync } = await import('node:fs');
  const ggml = koffi.load(join(binsDir, readdirSync(binsDir).find((n) => /^libggml\.v.*\.so$/.test(n))!));
  const libc = koffi.load('libc.so.6');
  const Params = koffi.struct('ggml_init_params_fwd', { mem_size: 'size_t', mem_buffer: 'void *', no_alloc: 'bool' });
  const f = {
    init: base.func('void *ggml_init(ggml_init_params_fwd params)'),
    free: base.func('void ggml_free(void *ctx)'),
    t1: base.func('void *ggml_new_tensor_1d(void *ctx, int type, int64_t ne0)'),
    t2: base.func('void *ggml_new_tensor_2d(void *ctx, int type, int64_t ne0, int64_t ne1)'),
    t3: base.func('void *ggml_new_tensor_3d(void *ctx, int type, int64_t ne0, int64_t ne1, int64_t ne2)'),
    data: base.func('void *ggml_get_data(void *t)'),
    mulMat: base.func('void *ggml_mul_mat(void *ctx, void *a, void *b)'),
    mul: base.func('void *ggml_mul(void *ctx, void *a, void *b)'),
    rmsNorm: base.func('void *ggml_rms_norm(void *ctx, void *a, float eps)'),
    rope: base.func('void *ggml_rope_ext(void *ctx, void *a, void *b, void *c, int n_dims, int mode, int n_ctx_orig, float freq_base, float freq_scale, float ext_factor, float attn_factor, float beta_fast, float beta_slow)'),
    softMax: base.func('void *ggml_soft_max_ext(void *ctx, void *a, void *mask, float scale, float max_bias)'),
    swiglu: base.func('void *ggml_swiglu_split(void *ctx, void *a, void *b)'),
    permute: base.func('void *ggml_permute(void *ctx, void *a, int a0, int a1, int a2, int a3)'),
    cont: base.func('void *ggml_cont(void *ctx, void *a)'),
    scale: base.func('void *ggml_scale(void *ctx, void *a, float s)'),
    tanh: base.func('void *ggml_tanh(void *ctx, void *a)'),
    graph: base.func('void *ggml_new_graph(void *ctx)'),
    expand: base.func('void ggml_build_forward_expand(void *g, void *t)'),
    compute: base.func('int ggml_backend_graph_compute(void *backend, void *g)'),
    initBackend: ggml.func('void *ggml_backend_init_by_type(int type, const char *params)'),
    getDevice: base.func('void *ggml_backend_get_device(void *backend)'),
    devReg: base.func('void *ggml_backend_dev_backend_reg(void *dev)'),
    procAddress: base.func('void *ggml_backend_reg_get_proc_address(void *reg, const char *name)'),
    copyIn: libc.func('void *memcpy(void *dst, const void *src, size_t n)'),
  };
  const SetThreads = koffi.proto('void ggml_backend_set_n_threads_fwd(void *backend, int n)');
  const backend = f.initBackend(0 /* GGML_BACKEND_DEVICE_TYPE_CPU */, null);
  if (!backend) throw new Error('ggml_backend_init_by_type(CPU) returned NULL');
  const setThreadsPtr = f.procAddress(f.devReg(f.getDevice(backend)), 'ggml_backend_set_n_threads');
  const setThreads = (n: number) => koffi.call(setThreadsPtr, SetThreads, backend, n);

  const F32 = 0, I32 = 26;
  /** Runs `build(ctx)` in a fresh context and returns the result tensor's floats. */
  const run = (bytes: number, threads: number, build: (ctx: unknown) => { out: unknown; n: number }): Float32Array => {
    const ctx = f.init({ mem_size: bytes * 3 + (64 << 20), mem_buffer: null, no_alloc: false });
    try {
      const { out, n } = build(ctx);
      const g = f.graph(ctx);
      f.expand(g, out);
      setThreads(threads);
      const status = f.compute(backend, g);
      if (status !== 0) throw new Error(`ggml_backend_graph_compute failed with status ${status}`);
      const res = new Float32Array(n);
      f.copyIn(res, f.data(out), n * 4);
      return res;
    } finally {
      f.free(ctx);
    }
  };
  const put = (t: unknown, a: ArrayBufferView) => { f.copyIn(f.data(t), a, a.byteLength); return t; };
  const tensor = (ctx: unknown, type: number, ne: number[], a: ArrayBufferView) =>
    put(ne.length === 1 ? f.t1(ctx, type, ne[0]) : ne.length === 2 ? f.t2(ctx, type, ne[0], ne[1]) : f.t3(ctx, type, ne[0], ne[1], ne[2]), a);

  const attentionGraph = (ctx: unknown, q: Float32Array, k: Float32Array, v: Float32Array, n: number, H: number, HK: number, D: number, scale: number, softcap: number, window: number) => {
    const qt = f.permute(ctx, tensor(ctx, F32, [D, H, n], q), 0, 2, 1, 3);
    const kt = f.permute(ctx, tensor(ctx, F32, [D, HK, n], k), 0, 2, 1, 3);
    // v transposed to [n_kv, D, HK], as the non-flash KV cache stores it.
    const vt = f.cont(ctx, f.permute(ctx, tensor(ctx, F32, [D, HK, n], v), 1, 2, 0, 3));
    const mask = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mask[i * n + j] = j > i || (window > 0 && i - j >= window) ? -Infinity : 0;
    let kq = f.mulMat(ctx, kt, qt);
    if (softcap) kq = f.scale(ctx, f.tanh(ctx, f.scale(ctx, kq, 1 / softcap)), softcap);
    kq = f.softMax(ctx, kq, tensor(ctx, F32, [n, n], mask), scale, 0);
    const kqv = f.mulMat(ctx, vt, kq);
    return f.cont(ctx, f.permute(ctx, kqv, 0, 2, 1, 3));
  };

  cached = {
    rmsNormMul: (x, n, dim, w, eps) => run(x.byteLength * 2, 1, (ctx) => ({ out: f.mul(ctx, f.rmsNorm(ctx, tensor(ctx, F32, [dim, n], x), eps), tensor(ctx, F32, [dim], w)), n: n * dim })),
    rope: (x, n, heads, hd, pos, o) => run(x.byteLength * 2, 1, (ctx) => {
      const ff = o.freqFactors ? tensor(ctx, F32, [o.freqFactors.length], o.freqFactors) : null;
      const out = f.rope(ctx, tensor(ctx, F32, [hd, heads, n], x), tensor(ctx, I32, [n], pos), ff, o.nRot ?? hd, o.mode === 'neox' ? 2 : 0, 0, o.base, o.freqScale ?? 1, 0, 1, 32, 1);
      return { out, n: n * heads * hd };
    }),
    softMax: (x, rows, n, scale) => run(x.byteLength * 2, 1, (ctx) => ({ out: f.softMax(ctx, tensor(ctx, F32, [n, rows], x), null, scale, 0), n: rows * n })),
    swiglu: (g, u) => run(g.byteLength * 3, 1, (ctx) => ({ out: f.swiglu(ctx, tensor(ctx, F32, [g.length], g), tensor(ctx, F32, [u.length], u)), n: g.length })),
    mulMat: (w, x, n) => run(w.data.byteLength + x.byteLength * 4, 1, (ctx) => ({ out: f.mulMat(ctx, tensor(ctx, w.type, [w.cols, w.rows], w.data), tensor(ctx, F32, [w.cols, n], x)), n: n * w.rows })),
    attention: (q, k, v, n, H, HK, D, scale, softcap = 0, window = 0) =>
      run(q.byteLength * 4 + n * n * H * 8, 1, (ctx) => ({ out: attentionGraph(ctx, q, k, v, n, H, HK, D, scale, softcap, window), n: n * H * D })),
    timeMulMat(w, n, threads, reps) {
      const x = new Float32Array(n * w.cols).map((_, i) => Math.sin(i));
      const ctx = f.init({ mem_size: w.data.byteLength + x.byteLength * 4 + n * w.rows * 4 + (64 << 20), mem_buffer: null, no_alloc: false });
      try {
        const out = f.mulMat(ctx, tensor(ctx, w.type, [w.cols, w.rows], w.data), tensor(ctx, F32, [w.cols, n], x));
        const g = f.graph(ctx);
        f.expand(g, out);
        setThreads(threads);
        const times: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t0 = process.hrtime.bigint();
          if (f.compute(backend, g) !== 0) throw new Error('ggml_backend_graph_compute failed');
          times.push(Number(process.hrtime.bigint() - t0) / 1e9);
        }
        return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      } finally {
        f.free(ctx);
      }
    },
  };
  return cached;
}
