/**
 * The per-category refinements a quantized file type applies on top of its default tensor type
 * (`llama_tensor_get_type_impl` in src/llama-quant.cpp; reference doc §7.3 rules A–I), for the
 * file types gguf-forge writes: q4_0, q4_1, q5_0, q5_1, q8_0, q2_K, q3_K_S/M/L, q4_K_S/M, q5_K_S/M, q6_K,
 * iq4_NL and iq4_XS.
 * No importance matrix and no Falcon-specific branches (Falcon is not a supported architecture).
 *
 * Each rule returns the chosen type and a rule name so a plan can say why a tensor got its type.
 */
import { GgmlTypeId as T, ggmlType } from '../../kernels/ggml-types.ts';
import { FormatError } from '../../formats/errors.ts';
import { type ModelFacts, is70B, nGqa, useMoreBits } from './model-facts.ts';
import { type TensorCategory, isAttnVLike } from './tensor-category.ts';
import { layerIndexOf } from './tensor-order.ts';

export const MIXTURE_FILE_TYPES = [
  'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q8_0', 'q2_K', 'q3_K_S', 'q3_K_M', 'q3_K_L',
  'q4_K_S', 'q4_K_M', 'q5_K_S', 'q5_K_M', 'q6_K', 'iq4_NL', 'iq4_XS',
] as const;
export type MixtureFileType = (typeof MIXTURE_FILE_TYPES)[number];

/** Counters llama.cpp advances as it visits tensors in sorted order (`quantize_state_impl`). */
export interface MixtureState {
  facts: ModelFacts;
  nAttentionWv: number;
  iAttentionWv: number;
  iFfnDown: number;
  iFfnGate: number;
  iFfnUp: number;
  /** No tensor named exactly `output.weight`: token_embd doubles as the output. */
  tiedEmbeddings: boolean;
  /** `--output-tensor-type`, applied here to a tied token_embd. */
  outputTensorType?: number;
}

export interface RuleResult {
  type: number;
  rule: string;
  /** Set when the tensor's shape changed the choice: the type it would have had, and why not. */
  shape?: { wanted: number; note: string };
}

/** Dense models use the visit counter as the layer; MoE models parse `blk.N.` from the name. */
function layerOf(counter: number, name: string, s: MixtureState): number {
  if (Math.max(1, s.facts.nExpert) <= 1) return counter;
  const i = layerIndexOf(name);
  if (!name.startsWith('blk.') || i < 0 || i >= s.facts.nLayer) {
    throw new FormatError('BAD_LAYER', `cannot determine the layer of tensor '${name}' (expected blk.N. with N < ${s.facts.nLayer})`, { tensor: name });
  }
  return i;
}

export function applyMixtureRules(name: string, ne: readonly number[], cat: TensorCategory, ftype: MixtureFileType, defaultType: number, s: MixtureState): RuleResult {
  const f = s.facts;
  // Rule A: the output tensor (and a tied token_embd) gets more bits.
  if (cat === 'output' || (s.tiedEmbeddings && cat === 'token_embd')) {
    const tag = cat === 'output' ? 'output' : 'tied-token-embd-as-output';
    if (s.outputTensorType !== undefined) return { type: s.outputTensorType, rule: `${tag}:--output-tensor-type` };
    const qk = ggmlType(defaultType)!.blockSize;
    if (ne[0]! % qk !== 0) {
      const wanted = defaultType !== T.Q8_0 ? T.Q6_K : T.Q8_0;
      const note = `ne[0]=${ne[0]} is not divisible by ${qk} (block of ${ggmlType(defaultType)!.name}), so the output rule picks Q8_0`;
      return { type: T.Q8_0, rule: `${tag}:shape-q8_0`, shape: { wanted, note } };
    }
    if (defaultType !== T.Q8_0) return { type: T.Q6_K, rule: `${tag}:q6_K` };
    return { type: defaultType, rule: `${tag}:default` };
  }
  // Rule B: an untied token_embd keeps the default for these file types.
  if (cat === 'token_embd') return { type: defaultType, rule: 'token-embd:default' };

  if (isAttnVLike(cat)) {
    const i = s.iAttentionWv;
    let type = defaultType;
    let rule = 'attn-v:default';
    if (ftype === 'q2_K') { type = nGqa(f) >= 4 ? T.Q4_K : T.Q3_K; rule = 'attn-v:q2_K-by-gqa'; }
    else if (ftype === 'q3_K_M') { type = i < 2 ? T.Q5_K : T.Q4_K; rule = 'attn-v:q3_K_M-first-two'; }
    else if (ftype === 'q3_K_L') { type = T.Q5_K; rule = 'attn-v:q3_K_L'; }
    else if ((ftype === 'iq4_NL' || ftype === 'iq4_XS') && nGqa(f) >= 4) { type = T.Q5_K; rule = 'attn-v:iq4-gqa'; }
    else if ((ftype === 'q4_K_M' || ftype === 'q5_K_M') && useMoreBits(i, s.nAttentionWv)) { type = T.Q6_K; rule = 'attn-v:use-more-bits'; }
    else if (ftype === 'q4_K_S' && i < 4) { type = T.Q5_K; rule = 'attn-v:q4_K_S-first-four'; }
    if (is70B(f) && (type === T.Q3_K || type === T.Q4_K)) { type = T.Q5_K; rule += '+70B'; }
    if (f.nExpert === 8) { type = T.Q8_0; rule = 'attn-v:8-experts'; }
    s.iAttentionWv++;
    return { type, rule };
  }
  if (cat === 'attn_k') {
    return f.nExpert === 8 ? { type: T.Q8_0, rule: 'attn-k:8-experts' } : { type: defaultType, rule: 'attn-k:default' };
  }
  if (cat === 'attn_q') return { type: defaultType, rule: 'attn-q:default' };

  if (cat === 'ffn_down') {
    const i = layerOf(s.iFfnDown, name, s);
    const n = f.nLayer;
    let r: RuleResult = { type: defaultType, rule: 'ffn-down:default' };
    if (ftype === 'q2_K') r = { type: T.Q3_K, rule: 'ffn-down:q2_K' };
    else if (ftype === 'q3_K_M') r = i < Math.trunc(n / 16) ? { type: T.Q5_K, rule: 'ffn-down:q3_K_M-first-sixteenth' } : { type: T.Q4_K, rule: 'ffn-down:q3_K_M' };
    else if (ftype === 'q3_K_L') r = { type: T.Q5_K, rule: 'ffn-down:q3_K_L' };
    else if (ftype === 'q4_K_M') { if (useMoreBits(i, n)) r = { type: T.Q6_K, rule: 'ffn-down:use-more-bits' }; }
    else if (i < Math.trunc(n / 8) && (ftype === 'iq4_NL' || ftype === 'iq4_XS')) r = { type: T.Q5_K, rule: 'ffn-down:iq4-first-eighth' };
    else if (ftype === 'q5_K_M' && useMoreBits(i, n)) r = { type: T.Q6_K, rule: 'ffn-down:use-more-bits' };
    else if (ftype === 'q4_K_S' && i < Math.trunc(n / 8)) r = { type: T.Q5_K, rule: 'ffn-down:q4_K_S-first-eighth' };
    s.iFfnDown++;
    return r;
  }
  if (cat === 'attn_output') {
    if (f.nExpert === 8) {
      if (ftype === 'q2_K' || ftype === 'q3_K_S' || ftype === 'q3_K_M' || ftype === 'q4_K_S' || ftype === 'q4_K_M' || ftype === 'iq4_NL' || ftype === 'iq4_XS') {
        return { type: T.Q5_K, rule: 'attn-output:8-experts' };
      }
      return { type: defaultType, rule: 'attn-output:default' };
    }
    if (ftype === 'q2_K') return { type: T.Q3_K, rule: 'attn-output:q2_K' };
    if (ftype === 'q3_K_M') return { type: T.Q4_K, rule: 'attn-output:q3_K_M' };
    if (ftype === 'q3_K_L') return { type: T.Q5_K, rule: 'attn-output:q3_K_L' };
    return { type: defaultType, rule: 'attn-output:default' };
  }
  // attn_qkv never gets here: it is attn_v-like and that branch wins first (as in llama.cpp).
  if (cat === 'ffn_gate' || cat === 'ffn_up') {
    // Only the IQ3_XS file type changes these; the visit still advances the counter (and, for
    // MoE models, still requires a parsable layer).
    if (cat === 'ffn_gate') { layerOf(s.iFfnGate, name, s); s.iFfnGate++; } else { layerOf(s.iFfnUp, name, s); s.iFfnUp++; }
    return { type: defaultType, rule: `${cat.replace('_', '-')}:default` };
  }
  return { type: defaultType, rule: 'default' };
}
