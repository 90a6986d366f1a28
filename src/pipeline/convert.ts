/**
 * `gguf-forge convert`: a Hugging Face model folder (or `hf:` repo, or AWQ/GPTQ checkpoint) → GGUF,
 * as one plan (plan-convert.ts) and its execution (execute-plan.ts). A dry run stops after the
 * plan: for an `hf:` source nothing but the config, tokenizer files and safetensors headers is
 * fetched. Validation (round-trip metrics, anomalies, a structural re-read) is on by default.
 */
import { planConvert, type ConvertPlanOptions } from './plan-convert.ts';
import { executePlan, type ExecuteOptions } from './execute-plan.ts';
import { planFacts, type ConvertPlan } from './plan.ts';
import type { ConvertSummary, PipelineEvent } from './events.ts';
import { resolveSource, type ResolvedSource } from '../hub/resolve-source.ts';
import { parseHubSource } from '../hub/source.ts';

export interface ConvertOptions extends ConvertPlanOptions, Omit<ExecuteOptions, 'quantizer' | 'started'> {
  dryRun?: boolean;
  /** `--imatrix auto`: the calibration text (default corpus), chunks and context of the computation. */
  calib?: { file?: string; chunks?: number; ctx?: number };
  /** Run this plan (made earlier, e.g. for the TUI's plan screen) instead of planning again. */
  plan?: ConvertPlan;
  /** Called with the plan once it is made, so a caller can run it later with `plan`. */
  onPlan?: (plan: ConvertPlan) => void;
}

export async function* convertModel(opts: ConvertOptions): AsyncGenerator<PipelineEvent, ConvertSummary> {
  const started = performance.now();
  let planOpts: ConvertPlanOptions = opts;
  if (opts.imatrix === 'auto' && !opts.imatrixComputed && !opts.dryRun && !opts.plan) {
    // Computed from the source folder itself, in this run: no intermediate f16 file. The forward
    // needs every weight, so an hf: source is pulled whole into the Hub cache first (resumable,
    // with download events), and the plan is then made from that snapshot, not from remote headers.
    let resolved: ResolvedSource | undefined;
    if (parseHubSource(opts.source)) resolved = yield* resolveSource(opts.source, { ...opts.hub, signal: opts.signal });
    const { computeImatrix } = await import('./imatrix-compute.ts');
    const r = yield* computeImatrix({ model: resolved?.dir ?? opts.source, calibFile: opts.calib?.file, chunks: opts.calib?.chunks, ctx: opts.calib?.ctx, threads: opts.threads, signal: opts.signal });
    planOpts = { ...opts, imatrixComputed: { imatrix: r.imatrix, file: 'auto' }, ...(resolved ? { resolved } : {}) };
  }
  const plan = opts.plan ?? (yield* planConvert(planOpts));
  opts.onPlan?.(plan);
  if (opts.dryRun) return yield* dryRunSummary(plan, started);
  return yield* executePlan(plan, { ...opts, started });
}

/** A conversion plan reported as a dry run's result. */
export async function* dryRunSummary(plan: ConvertPlan, started = performance.now()): AsyncGenerator<PipelineEvent, ConvertSummary> {
  const summary: ConvertSummary = {
    kind: 'convert', dryRun: true, ...planFacts(plan), seconds: (performance.now() - started) / 1000,
    source: plan.source, dir: plan.dir, architecture: plan.architecture, parameters: plan.parameters, ...(plan.hub ? { hub: plan.hub } : {}),
  };
  yield { type: 'done', summary };
  return summary;
}
