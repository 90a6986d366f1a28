/**
 * A GGUF source in the TUI is `gguf-forge quantize INPUT OUTPUT --type T [--imatrix FILE]`: the
 * quantize pipeline in the shape of the convert function the plan and run screens call (`source`
 * is the input GGUF). The plan made for the plan screen is the one the run executes, as for convert.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { quantizeGguf } from '../../pipeline/quantize.ts';
import type { QuantizePlan } from '../../pipeline/plan.ts';
import type { ConvertFn } from '../screens/plan.tsx';

export const quantizeAsConvert: ConvertFn = (o) => quantizeGguf({
  input: o.source, output: o.output!, fileType: o.fileType, pure: o.pure, force: o.force, imatrix: o.imatrix,
  dryRun: o.dryRun, signal: o.signal, threads: o.threads,
  // The screens hold the plan without looking inside it: a quantize plan goes round as it came.
  plan: o.plan as unknown as QuantizePlan | undefined,
  onPlan: o.onPlan as unknown as ((p: QuantizePlan) => void) | undefined,
});

/** A local GGUF file (what quantize reads), not a model folder. */
export async function isGgufFile(p: string): Promise<boolean> {
  if (/^(hf:|https?:)/.test(p) || !p.toLowerCase().endsWith('.gguf')) return false;
  return (await stat(p).catch(() => null))?.isFile() ?? false;
}

/** `model-F32.gguf` → `model`: the name default outputs start with (as quantize's own hint). */
export const ggufModelName = (file: string) => path.basename(file).replace(/(-f32|-f16|-bf16)?\.gguf$/i, '');
