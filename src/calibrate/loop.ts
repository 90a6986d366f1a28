/**
 * The calibration layer loop shared by GPTQ and AWQ (AutoGPTQ `_base.quantize`, AutoAWQ
 * `AwqQuantizer.quantize`; reference §3.1 / §3.2): embed every calibration sample, then for each
 * decoder layer load its weights, let the method quantize it (it runs the block over the samples
 * through `ctx.forward` as often as it needs), and run the block once more with the weights the
 * method returns to turn this layer's inputs into the next layer's, in place.
 *
 * Memory stays bounded (memory.ts): the residual stream of all samples, one layer, the method's
 * working set, and the per-token temporaries of one sub-batch of samples.
 *
 * It yields progress events and one `calibrated-layer` step per layer (consumed by the writer,
 * which packs the layer's modules), and returns the calibration report.
 */
import { CancelledError, FormatError, UnsupportedError, ValidationError } from '../../formats/errors.ts';
import type { MatmulEngine } from '../../kernels/forward/index.ts';
import type { GroupwiseSpec } from '../../kernels/groupwise/spec.ts';
import { BlockRunner, embedTokens, type ForwardContext, type MatmulInput } from '../model/forward.ts';
import { loadLayer, type LayerWeights } from '../model/layer-weights.ts';
import type { ModelWeights } from '../model/weights.ts';
import type { CalibrationReport, LayerCalibration } from '../pipeline/calib-report.ts';
import type { CalibProgressEvent } from '../pipeline/events.ts';
import { findAnomalies, type LossThresholds } from '../pipeline/calib-anomalies.ts';
import { planCalibMemory, type CalibMemoryPlan } from './memory.ts';
import { BLOCK_MODULES, type BlockModule, type ForwardPass, type LayerMethod, type LayerResult, type SampleRange } from './layer-method.ts';

export interface CalibrationInput {
  /** nSeq · nTok token ids (calib-text.ts calibrationSet). */
  tokens: Int32Array;
  nSeq: number;
  nTok: number;
  source: string;
  seed: number;
}

export interface CalibrateOptions {
  spec: GroupwiseSpec;
  /** Modules to quantize in layer il (default: all seven). */
  modules?: (layer: number) => ReadonlySet<BlockModule>;
  engine: MatmulEngine;
  maxMemory: number;
  thresholds?: Partial<LossThresholds>;
  signal?: AbortSignal;
}

/** A finished layer, for the writer (not a pipeline event: it carries the quantized matrices). */
export interface CalibratedLayer {
  type: 'calibrated-layer';
  layer: number;
  result: LayerResult;
}

export type CalibrationStep = CalibProgressEvent | CalibratedLayer;

/** Thrown by the observer to end a pass once the last needed input was seen. */
const STOP = Symbol('stop-forward');

/** Non-finite activations are the model's (or calibration text's) fault, not the solver's: say which layer. */
export function assertFiniteActivations(x: Float32Array, where: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw new ValidationError('CALIB_NON_FINITE', `${where} has non-finite activations (value ${x[i]} at element ${i}); the weights overflow float32 on the calibration text`);
    }
  }
}

/** A NaN/inf in the source weights is the file's fault: name the tensor before any forward uses it. */
function assertFiniteWeights(model: ModelWeights, il: number, L: LayerWeights): void {
  for (const m of BLOCK_MODULES) {
    const w = L[MODULE_FIELD[m]];
    if (!w || w.type !== 0) continue;
    const v = matrixValues(L, m).values;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) throw new FormatError('NON_FINITE_WEIGHT', `${model.path}: tensor blk.${il}.${m}.weight has a non-finite value (${v[i]}) at row ${Math.floor(i / w.cols)}, column ${i % w.cols}`, { file: model.path, tensor: `blk.${il}.${m}.weight` });
    }
  }
}

export async function* calibrateModel(model: ModelWeights, input: CalibrationInput, method: LayerMethod, opts: CalibrateOptions): AsyncGenerator<CalibrationStep, CalibrationReport> {
  const started = performance.now();
  const hp = model.hparams;
  if (hp.nExpert > 0 || hp.facts.fused) throw new UnsupportedError('CALIB_ARCH', `${model.path}: ${hp.arch} (${hp.nExpert > 0 ? 'mixture of experts' : 'fused qkv'}) is not supported by the calibration loop`, { file: model.path });
  const { nSeq, nTok } = input;
  const plan = planCalibMemory(model, method, nSeq, nTok, opts.maxMemory);
  const d = hp.nEmbd;
  const checkCancel = () => { if (opts.signal?.aborted) throw new CancelledError(); };

  const residual = await embedTokens(model, input.tokens);
  assertFiniteActivations(residual, 'the token embeddings');
  const runners = new Map<number, BlockRunner>();
  const runnerFor = async (count: number) => {
    let r = runners.get(count);
    if (!r) runners.set(count, (r = await BlockRunner.create(model, count, nTok)));
    return r;
  };
  const scratch = new Float32Array(plan.batch * nTok * d);
  const layers: LayerCalibration[] = [];
  const layerSeconds: number[] = [];

  for (let il = 0; il < hp.nLayer; il++) {
    checkCancel();
    const layerStart = performance.now();
    const eta = (fraction: number): number | undefined => {
      if (!layerSeconds.length) return undefined;
      const per = layerSeconds.reduce((a, b) => a + b, 0) / layerSeconds.length;
      return Math.max(0, per * (hp.nLayer - il - fraction));
    };
    const events: CalibProgressEvent[] = [];
    let label = 'load';
    const elapsed = () => (performance.now() - started) / 1000;
    const progress = (state: CalibProgressEvent['state'], samplesDone: number) => events.push({ type: 'calibrate', state, method: method.name, layer: il, nLayer: hp.nLayer, module: label, samplesDone, samples: nSeq, seqlen: nTok, seconds: elapsed(), etaSeconds: eta(0) });
    if (il === 0) progress('start', 0);
    yield* drainEvents(events);

    const weights = await loadLayer(model, il);
    assertFiniteWeights(model, il, weights);
    const pass = (p: ForwardPass, inPlace: boolean) => runPass(il, p, inPlace, { residual, scratch, nSeq, nTok, d, plan, runnerFor, engine: opts.engine, checkCancel, onBatch: (done) => progress('module', done) });
    const work = method.quantizeLayer({
      model, layer: il, nLayer: hp.nLayer, weights, inputs: residual, nSeq, nTok, spec: opts.spec,
      modules: opts.modules?.(il) ?? new Set(BLOCK_MODULES), engine: opts.engine,
      forward: (p) => { label = p.label ?? label; return pass(p, p.advance === true); },
      batchSamples: plan.batch,
      status: (m) => { label = m; progress('module', 0); },
      signal: opts.signal,
    });
    const result = yield* whileRunning(work, events);
    if (result.next) {
      label = 'next inputs';
      yield* whileRunning(pass({ weights: result.next, label }, true), events);
    }
    assertFiniteActivations(residual, `layer ${il} (blk.${il}) output`);
    const seconds = (performance.now() - layerStart) / 1000;
    layerSeconds.push(seconds);
    layers.push({ layer: il, ...result.report, seconds });
    const losses = result.report.modules.map((m) => m.loss);
    yield { type: 'calibrated-layer', layer: il, result };
    yield { type: 'calibrate', state: 'layer', method: method.name, layer: il, nLayer: hp.nLayer, samplesDone: nSeq, samples: nSeq, seqlen: nTok, seconds: elapsed(), etaSeconds: eta(1), loss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : undefined };
  }
  yield { type: 'calibrate', state: 'done', method: method.name, layer: hp.nLayer, nLayer: hp.nLayer, samples: nSeq, seqlen: nTok, seconds: (performance.now() - started) / 1000 };
  return {
    method: method.name,
    calib: { source: input.source, samples: nSeq, seqlen: nTok, seed: input.seed },
    layers,
    anomalies: findAnomalies(layers, opts.thresholds),
    seconds: (performance.now() - started) / 1000,
  };
}

function* drainEvents(events: CalibProgressEvent[]): Generator<CalibProgressEvent> {
  while (events.length) yield events.shift()!;
}

/** Yields the queued progress events while `work` runs; returns its result. */
async function* whileRunning<T>(work: Promise<T>, events: CalibProgressEvent[]): AsyncGenerator<CalibProgressEvent, T> {
  let settled = false;
  const done = work.then((v) => { settled = true; return v; }, (e) => { settled = true; throw e; });
  while (!settled) {
    yield* drainEvents(events);
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 50))]);
  }
  yield* drainEvents(events);
  return done;
}

interface PassEnv {
  residual: Float32Array;
  scratch: Float32Array;
  nSeq: number;
  nTok: number;
  d: number;
  plan: CalibMemoryPlan;
  runnerFor: (count: number) => Promise<BlockRunner>;
  engine: MatmulEngine;
  checkCancel: () => void;
  onBatch: (samplesDone: number) => void;
}

/**
 * One forward of block `il` over every sample, `plan.batch` samples at a time: on a copy of the
 * inputs (a method's statistics pass), or in place (the pass that makes the next layer's inputs).
 */
async function runPass(il: number, p: ForwardPass, inPlace: boolean, env: PassEnv): Promise<void> {
  const { residual, scratch, nSeq, nTok, d, plan } = env;
  const stopName = p.stopAfter && p.stopAfter !== 'end' ? `blk.${il}.${p.stopAfter}.weight` : undefined;
  for (let start = 0; start < nSeq; start += plan.batch) {
    env.checkCancel();
    const count = Math.min(plan.batch, nSeq - start);
    const range: SampleRange = { start, count };
    const src = residual.subarray(start * nTok * d, (start + count) * nTok * d);
    let x = src;
    if (!inPlace) {
      x = scratch.subarray(0, src.length);
      x.set(src);
    }
    let last = '';
    const engine: MatmulEngine = p.observeOutput
      ? {
        name: env.engine.name, threads: env.engine.threads,
        matmul: async (xx, nTokens, w, out, bias) => {
          await env.engine.matmul(xx, nTokens, w, out, bias);
          await p.observeOutput!({ tensor: last, layer: il, y: out.subarray(0, nTokens * w.rows), nTokens, rows: w.rows }, range);
        },
        attention: (...a) => env.engine.attention(...a),
        close: () => env.engine.close(),
      }
      : env.engine;
    const ctx: ForwardContext = {
      engine,
      observer: async (inp: MatmulInput) => {
        last = inp.tensor;
        if (p.observe) await p.observe(inp, range);
        if (inp.tensor === stopName) throw STOP;
      },
    };
    const runner = await env.runnerFor(count);
    try {
      await runner.run(il, p.weights, x, ctx);
    } catch (e) {
      if (e !== STOP) throw e;
    }
    if (p.afterBatch) await p.afterBatch(range, runner);
    env.onBatch(start + count);
  }
}

/** The block's matrices by module name (what a method reads and substitutes). */
export const MODULE_FIELD: Record<BlockModule, 'wq' | 'wk' | 'wv' | 'wo' | 'gate' | 'up' | 'down'> = {
  attn_q: 'wq', attn_k: 'wk', attn_v: 'wv', attn_output: 'wo', ffn_gate: 'gate', ffn_up: 'up', ffn_down: 'down',
};

/** A layer's matrix as float32 values (the HF path loads F32; anything else is dequantized by the caller first). */
export function matrixValues(L: LayerWeights, m: BlockModule): { rows: number; cols: number; values: Float32Array } {
  const w = L[MODULE_FIELD[m]]!;
  if (w.type !== 0) throw new UnsupportedError('CALIB_WEIGHT_TYPE', `${m}: calibration needs float32 weights (ggml type ${w.type}); convert from an unquantized source`);
  const n = w.rows * w.cols;
  const values = w.data.byteOffset % 4 === 0 ? new Float32Array(w.data.buffer, w.data.byteOffset, n) : new Float32Array(w.data.slice(0, 4 * n).buffer);
  return { rows: w.rows, cols: w.cols, values };
}
