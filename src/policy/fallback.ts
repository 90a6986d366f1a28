/**
 * Shape fallbacks (`tensor_type_fallback` in src/llama-quant.cpp, pinned llama.cpp; reference doc
 * §7.3 step 4). A block type needs `ne[0]` to be a multiple of its block size; when it is not,
 * llama.cpp demotes the type. This runs after every other rule, including `--pure` and manual
 * overrides.
 */
import { GgmlTypeId as T, ggmlType } from '../../kernels/ggml-types.ts';

/** The demotion table: types missing here have no smaller-block replacement. */
const FALLBACK_OF: ReadonlyMap<number, number> = new Map([
  ...[T.IQ1_S, T.IQ1_M, T.IQ2_XXS, T.IQ2_XS, T.IQ2_S, T.IQ3_XXS, T.IQ3_S, T.IQ4_XS].map((t) => [t, T.IQ4_NL] as const),
  ...[T.Q2_0, T.Q2_K, T.Q3_K, T.TQ1_0, T.TQ2_0].map((t) => [t, T.Q4_0] as const),
  [T.Q4_K, T.Q5_0],
  [T.Q5_K, T.Q5_1],
  [T.Q6_K, T.Q8_0],
]);

export type FallbackResult =
  | { kind: 'fits'; type: number }
  | { kind: 'fallback'; type: number; reason: string }
  /** llama.cpp throws "no tensor type fallback is defined for type X". */
  | { kind: 'none'; reason: string };

const nameOf = (t: number) => ggmlType(t)?.name ?? `type ${t}`;
const blockOf = (t: number) => ggmlType(t)?.blockSize ?? 1;

export function shapeFallback(ncols: number, target: number): FallbackResult {
  const qk = blockOf(target);
  if (ncols % qk === 0) return { kind: 'fits', type: target };
  const why = `ne[0]=${ncols} is not divisible by ${qk} (required for ${nameOf(target)})`;
  let next = FALLBACK_OF.get(target);
  if (next === undefined) {
    // Current llama.cpp: a 32-block type has nothing smaller to demote to; the F16 check below
    // catches it. Only block sizes above 32 without a table entry are an error.
    if (qk > 32) return { kind: 'none', reason: `${why}, and no tensor type fallback is defined for ${nameOf(target)}` };
    next = target;
  }
  if (ncols % blockOf(next) !== 0) {
    return { kind: 'fallback', type: T.F16, reason: `${why}; ${next === target ? 'no smaller block type' : `${nameOf(next)} does not fit either`}, so F16` };
  }
  return { kind: 'fallback', type: next, reason: why };
}

/** Every shape fallback of a plan as a sentence naming the tensor: none is ever silent. */
export function fallbackNotes(plans: readonly { name: string; fallback?: { from: number; to: number; reason: string } }[]): { tensor: string; message: string }[] {
  return plans.filter((p) => p.fallback).map((p) => ({ tensor: p.name, message: `${p.name}: ${nameOf(p.fallback!.from)} → ${nameOf(p.fallback!.to)}: ${p.fallback!.reason}` }));
}
