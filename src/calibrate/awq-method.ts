/**
 * AWQ as a per-layer calibration method (reference §3.2, AutoAWQ `AwqQuantizer._apply_quant`'s
 * loop body), over one decoder layer:
 *   1. one forward with the original weights records, per linear input, x_mean (all tokens) and
 *      the tokens auto_clip samples, and the outputs of self_attn (attn_output) and mlp (ffn_down):
 *      the y_ref of every scale group;
 *   2. `auto_scale` for each group, all on the original weights (each search restores them):
 *        attn_norm → attn_q, attn_k, attn_v   inspect self_attn
 *        attn_v    → attn_output              inspect o_proj (only when v and o have the same shape: no GQA)
 *        ffn_norm  → ffn_gate, ffn_up         inspect mlp
 *        ffn_up    → ffn_down                 inspect down_proj
 *      A candidate is scored by re-running the block over all samples (in the loop's sub-batches)
 *      up to the inspected output with the candidate weights, and streaming its squared error
 *      against y_ref: o_proj and down_proj outputs are exactly attn_output's and ffn_down's;
 *   3. `apply_scale`: every group's s folded into its norm or its previous linear's rows, the
 *      linears' columns multiplied by s, and the sampled inputs divided by s;
 *   4. `auto_clip` on every quantized linear except attn_q / attn_k, then clamp;
 *   5. the AWQ RTN quantizer (`awqRtnSolver`, what the packer writes) on the scaled, clipped weights.
 * The next layer's inputs come from the original weights (§3.2 step 1: AutoAWQ computes them
 * before any scaling), so `next` is the loaded layer.
 *
 * A group is searched only when all its linears are quantized in this layer and its previous op
 * is a norm or a quantized linear: a linear kept in fp16 is written from the source, so folding a
 * scale into (or out of) it would change the model's function.
 */
import { CancelledError, FormatError, UnsupportedError } from '../../formats/errors.ts';
import { AbsMeanAccumulator, groupNormalizedWeightMean, type LinearWeight } from '../../kernels/groupwise/awq-stats.ts';
import { searchAwqScale, type ScaleOptions } from '../../kernels/groupwise/awq-scale.ts';
import { awqClipSearch, applyAwqClip, type ClipOptions } from '../../kernels/groupwise/awq-clip.ts';
import { scaleColumns, divideTail, divideLastRows, divideColumns } from '../../kernels/groupwise/awq-apply-scale.ts';
import { awqRtnSolver } from '../../kernels/groupwise/rtn-awq.ts';
import type { QuantizedMatrix } from '../../kernels/groupwise/spec.ts';
import type { WeightMatrix } from '../model/weights.ts';
import type { LayerWeights } from '../model/layer-weights.ts';
import type { AwqScaleGroup, ModuleLoss } from '../pipeline/calib-report.ts';
import { BLOCK_MODULES, type BlockModule, type LayerContext, type LayerMethod, type LayerResult } from './layer-method.ts';

export interface AwqMethodOptions extends ScaleOptions, ClipOptions {
  /** auto_clip after the scales (AutoAWQ `apply_clip`, default true). */
  clip?: boolean;
  /** Sees each layer's scaled weights and vectors after apply_scale, before clipping (the fold check). */
  onScaled?: (layer: number, weights: ReadonlyMap<BlockModule, Float32Array>, vectors: ReadonlyMap<string, Float32Array>) => void;
}

/** Where each linear reads its input (q, k, v share one; gate and up share one). */
const INPUT_OF: Record<BlockModule, BlockModule> = {
  attn_q: 'attn_q', attn_k: 'attn_q', attn_v: 'attn_q', attn_output: 'attn_output', ffn_gate: 'ffn_gate', ffn_up: 'ffn_gate', ffn_down: 'ffn_down',
};
const INPUTS: readonly BlockModule[] = ['attn_q', 'attn_output', 'ffn_gate', 'ffn_down'];
const WEIGHT_KEY: Record<BlockModule, 'wq' | 'wk' | 'wv' | 'wo' | 'gate' | 'up' | 'down'> = {
  attn_q: 'wq', attn_k: 'wk', attn_v: 'wv', attn_output: 'wo', ffn_gate: 'gate', ffn_up: 'up', ffn_down: 'down',
};
const HF_NAME: Record<BlockModule, string> = {
  attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj', attn_v: 'self_attn.v_proj', attn_output: 'self_attn.o_proj',
  ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj',
};
/** Linears never clipped: "due to qk bmm, it is hard to clip precisely" (upstream avoid_clipping). */
const NOT_CLIPPED = new Set<BlockModule>(['attn_q', 'attn_k']);

type Inspect = 'attn' | 'mlp';
interface GroupDef {
  prevOp: 'attn_norm' | 'attn_v' | 'ffn_norm' | 'ffn_up';
  modules: BlockModule[];
  inspect: Inspect;
}
const GROUPS: readonly GroupDef[] = [
  { prevOp: 'attn_norm', modules: ['attn_q', 'attn_k', 'attn_v'], inspect: 'attn' },
  { prevOp: 'attn_v', modules: ['attn_output'], inspect: 'attn' },
  { prevOp: 'ffn_norm', modules: ['ffn_gate', 'ffn_up'], inspect: 'mlp' },
  { prevOp: 'ffn_up', modules: ['ffn_down'], inspect: 'mlp' },
];
/** The matmul whose output is module2inspect's output, and the module after it where a pass may stop. */
const INSPECT_AT = { attn: { tensor: 'attn_output', stop: 'ffn_gate' }, mlp: { tensor: 'ffn_down', stop: 'end' } } as const;

const shortName = (tensor: string) => tensor.replace(/^blk\.\d+\./, '').replace(/\.weight$/, '');
const f32Of = (m: WeightMatrix): Float32Array => {
  if (m.type !== 0) throw new RangeError(`AWQ needs F32 layer weights, got ggml type ${m.type}`);
  return new Float32Array(m.data.slice().buffer, 0, m.rows * m.cols);
};
const matrixOf = (data: Float32Array, rows: number, cols: number): WeightMatrix => ({ type: 0, rows, cols, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });

/** Tokens auto_clip keeps: every `step`-th token of all samples, step = max(1, n_tokens // n_sample_token). */
function clipStep(totalTokens: number, nSampleToken: number): number {
  return Math.max(1, Math.floor(totalTokens / nSampleToken));
}

export function awqMethod(opts: AwqMethodOptions = {}): LayerMethod {
  const nSampleToken = opts.nSampleToken ?? 512;
  return {
    name: 'awq',
    workingBytes({ nEmbd, nFf, qDim, kvDim, nTokens }) {
      // float copies of the layer's seven linears (original and scaled), ≤ 2·n_sample_token sampled
      // input rows per distinct input, and y_ref of self_attn and of mlp for every token
      const layer = 2 * nEmbd * qDim + 2 * nEmbd * kvDim + 3 * nEmbd * nFf;
      return 4 * (2 * layer + 2 * nSampleToken * (2 * nEmbd + qDim + nFf)) + awqRefBytesPerToken(nEmbd) * nTokens;
    },
    quantizeLayer: (ctx) => quantizeLayer(ctx, opts, nSampleToken),
  };
}

/** Bytes AWQ holds per calibration token: y_ref of self_attn and of mlp. */
const awqRefBytesPerToken = (nEmbd: number) => 2 * 4 * nEmbd;

async function quantizeLayer(ctx: LayerContext, opts: AwqMethodOptions, nSampleToken: number): Promise<LayerResult> {
  const { layer: il, nSeq, nTok, spec, weights: L } = ctx;
  const hp = ctx.model.hparams;
  if (hp.facts.fused || L.moe || !L.gate || !L.up || !L.down) {
    throw new UnsupportedError('AWQ_ARCH', `layer ${il}: AWQ needs separate q/k/v and gate/up/down linears (${hp.arch} is fused or MoE)`, { file: ctx.model.path });
  }
  const T = nSeq * nTok;
  const step = clipStep(T, nSampleToken);
  const nS = Math.ceil(T / step);
  const cols = (m: BlockModule) => L[WEIGHT_KEY[m]]!.cols;

  // 1. statistics and y_ref, with the original weights
  ctx.status('awq: input features');
  const acc = new Map(INPUTS.map((m) => [m, new AbsMeanAccumulator(cols(m))]));
  const samples = new Map(INPUTS.map((m) => [m, new Float32Array(nS * cols(m))]));
  const yRef = { attn: new Float32Array(T * hp.nEmbd), mlp: new Float32Array(T * hp.nEmbd) };
  await ctx.forward({
    weights: L,
    label: 'awq: input features',
    observe(input, batch) {
      const m = shortName(input.tensor) as BlockModule;
      const a = acc.get(m);
      if (!a) return;
      a.add(input.x, input.nTokens);
      const s = samples.get(m)!, t0 = batch.start * nTok;
      for (let t = (step - (t0 % step)) % step; t < input.nTokens; t += step) s.set(input.x.subarray(t * input.cols, (t + 1) * input.cols), ((t0 + t) / step) * input.cols);
    },
    observeOutput(out, batch) {
      const name = shortName(out.tensor);
      for (const k of ['attn', 'mlp'] as const) if (name === INSPECT_AT[k].tensor) yRef[k].set(out.y.subarray(0, out.nTokens * out.rows), batch.start * nTok * out.rows);
    },
  });
  const xMean = new Map([...acc].map(([m, a]) => [m, a.result(opts.half ?? true)]));
  for (const [m, x] of xMean) {
    if (x.some((v) => !Number.isFinite(v))) throw new FormatError('NON_FINITE_ACTIVATIONS', `layer ${il}: the inputs of ${m} are not finite (NaN or inf activations)`, { file: ctx.model.path, tensor: `blk.${il}.${m}.weight`, layer: il });
  }

  // 2. scale search per group, each on the original weights
  const orig = new Map<BlockModule, Float32Array>();
  const weightOf = (m: BlockModule) => orig.get(m) ?? orig.set(m, f32Of(L[WEIGHT_KEY[m]]!)).get(m)!;
  const rowsOf = (m: BlockModule) => L[WEIGHT_KEY[m]]!.rows;
  const sameShape = L.wv.rows === L.wo.rows && L.wv.cols === L.wo.cols; // upstream: v_proj.weight.shape == o_proj.weight.shape
  const enabled = GROUPS.filter((g) =>
    g.modules.every((m) => ctx.modules.has(m)) &&
    (g.prevOp.endsWith('_norm') || ctx.modules.has(g.prevOp as BlockModule)) &&
    (g.prevOp !== 'attn_v' || sameShape));
  const found: { group: GroupDef; scales: Float32Array; report: AwqScaleGroup }[] = [];
  for (const g of enabled) {
    if (ctx.signal?.aborted) throw new CancelledError();
    const label = `awq: scales ${g.modules.join('+')}`;
    ctx.status(label);
    const input = INPUT_OF[g.modules[0]!];
    const linears: LinearWeight[] = g.modules.map((m) => ({ data: weightOf(m), rows: rowsOf(m) }));
    const at = INSPECT_AT[g.inspect];
    const ref = yRef[g.inspect];
    const loss = async (ws: Float32Array[]) => {
      const cand: LayerWeights = { ...L };
      g.modules.forEach((m, i) => { cand[WEIGHT_KEY[m]] = matrixOf(ws[i]!, rowsOf(m), cols(m)); });
      let sum = 0;
      await ctx.forward({
        weights: cand, label, stopAfter: at.stop,
        observeOutput(out, batch) {
          if (shortName(out.tensor) !== at.tensor) return;
          const o = batch.start * nTok * out.rows;
          for (let i = 0; i < out.nTokens * out.rows; i++) sum += (out.y[i]! - ref[o + i]!) ** 2;
        },
      });
      return sum / ref.length;
    };
    let r;
    try {
      r = await searchAwqScale({ xMean: xMean.get(input)!, wMean: groupNormalizedWeightMean(linears, cols(input), spec.groupSize, opts.half ?? true), linears, cols: cols(input), spec, loss, duo: opts.duo, half: opts.half, nGrid: opts.nGrid });
    } catch (err) {
      if (err instanceof RangeError) throw new FormatError('NON_FINITE_LOSS', `layer ${il}: the AWQ scale search of ${g.modules.join('/')} found no finite loss (NaN or inf activations or weights)`, { file: ctx.model.path, layer: il }, { cause: err });
      throw err;
    }
    found.push({ group: g, scales: r.scales, report: { prevOp: g.prevOp, modules: g.modules, ratio: r.ratio, lossBefore: r.lossBefore, lossAfter: r.lossAfter } });
  }

  // 3. apply_scale on copies: norms / previous linears' rows, scaled linears' columns, sampled inputs
  const w = new Map<BlockModule, Float32Array>();
  const work = (m: BlockModule) => w.get(m) ?? w.set(m, weightOf(m).slice()).get(m)!;
  const vectors = new Map<string, Float32Array>();
  const vector = (name: string, v: Float32Array) => vectors.get(name) ?? vectors.set(name, v.slice()).get(name)!;
  for (const { group: g, scales: s } of found) {
    if (g.prevOp === 'attn_norm') divideTail(vector('attn_norm', L.attnNorm), s);
    else if (g.prevOp === 'ffn_norm') divideTail(vector('ffn_norm', L.ffnNorm), s);
    else {
      const prev = g.prevOp;
      divideLastRows(work(prev), rowsOf(prev), cols(prev), s);
      const bias = prev === 'attn_v' ? L.bv : L.bUp;
      if (bias) divideTail(vector(`${prev}.bias`, bias), s);
    }
    for (const m of g.modules) scaleColumns(work(m), rowsOf(m), cols(m), s);
    const input = INPUT_OF[g.modules[0]!];
    divideColumns(samples.get(input)!, nS, cols(input), s);
  }

  if (opts.onScaled) {
    for (const m of ctx.modules) work(m);
    opts.onScaled(il, new Map([...w].map(([m, d]) => [m, d.slice()])), new Map([...vectors].map(([k, v]) => [k, v.slice()])));
  }

  // 4. auto_clip, 5. quantize
  const quantized = new Map<BlockModule, QuantizedMatrix>();
  const reference = new Map<BlockModule, Float32Array>();
  const modules: ModuleLoss[] = [];
  for (const m of BLOCK_MODULES.filter((x) => ctx.modules.has(x))) { // block order, for the report
    if (ctx.signal?.aborted) throw new CancelledError();
    ctx.status(`awq: clip ${m}`);
    const t0 = performance.now();
    const data = work(m), rows = rowsOf(m), c = cols(m);
    const clipped = (opts.clip ?? true) && !NOT_CLIPPED.has(m);
    // q/k are not clipped; their reported loss is the same objective without clipping (one shrink step)
    const clip = awqClipSearch(data, rows, c, samples.get(INPUT_OF[m])!, nS, spec, clipped ? opts : { ...opts, maxShrink: 1 / (opts.nGrid ?? 20) });
    if (clipped) applyAwqClip(data, rows, c, spec.groupSize, clip.maxVal);
    quantized.set(m, awqRtnSolver.quantize(data, rows, c, spec));
    reference.set(m, data);
    modules.push({ module: m, tensor: `model.layers.${il}.${HF_NAME[m]}`, loss: clip.loss, seconds: (performance.now() - t0) / 1000 });
  }
  return { next: L, quantized, reference, vectors, report: { modules, scaleGroups: found.map((f) => f.report) } };
}
