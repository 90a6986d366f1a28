/**
 * The forward kernels against llama.cpp's own CPU ops (ggml_rms_norm+ggml_mul, ggml_rope_ext,
 * ggml_soft_max_ext, ggml_swiglu_split, ggml_mul_mat and llama-graph's non-flash attention), computed
 * by the pinned libggml through koffi (test/support/ggml-graph.ts). Tolerances are stated per op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './kernels-inputs.ts';
import { llamaCppUnavailable } from './support/llama-cpp.ts';
import { loadGgmlOps } from './support/ggml-graph.ts';
import { rmsNorm, rope, softmax, siluMul, attention, matmulRef, type WeightMatrix } from '../kernels/forward/index.ts';
import { createFastEngine } from '../kernels/fast/forward-engine.ts';
import { quantizeRows, dequantize } from '../kernels/quant-table.ts';
import { GgmlTypeId, type GgmlTypeName } from '../kernels/ggml-types.ts';

const skip = llamaCppUnavailable ?? false;

function randn(rng: Rng, n: number, s = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.gauss() * s;
  return a;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol(i))) assert.fail(`${what}: entry ${i} is ${got[i]} vs llama.cpp ${want[i]} (tolerance ${tol(i).toExponential(2)})`);
  }
}

test('rmsNorm equals ggml_rms_norm + ggml_mul to 1 ulp', { skip }, async () => {
  const g = await loadGgmlOps();
  const rng = new Rng(11);
  for (const [n, dim, eps] of [[7, 64, 1e-5], [3, 1000, 1e-6], [2, 4096, 1e-5]] as const) {
    const x = randn(rng, n * dim, 2), w = randn(rng, dim);
    const ours = new Float32Array(n * dim);
    rmsNorm(x, n, dim, w, eps, ours);
    assertClose(ours, g.rmsNormMul(x, n, dim, w, eps), (i) => 2 ** -23 * Math.abs(ours[i]!), `dim ${dim}`);
  }
});

// Same float ops as ggml_rope_cache_init/rotate_pairs; cosf/sinf and Math.cos/sin may differ by
// an ulp and the C compiler may fuse x0·cos − x1·sin: |Δ| ≤ 4·2^-24·(|x0| + |x1|) ≤ 1e-6 here (|x| < 5).
for (const mode of ['normal', 'neox'] as const) {
  test(`rope ${mode} equals ggml_rope_ext (freq factors, freq scale, partial rotation) within 1e-6`, { skip }, async () => {
    const g = await loadGgmlOps();
    const rng = new Rng(mode === 'neox' ? 13 : 12);
    const n = 9, heads = 4, hd = 64;
    const pos = Int32Array.from([0, 1, 2, 3, 50, 127, 128, 511, 4000]);
    const ff = Float32Array.from({ length: hd / 2 }, (_, j) => (j < 10 ? 1 : j < 20 ? 1 + (j - 10) * 0.7 : 8));
    for (const o of [
      { mode, base: 10000 },
      { mode, base: 500000, freqFactors: ff },
      { mode, base: 1e6, nRot: 32, freqScale: 0.5 },
    ]) {
      const x = randn(rng, n * heads * hd);
      const ours = Float32Array.from(x);
      rope(ours, n, heads, hd, pos, o);
      assertClose(ours, g.rope(x, n, heads, hd, pos, o), () => 1e-6, JSON.stringify({ ...o, freqFactors: !!o.freqFactors }));
    }
  });
}

// ggml-cpu's SIMD softmax and SiLU use a vectorised expf (ggml_v_expf) good to ~1.5 ulp; ours uses
// Math.exp rounded to float: 1e-6 relative covers both.
test('softmax equals ggml_soft_max_ext (with scale) and siluMul equals ggml_swiglu_split within 1e-6 relative', { skip }, async () => {
  const g = await loadGgmlOps();
  const rng = new Rng(14);
  const rows = 5, n = 777;
  const x = randn(rng, rows * n, 4);
  const want = g.softMax(x, rows, n, 0.3);
  const ours = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) softmax(x.subarray(r * n, (r + 1) * n), ours.subarray(r * n, (r + 1) * n), n, 0.3);
  assertClose(ours, want, (i) => 1e-6 * Math.abs(want[i]!) + 1e-12, 'softmax');
  const gate = randn(rng, 5000, 5), up = randn(rng, 5000);
  const s = new Float32Array(5000);
  siluMul(gate, up, s);
  const ws = g.swiglu(gate, up);
  assertClose(s, ws, (i) => 1e-6 * Math.abs(ws[i]!) + 1e-12, 'swiglu');
});

// llama-graph's attention (mul_mat k·q, optional tanh soft-cap, soft_max_ext with causal/SWA mask,
// mul_mat with transposed v) in float with different summation order and vectorised expf: 2e-6.
test('attention equals llama-graph build_attn_mha (GQA, sliding window, soft-cap) within 2e-6, reference and fast engine', { skip }, async () => {
  const g = await loadGgmlOps();
  const eng = await createFastEngine({ threads: 2 });
  try {
    const rng = new Rng(15);
    const n = 33, H = 8, HK = 2, D = 32, scale = 1 / Math.sqrt(D);
    const q = randn(rng, n * H * D), k = randn(rng, n * HK * D), v = randn(rng, n * HK * D);
    for (const [softcap, window] of [[0, 0], [0, 6], [2.5, 0]] as const) {
      const want = g.attention(q, k, v, n, H, HK, D, scale, softcap, window);
      const opts = { ...(softcap ? { softcap } : {}), ...(window ? { window } : {}) };
      const ours = new Float32Array(n * H * D);
      attention(q, k, v, n, H, HK, D, scale, ours, opts);
      assertClose(ours, want, () => 2e-6, `ref ${JSON.stringify(opts)}`);
      const fast = new Float32Array(n * H * D);
      await eng.attention(q, k, v, n, H, HK, D, scale, fast, opts);
      assertClose(fast, want, () => 2e-6, `fast ${JSON.stringify(opts)}`);
    }
  } finally {
    await eng.close();
  }
});

/**
 * ggml_mul_mat first converts x to the weight type's vec_dot_type: F32 stays F32; F16 and BF16
 * round x to 11 and 8 significant bits; the 32-blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL)
 * quantize x to Q8_0/Q8_1 and the 256-blocks (K-quants, IQ4_XS) to Q8_K, each element off by at
 * most amax(block)/254 (half a step of amax/127), with the block scale stored as fp16 for Q8_0/1.
 * Our kernels multiply by x exactly, so the allowed difference per output is that bound on Σ|w|·|Δx|,
 * plus the float summation bound (cols·2^-24 + 2^-10 for the scale)·Σ|x·w|.
 */
const VEC_DOT: Partial<Record<GgmlTypeName, 'f32' | 'f16' | 'bf16' | 'q8' | 'q8k'>> = {
  F32: 'f32', F16: 'f16', BF16: 'bf16', Q4_0: 'q8', Q4_1: 'q8', Q5_0: 'q8', Q5_1: 'q8', Q8_0: 'q8', IQ4_NL: 'q8',
  Q2_K: 'q8k', Q3_K: 'q8k', Q4_K: 'q8k', Q5_K: 'q8k', Q6_K: 'q8k', IQ4_XS: 'q8k',
};

function mulMatBound(kind: string, x: Float32Array, n: number, W: Float32Array, rows: number, cols: number): Float64Array {
  const bound = new Float64Array(n * rows);
  const block = kind === 'q8k' ? 256 : 32;
  for (let t = 0; t < n; t++) {
    const xt = x.subarray(t * cols, (t + 1) * cols);
    const dx = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      if (kind === 'f16') dx[c] = Math.abs(xt[c]!) * 2 ** -11;
      else if (kind === 'bf16') dx[c] = Math.abs(xt[c]!) * 2 ** -8;
      else if (kind !== 'f32') {
        let amax = 0;
        const b0 = c - (c % block);
        for (let j = b0; j < b0 + block; j++) amax = Math.max(amax, Math.abs(xt[j]!));
        dx[c] = amax / 254;
      }
    }
    for (let r = 0; r < rows; r++) {
      let m = 0, d = 0;
      for (let c = 0; c < cols; c++) { const w = Math.abs(W[r * cols + c]!); m += w * Math.abs(xt[c]!); d += w * dx[c]!; }
      bound[t * rows + r] = d * (1 + 2 ** -10) + (cols * 2 ** -24 + 2 ** -10) * m;
    }
  }
  return bound;
}

test('matmul equals ggml_mul_mat for every weight type, within the bound of ggml rounding x to its vec_dot_type (reference and fast engine)', { skip }, async () => {
  const g = await loadGgmlOps();
  const eng = await createFastEngine({ threads: 2 });
  try {
    const rng = new Rng(16);
    const rows = 48, cols = 512, n = 5;
    for (const [name, kind] of Object.entries(VEC_DOT)) {
      const type = GgmlTypeId[name as GgmlTypeName];
      const w: WeightMatrix = { type, rows, cols, data: quantizeRows(type, randn(rng, rows * cols, 0.4), rows, cols) };
      const x = randn(rng, n * cols);
      const want = g.mulMat(w, x, n);
      const bound = mulMatBound(kind!, x, n, dequantize(type, w.data, rows * cols), rows, cols);
      const ours = new Float32Array(n * rows), fast = new Float32Array(n * rows);
      matmulRef(x, n, w, ours);
      await eng.matmul(x, n, w, fast);
      assertClose(ours, want, (i) => bound[i]!, `${name} reference`);
      assertClose(fast, want, (i) => bound[i]!, `${name} fast`);
    }
  } finally {
    await eng.close();
  }
});
