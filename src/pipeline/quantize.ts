/**
 * `gguf-forge quantize`: GGUF → GGUF requantization as llama-quantize does it, as one plan
 * (plan-quantize.ts) and its execution (execute-plan.ts). A dry run stops after the plan.
 */
import { planQuantize, type QuantizePlanOptions } from './plan-quantize.ts';
import { executePlan, type ExecuteOptions } from './execute-plan.ts';
import { planFacts, type QuantizePlan } from './plan.ts';
import type { PipelineEvent, QuantizeSummary } from './events.ts';

export interface QuantizeOptions extends QuantizePlanOptions, Omit<ExecuteOptions, 'reportPath' | 'failOnAnomaly' | 'started'> {
  dryRun?: boolean;
  /** Run this plan (made earlier, e.g. for the TUI's plan screen) instead of planning again. */
  plan?: QuantizePlan;
  /** Called with the plan once it is made, so a caller can run it later with `plan`. */
  onPlan?: (plan: QuantizePlan) => void;
}

export async function* quantizeGguf(opts: QuantizeOptions): AsyncGenerator<PipelineEvent, QuantizeSummary> {
  const started = performance.now();
  const plan = opts.plan ?? (yield* planQuantize(opts));
  opts.onPlan?.(plan);
  if (opts.dryRun) {
    const summary: QuantizeSummary = {
      kind: 'quantize', dryRun: true, ...planFacts(plan), seconds: (performance.now() - started) / 1000, input: plan.input, inputBytes: plan.inputBytes,
    };
    yield { type: 'done', summary };
    return summary;
  }
  return yield* executePlan(plan, { ...opts, started });
}
