/**
 * AWQ as a per-layer calibration method (reference §3.2, AutoAWQ `AwqQuantizer._apply_quant`'s
 * loop body), over one decoder layer:
 *   1. one forward with the original weights records, per linear input, x_mean (all tokens) and
 *      the tokens auto_clip samples (a separate statistics pass first when the samples take more
 *      than one sub-batch, as the candidates need x_mean of all samples);
 *   2. `auto_scale` for each group, all on the original weights:
 *        attn_norm → attn_q, attn_k, attn_v   inspect self_attn
 *        attn_v    → attn_output              inspect o_proj (only when v and o have the same shape: no GQA)
 *        ffn_norm  → ffn_gate, ffn_up         inspect mlp
 *        ffn_up    → ffn_down                 inspect down_proj
 *      as AutoAWQ: the forward caches each sub-batch's linear inputs and the self_attn / mlp
 *      outputs (y_ref), and a candidate re-runs only module2inspect on the cache — the attention
 *      half, o_proj alone, the MLP half, down_proj alone — never the whole block. That forward
 *      runs in place: its outputs are the next layer's inputs;
 *   3. `apply_scale`: every group's s folded into its norm or its previous linear's rows, the
 *      linears' columns multiplied by s, and the sampled inputs divided by s;
 *   4. `auto_clip` on every quantized linear except attn_q / attn_k, then clamp;
 *   5. the AWQ RTN quantizer (`awqRtnSolver`, what the packer writes) on the scaled, clipped weights.
 * The next layer's inputs come from the original weights (§3.2 step 1: AutoAWQ computes them
 * before any scaling): the caching forward above.
 *
 * A group is searched only when all its linears are quantized in this layer and its previous op
 * is a norm or a quantized linear: a linear kept in fp16 is written from the source, so folding a
 * scale into (or out of) it would change the model's function.
 */
import { CancelledError, FormatError, UnsupportedError } from '../../formats/errors.ts';
import { AbsMeanAccumulator, groupNormalizedWeightMean, type LinearWeight } from '../../kernels/groupwise/awq-stats.ts';
import { awqScaleCandidates, chooseAwqScale, scaledPseudoQuantize, type ScaleOptions } from '../../kernels/groupwise/awq-scale.ts';
import { awqClipSearch, applyAwqClip, type ClipOptions } from '../../kernels/groupwise/awq-clip.ts';
import { scaleColumns, divideTail, divideLastRows, divideColumns } from '../../kernels/groupwise/awq-apply-scale.ts';
import { awqRtnSolver } from '../../kernels/groupwise/rtn-awq.ts';
import type { QuantizedMatrix } from '../../kernels/groupwise/spec.ts';
import type { WeightMatrix } from '../model/weights.ts';
import type { LayerWeights } from '../model/layer-weights.ts';
import type { MatmulInput } from '../model/forward.ts';
import type { AwqScaleGroup, ModuleLoss } from '../pipeline/calib-report.ts';
import { BLOCK_MODULES, type BlockModule, type LayerContext, type LayerMethod, type LayerResult, type SampleRange } from './layer-method.ts';

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
/** One group's search: its candidate scales and each one's running sum of squared errors. */
interface GroupSearch {
  group: GroupDef;
  linears: LinearWeight[];
  cols: number;
  scales: Float32Array[];
  same: number[];
  sums: number[];
}
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
    workingBytes({ nEmbd, nFf, qDim, kvDim }) {
      // float copies of the layer's seven linears (original, scaled, and one group's candidate), and
      // ≤ 2·n_sample_token sampled input rows per distinct input
      const layer = 2 * nEmbd * qDim + 2 * nEmbd * kvDim + 3 * nEmbd * nFf;
      return 4 * (3 * layer + 2 * nSampleToken * (2 * nEmbd + qDim + nFf));
    },
    // per sub-batch token: the cached inputs of q/k/v, o, gate/up and down, y_ref of self_attn and
    // of mlp, and the candidate's output
    batchBytesPerToken: ({ nEmbd, nFf, qDim }) => 4 * (5 * nEmbd + qDim + nFf),
    quantizeLayer: (ctx) => quantizeLayer(ctx, opts, nSampleToken),
  };
}


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

  // 2. (set up) the scale groups, each searched on the original weights
  const orig = new Map<BlockModule, Float32Array>();
  const weightOf = (m: BlockModule) => orig.get(m) ?? orig.set(m, f32Of(L[WEIGHT_KEY[m]]!)).get(m)!;
  const rowsOf = (m: BlockModule) => L[WEIGHT_KEY[m]]!.rows;
  const sameShape = L.wv.rows === L.wo.rows && L.wv.cols === L.wo.cols; // upstream: v_proj.weight.shape == o_proj.weight.shape
  const enabled = GROUPS.filter((g) =>
    g.modules.every((m) => ctx.modules.has(m)) &&
    (g.prevOp.endsWith('_norm') || ctx.modules.has(g.prevOp as BlockModule)) &&
    (g.prevOp !== 'attn_v' || sameShape));

  // 1. statistics (x_mean of every linear's input, the tokens auto_clip samples), over all samples
  const acc = new Map(INPUTS.map((m) => [m, new AbsMeanAccumulator(cols(m))]));
  const samples = new Map(INPUTS.map((m) => [m, new Float32Array(nS * cols(m))]));
  const collect = (input: MatmulInput, batch: SampleRange) => {
    const m = shortName(input.tensor) as BlockModule;
    const a = acc.get(m);
    if (!a) return;
    a.add(input.x, input.nTokens);
    const s = samples.get(m)!, t0 = batch.start * nTok;
    for (let t = (step - (t0 % step)) % step; t < input.nTokens; t += step) s.set(input.x.subarray(t * input.cols, (t + 1) * input.cols), ((t0 + t) / step) * input.cols);
  };
  let searches: GroupSearch[] | undefined;
  const prepare = () => {
    const xMean = new Map([...acc].map(([m, a]) => [m, a.result(opts.half ?? true)]));
    for (const [m, x] of xMean) {
      if (x.some((v) => !Number.isFinite(v))) throw new FormatError('NON_FINITE_ACTIVATIONS', `layer ${il}: the inputs of ${m} are not finite (NaN or inf activations)`, { file: ctx.model.path, tensor: `blk.${il}.${m}.weight`, layer: il });
    }
    return enabled.map((g): GroupSearch => {
      const input = INPUT_OF[g.modules[0]!];
      const linears: LinearWeight[] = g.modules.map((m) => ({ data: weightOf(m), rows: rowsOf(m) }));
      const wMean = groupNormalizedWeightMean(linears, cols(input), spec.groupSize, opts.half ?? true);
      const cand = awqScaleCandidates(xMean.get(input)!, wMean, { duo: opts.duo, half: opts.half, nGrid: opts.nGrid });
      return { group: g, linears, cols: cols(input), ...cand, sums: cand.scales.map(() => 0) };
    });
  };
  const single = ctx.batchSamples >= nSeq;
  if (!single && enabled.length) {
    // the candidates need x_mean over every sample before the first sub-batch is scored
    await ctx.forward({ weights: L, label: 'awq: input features', stopAfter: 'ffn_down', observe: collect });
    searches = prepare();
  }

  // One forward per sub-batch with the original weights (it also makes the next layer's inputs):
  // it caches the inputs of every scaled linear and module2inspect's outputs (y_ref), then every
  // group's candidates are scored on that cache, re-running only what the group inspects —
  //   [q,k,v]: the attention half   [o]: o_proj   [gate,up]: the MLP half   [down]: down_proj
  // — and each candidate's squared error is summed over the sub-batches in sample order, the
  // order of the per-candidate block forwards this replaces (so the same losses to the last bit).
  const d = hp.nEmbd, B = ctx.batchSamples * nTok;
  const cache = enabled.length ? {
    attnIn: new Float32Array(B * d), oIn: new Float32Array(B * cols('attn_output')), mlpIn: new Float32Array(B * d), downIn: new Float32Array(B * cols('ffn_down')),
    yAttn: new Float32Array(B * d), yMlp: new Float32Array(B * d), out: new Float32Array(B * d),
  } : undefined;
  const CACHED: Partial<Record<string, 'attnIn' | 'oIn' | 'mlpIn' | 'downIn'>> = { attn_q: 'attnIn', attn_output: 'oIn', ffn_gate: 'mlpIn', ffn_down: 'downIn' };
  const label = `awq: scales ${enabled.map((g) => g.modules.join('+')).join(', ')}`;
  ctx.status(label);
  await ctx.forward({
    weights: L,
    label,
    advance: true,
    observe(input, batch) {
      if (single) collect(input, batch);
      const key = cache && CACHED[shortName(input.tensor)];
      if (key) cache[key].set(input.x.subarray(0, input.nTokens * input.cols));
    },
    observeOutput: cache && ((out) => {
      const name = shortName(out.tensor);
      if (name === 'attn_output') cache.yAttn.set(out.y.subarray(0, out.nTokens * out.rows));
      else if (name === 'ffn_down') cache.yMlp.set(out.y.subarray(0, out.nTokens * out.rows));
    }),
    afterBatch: cache && (async (batch, runner) => {
      searches ??= prepare();
      const n = batch.count * nTok * d;
      const fwd = { engine: ctx.engine };
      const out = cache.out.subarray(0, n);
      for (const gs of searches) {
        const g = gs.group;
        const ref = (g.inspect === 'attn' ? cache.yAttn : cache.yMlp).subarray(0, n);
        for (const [k, s] of gs.scales.entries()) {
          if (gs.same[k]! >= 0) continue;
          if (ctx.signal?.aborted) throw new CancelledError();
          const ws = gs.linears.map((l) => scaledPseudoQuantize(l, gs.cols, s, spec));
          const cand: LayerWeights = { ...L };
          g.modules.forEach((m, i) => { cand[WEIGHT_KEY[m]] = matrixOf(ws[i]!, rowsOf(m), cols(m)); });
          if (g.prevOp === 'attn_norm') await runner.attention(il, cand, cache.attnIn, out, fwd);
          else if (g.prevOp === 'ffn_norm') await runner.ffn(il, cand, cache.mlpIn, out, fwd);
          else if (g.prevOp === 'attn_v') await ctx.engine.matmul(cache.oIn, runner.T, cand.wo, out, L.bo);
          else await ctx.engine.matmul(cache.downIn, runner.T, cand.down!, out, L.bDown);
          let sum = gs.sums[k]!;
          for (let i = 0; i < n; i++) sum += (out[i]! - ref[i]!) ** 2;
          gs.sums[k] = sum;
        }
      }
    }),
  });
  if (!searches) searches = prepare(); // no group enabled: x_mean still checks the activations
  const found: { group: GroupDef; scales: Float32Array; report: AwqScaleGroup }[] = [];
  for (const gs of searches) {
    const losses = gs.sums.map((sum, k) => (gs.same[k]! >= 0 ? gs.sums[gs.same[k]!]! : sum) / (T * d));
    let r;
    try {
      r = chooseAwqScale(gs.scales, losses);
    } catch (err) {
      if (err instanceof RangeError) throw new FormatError('NON_FINITE_LOSS', `layer ${il}: the AWQ scale search of ${gs.group.modules.join('/')} found no finite loss (NaN or inf activations or weights)`, { file: ctx.model.path, layer: il }, { cause: err });
      throw err;
    }
    found.push({ group: gs.group, scales: r.scales, report: { prevOp: gs.group.prevOp, modules: gs.group.modules, ratio: r.ratio, lossBefore: r.lossBefore, lossAfter: r.lossAfter } });
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
  return { quantized, reference, vectors, report: { modules, scaleGroups: found.map((f) => f.report) } };
}
