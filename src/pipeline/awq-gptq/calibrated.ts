/**
 * The calibrated path of `convert --type awq|gptq`: sets up the calibration run (the source opened
 * for the forward, the calibration samples tokenized with the model's own tokenizer, the kernels)
 * and hands the writer each layer's quantized modules as the layer loop finishes them, in HF
 * module names and HF row order (q/k rows un-permuted from llama.cpp's order the forward uses).
 *
 * The writer asks for layers in order (calibrated plans are written layer by layer), so only the
 * layer being written is held.
 */
import { availableParallelism } from 'node:os';
import { UnsupportedError } from '../../../formats/errors.ts';
import { readHfConfig } from '../../../formats/hf/config.ts';
import { archFor } from '../../../formats/hf/architectures.ts';
import { permutedSourceRow } from '../../../formats/hf/qk-permute.ts';
import type { MatmulEngine } from '../../../kernels/forward/index.ts';
import { createFastEngine } from '../../../kernels/fast/forward-engine.ts';
import type { QuantizedMatrix } from '../../../kernels/groupwise/spec.ts';
import { openModelWeights } from '../../model/open-model.ts';
import type { ModelWeights } from '../../model/weights.ts';
import { calibrateModel, type CalibrationStep } from '../../calibrate/loop.ts';
import { defaultCalibMemory } from '../../calibrate/memory.ts';
import { layerMethodFor } from '../../calibrate/methods.ts';
import type { BlockModule, LayerResult } from '../../calibrate/layer-method.ts';
import { calibrationSet, loadCalibDocuments, DEFAULT_CALIB_SAMPLES, DEFAULT_CALIB_SEQLEN, DEFAULT_CALIB_SEED } from '../calib-text.ts';
import { addsBos, llamaTokenizer } from '../eval-plan.ts';
import type { CalibrationReport } from '../calib-report.ts';
import type { PipelineEvent } from '../events.ts';
import type { PlanItem } from './plan.ts';
import type { ResolvedOptions } from './options.ts';

/** HF linear name inside a block ↔ the forward's module name. */
export const HF_TO_MODULE: Record<string, BlockModule> = {
  'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.o_proj': 'attn_output',
  'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
};
/** HF norm (and bias) tensors a method may rescale (AWQ: norms, and v/up biases when o/down are scaled) ↔ the forward's vector names. */
const HF_TO_VECTOR: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm', 'post_attention_layernorm.weight': 'ffn_norm', 'self_attn.v_proj.bias': 'attn_v.bias', 'mlp.up_proj.bias': 'ffn_up.bias',
};

/** `model.layers.N.rest` → [N, rest], or undefined outside the blocks. */
export function blockPart(name: string): [number, string] | undefined {
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  return m ? [Number(m[1]), m[2]!] : undefined;
}

/** Calibrated plans are written layer by layer (embeddings first, then blocks 0, 1, …, then the rest). */
export function layerOrder(items: PlanItem[]): PlanItem[] {
  const key = (i: PlanItem) => {
    const b = blockPart(i.source.name);
    if (b) return b[0];
    return /embed_tokens/.test(i.source.name) ? -1 : Number.MAX_SAFE_INTEGER;
  };
  return items.map((item, index) => ({ item, index, k: key(item) })).sort((a, b) => a.k - b.k || a.index - b.index).map((x) => x.item);
}

/** Rows of a quantized matrix reordered from llama.cpp's q/k order back to HF's (rows are independent). */
export function unpermuteRows(m: QuantizedMatrix, heads: number): QuantizedMatrix {
  const { rows, cols, groups } = m;
  const codes = new Uint8Array(m.codes.length), scales = new Float32Array(m.scales.length), zeros = new Uint16Array(m.zeros.length);
  for (let r = 0; r < rows; r++) {
    const hf = permutedSourceRow(r, rows, heads);
    codes.set(m.codes.subarray(r * cols, (r + 1) * cols), hf * cols);
    for (let g = 0; g < groups; g++) { scales[g * rows + hf] = m.scales[g * rows + r]!; zeros[g * rows + hf] = m.zeros[g * rows + r]!; }
  }
  return { ...m, codes, scales, zeros };
}

export class CalibratedLayers {
  private current: { layer: number; result: LayerResult } | undefined;
  report: CalibrationReport | undefined;

  private constructor(
    private readonly model: ModelWeights, private readonly engine: MatmulEngine, private readonly ownEngine: boolean,
    private readonly steps: AsyncGenerator<CalibrationStep, CalibrationReport>, private readonly permuteHeads: Partial<Record<BlockModule, number>>,
  ) {}

  static async *open(sourceDir: string, o: ResolvedOptions, packed: PlanItem[]): AsyncGenerator<PipelineEvent, CalibratedLayers> {
    const c = o.calibration;
    const method = c.layerMethod ?? layerMethodFor(o.algorithm as 'gptq' | 'awq', c);
    if (!method) throw new UnsupportedError('METHOD_UNAVAILABLE', `--method ${o.algorithm} is not available in this build; use --method rtn`);
    yield { type: 'phase', phase: 'calibrate', message: 'tokenizing the calibration text' };
    const corpus = await loadCalibDocuments(c.file);
    const model = await openModelWeights(sourceDir);
    let engine: MatmulEngine | undefined;
    try {
      const set = await calibrationSet(corpus, {
        samples: c.samples ?? DEFAULT_CALIB_SAMPLES, seqlen: c.seqlen ?? DEFAULT_CALIB_SEQLEN, seed: c.seed ?? DEFAULT_CALIB_SEED,
        tokenize: (t) => llamaTokenizer(model, t), bos: addsBos(model),
      });
      if (set.nSeq < set.requested) {
        yield { type: 'warning', code: 'CALIB_SHORT', file: set.source, message: `${set.source}: the calibration text has ${set.tokensSeen} tokens, enough for ${set.nSeq} of the ${set.requested} samples of ${set.nTok} tokens; calibrating on ${set.nSeq}` };
      }
      yield { type: 'phase', phase: 'calibrate', message: `${method.name}: ${set.nSeq} samples × ${set.nTok} tokens from ${set.source}` };
      const wanted = new Map<number, Set<BlockModule>>();
      for (const i of packed) {
        const b = blockPart(i.source.name.replace(/\.weight$/, ''));
        const m = b && HF_TO_MODULE[b[1]];
        if (b && m) { if (!wanted.has(b[0])) wanted.set(b[0], new Set()); wanted.get(b[0])!.add(m); }
      }
      const permute = archFor(await readHfConfig(sourceDir)).permuteQK;
      const hp = model.hparams;
      const ownEngine = !c.engine;
      engine = c.engine ?? await createFastEngine({ threads: c.threads ?? availableParallelism() });
      const steps = calibrateModel(model, { tokens: set.tokens, nSeq: set.nSeq, nTok: set.nTok, source: set.source, seed: c.seed ?? DEFAULT_CALIB_SEED }, method, {
        spec: { bits: o.bits, groupSize: o.groupSize, sym: o.sym, descAct: o.descAct },
        modules: (il) => wanted.get(il) ?? new Set(), engine, maxMemory: c.maxMemory ?? defaultCalibMemory(), thresholds: o.lossThresholds, signal: o.signal,
      });
      return new CalibratedLayers(model, engine, ownEngine, steps, permute ? { attn_q: hp.nHead, attn_k: hp.nHeadKv } : {});
    } catch (e) {
      if (engine && !c.engine) await engine.close();
      await model.close();
      throw e;
    }
  }

  /** Runs the loop until layer `il` is calibrated, passing its progress events on. */
  async *ensureLayer(il: number): AsyncGenerator<PipelineEvent> {
    while (!this.current || this.current.layer < il) {
      const r = await this.steps.next();
      if (r.done) { this.report = r.value; return; }
      if (r.value.type === 'calibrated-layer') this.current = { layer: r.value.layer, result: r.value.result };
      else yield r.value;
    }
  }

  /** Runs the remaining layers (none, when every layer was written) and returns the report. */
  async *finish(): AsyncGenerator<PipelineEvent, CalibrationReport> {
    while (!this.report) {
      const r = await this.steps.next();
      if (r.done) this.report = r.value;
      else if (r.value.type !== 'calibrated-layer') yield r.value;
    }
    return this.report;
  }

  /** The quantized module `model.layers.N.<linear>` (HF row order), once its layer is calibrated. */
  quantized(hfModule: string): QuantizedMatrix | undefined {
    const b = blockPart(hfModule);
    const m = b && HF_TO_MODULE[b[1]];
    if (!b || !m || this.current?.layer !== b[0]) return undefined;
    const q = this.current.result.quantized.get(m);
    const heads = this.permuteHeads[m];
    return q && heads ? unpermuteRows(q, heads) : q;
  }

  /** The float weights the codes of `model.layers.N.<linear>` approximate (HF row order), when the method says they are not the source's. */
  reference(hfModule: string): Float32Array | undefined {
    const b = blockPart(hfModule);
    const m = b && HF_TO_MODULE[b[1]];
    if (!b || !m || this.current?.layer !== b[0]) return undefined;
    const w = this.current.result.reference?.get(m);
    const heads = this.permuteHeads[m];
    if (!w || !heads) return w;
    const rows = this.current.result.quantized.get(m)!.rows, cols = w.length / rows;
    const out = new Float32Array(w.length);
    for (let r = 0; r < rows; r++) out.set(w.subarray(r * cols, (r + 1) * cols), permutedSourceRow(r, rows, heads) * cols);
    return out;
  }

  /** A rescaled norm vector (AWQ) replacing the source tensor `hfName`, if the method changed it. */
  vector(hfName: string): Float32Array | undefined {
    const b = blockPart(hfName);
    const v = b && HF_TO_VECTOR[b[1]];
    return b && v && this.current?.layer === b[0] ? this.current.result.vectors?.get(v) : undefined;
  }

  async close(): Promise<void> {
    await this.steps.return(undefined as never).catch(() => undefined);
    if (this.ownEngine) await this.engine.close();
    await this.model.close();
  }
}
