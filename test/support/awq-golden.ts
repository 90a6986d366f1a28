/**
 * The AWQ golden configurations: what calibrated AWQ chose on the test models before the search was
 * restructured for speed (one forward per sub-batch, halves and single linears on cached inputs).
 * Each run is summarised as its exact choices — every group's ratio and losses, every module's clip
 * loss, and sha256 digests of the codes, fp16 scales and zeros, the scaled and clipped weights and
 * the rescaled vectors — so a faster search is shown to pick the same scales, clips and bytes.
 * test/fixtures/awq-golden.json was written by `npx tsx test/support/awq-golden-write.ts` with the
 * implementation of commit 7ac0abe (the per-candidate block forwards).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openModelWeights } from '../../src/model/open-model.ts';
import type { ModelWeights, WeightMatrix } from '../../src/model/weights.ts';
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import { calibrateModel as runLoop } from '../../src/calibrate/loop.ts';
import { planCalibMemory } from '../../src/calibrate/memory.ts';
import { awqMethod, type AwqMethodOptions } from '../../src/calibrate/awq-method.ts';
import { BLOCK_MODULES, type BlockModule } from '../../src/calibrate/layer-method.ts';
import type { GroupwiseSpec } from '../../kernels/groupwise/spec.ts';
import { loadCalibDocuments, calibrationSet } from '../../src/pipeline/calib-text.ts';
import { addsBos, llamaTokenizer } from '../../src/pipeline/eval-plan.ts';
import { ensureSamples, SAMPLE } from '../../samples/lib/index.ts';
import { f32Matrix } from './calib-harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CALIB_FILE = join(ROOT, 'test', 'fixtures', 'stories-calib.txt');

export interface GoldenConfig {
  name: string;
  model: 'stories' | 'stories-multihead' | 'llama256';
  spec: GroupwiseSpec;
  samples: number;
  seqlen: number;
  /** Samples per forward sub-batch (the memory budget is set so the plan picks it); default all. */
  batch?: number;
  modules?: BlockModule[];
  method?: AwqMethodOptions;
}

export const GOLDEN_CONFIGS: GoldenConfig[] = [
  { name: 'stories GQA 4-bit g32, one sub-batch', model: 'stories', spec: { bits: 4, groupSize: 32, sym: false }, samples: 8, seqlen: 128 },
  { name: 'stories multi-head (v→o group) 3-bit g32, sub-batches of 2', model: 'stories-multihead', spec: { bits: 3, groupSize: 32, sym: false }, samples: 6, seqlen: 64, batch: 2 },
  { name: 'stories GQA 4-bit g64 without attn_output and ffn_up (groups off), duo off', model: 'stories', spec: { bits: 4, groupSize: 64, sym: false }, samples: 4, seqlen: 64, modules: ['attn_q', 'attn_k', 'attn_v', 'ffn_gate', 'ffn_down'], method: { duo: false } },
  { name: '256-wide llama 4-bit g128, sub-batches of 3', model: 'llama256', spec: { bits: 4, groupSize: 128, sym: false }, samples: 5, seqlen: 64, batch: 3 },
  { name: '256-wide llama 2-bit g64, nGrid 10, n_sample_token 100', model: 'llama256', spec: { bits: 2, groupSize: 64, sym: false }, samples: 3, seqlen: 64, method: { nGrid: 10, nSampleToken: 100 } },
];

/** stories260K with k/v heads repeated to n_head: v and o then have one shape (AutoAWQ's v→o condition). */
function asMultiHead(m: ModelWeights): ModelWeights {
  const hp = m.hparams, rep = hp.nHead / hp.nHeadKv, hd = hp.headDimK;
  const expand = async (name: string): Promise<WeightMatrix> => {
    const w = await m.matrix(name);
    const src = new Float32Array(w.data.slice().buffer);
    const out = new Float32Array(hp.nHead * hd * w.cols);
    for (let h = 0; h < hp.nHead; h++) out.set(src.subarray(Math.floor(h / rep) * hd * w.cols, (Math.floor(h / rep) + 1) * hd * w.cols), h * hd * w.cols);
    return f32Matrix(out, hp.nHead * hd, w.cols);
  };
  return { ...m, hparams: { ...hp, nHeadKv: hp.nHead }, matrix: (n) => (/attn_[kv]\.weight$/.test(n) ? expand(n) : m.matrix(n)) };
}

const sha = (...parts: ArrayBufferView[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return h.digest('hex').slice(0, 16);
};

export interface GoldenLayer {
  layer: number;
  groups: { prevOp: string; ratio: number; lossBefore: number; lossAfter: number }[];
  modules: { module: string; loss: number; codes: string; reference: string }[];
  vectors: Record<string, string>;
}

export async function runGolden(cfg: GoldenConfig, engine: MatmulEngine): Promise<GoldenLayer[]> {
  const path = cfg.model === 'llama256' ? join(await ensureSamples(), SAMPLE.llama.f32) : join(ROOT, 'samples', 'stories260K');
  const base = await openModelWeights(path);
  try {
    const model = cfg.model === 'stories-multihead' ? asMultiHead(base) : base;
    const set = await calibrationSet(await loadCalibDocuments(CALIB_FILE), { samples: cfg.samples, seqlen: cfg.seqlen, seed: 42, tokenize: (t) => llamaTokenizer(base, t), bos: addsBos(base) });
    const method = awqMethod(cfg.method);
    let maxMemory = 2 ** 31;
    if (cfg.batch) {
      const p = planCalibMemory(model, method, set.nSeq, set.nTok, maxMemory);
      maxMemory = p.residualBytes + p.layerBytes + cfg.batch * p.perSampleBytes;
      const q = planCalibMemory(model, method, set.nSeq, set.nTok, maxMemory);
      if (q.batch !== cfg.batch) throw new Error(`${cfg.name}: the plan gives sub-batches of ${q.batch}, wanted ${cfg.batch}`);
    }
    const modules = new Set<BlockModule>(cfg.modules ?? BLOCK_MODULES);
    const out: GoldenLayer[] = [];
    const steps = runLoop(model, { tokens: set.tokens, nSeq: set.nSeq, nTok: set.nTok, source: 'golden', seed: 42 }, method, { spec: cfg.spec, modules: () => modules, engine, maxMemory });
    for await (const s of steps) {
      if (s.type !== 'calibrated-layer') continue;
      const r = s.result;
      out.push({
        layer: s.layer,
        groups: (r.report.scaleGroups ?? []).map((g) => ({ prevOp: g.prevOp, ratio: g.ratio, lossBefore: g.lossBefore, lossAfter: g.lossAfter })),
        modules: r.report.modules.map((m) => {
          const q = r.quantized.get(m.module as BlockModule)!;
          return { module: m.module, loss: m.loss, codes: sha(q.codes, q.scales, q.zeros, q.gIdx), reference: sha(r.reference!.get(m.module as BlockModule)!) };
        }),
        vectors: Object.fromEntries([...(r.vectors ?? new Map())].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sha(v)])),
      });
    }
    return out;
  } finally {
    await base.close();
  }
}
