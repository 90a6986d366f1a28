/**
 * The per-category refinements a quantized file type applies on top of its default tensor type
 * (`llama_tensor_get_type_impl` in src/llama-quant.cpp; reference doc §7.3 rules A–I), for the
 * file types gguf-forge writes: q4_0, q4_1, q5_0, q5_1, q8_0, q2_K, q2_K_S, q3_K_S/M/L, q4_K_S/M, q5_K_S/M,
 * q6_K, iq4_NL, iq4_XS and the IQ1/IQ2/IQ3 mixes, including the rules that depend on whether an
 * importance matrix is given (`qs.has_imatrix`). No Falcon-specific branches (Falcon is not a
 * supported architecture).
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
  'q2_K_S', 'iq2_XXS', 'iq2_XS', 'iq2_S', 'iq2_M', 'iq3_XXS', 'iq3_XS', 'iq3_S', 'iq3_M', 'iq1_S', 'iq1_M',
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
  /** An importance matrix was given (`qs.has_imatrix`). */
  hasImatrix?: boolean;
}

/** The mixes llama.cpp treats as one family: 2-bit-ish IQ types (`LLAMA_FTYPE_MOSTLY_IQ2_XXS` … `IQ1_M`). */
const IQ2_FAMILY: readonly MixtureFileType[] = ['iq2_XXS', 'iq2_XS', 'iq1_S', 'iq2_S', 'iq2_M', 'iq1_M'];
/** The mixes whose output tensor gets Q5_K instead of Q6_K. */
const OUTPUT_Q5_K: readonly MixtureFileType[] = ['iq2_XXS', 'iq2_XS', 'iq3_XXS', 'iq1_S', 'iq2_S', 'iq2_M', 'iq1_M'];
/** The mixes whose attn_output gets Q5_K in 8-expert models. */
const ATTN_OUT_8_EXPERTS: readonly MixtureFileType[] = ['q2_K', 'iq3_XS', 'iq3_XXS', 'q3_K_S', 'q3_K_M', 'iq4_NL', 'q4_K_S', 'q4_K_M', 'iq3_S', 'iq3_M', 'iq4_XS'];

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
  const imatrix = s.hasImatrix === true;
  // Rule A: the output tensor (and a tied token_embd) gets more bits.
  if (cat === 'output' || (s.tiedEmbeddings && cat === 'token_embd')) {
    const tag = cat === 'output' ? 'output' : 'tied-token-embd-as-output';
    if (s.outputTensorType !== undefined) return { type: s.outputTensorType, rule: `${tag}:--output-tensor-type` };
    const qk = ggmlType(defaultType)!.blockSize;
    const wantedType = OUTPUT_Q5_K.includes(ftype) ? T.Q5_K : defaultType !== T.Q8_0 ? T.Q6_K : T.Q8_0;
    if (ne[0]! % qk !== 0) {
      const note = `ne[0]=${ne[0]} is not divisible by ${qk} (block of ${ggmlType(defaultType)!.name}), so the output rule picks Q8_0`;
      return { type: T.Q8_0, rule: `${tag}:shape-q8_0`, shape: { wanted: wantedType, note } };
    }
    if (OUTPUT_Q5_K.includes(ftype)) return { type: T.Q5_K, rule: `${tag}:iq-q5_K` };
    if (defaultType !== T.Q8_0) return { type: T.Q6_K, rule: `${tag}:q6_K` };
    return { type: defaultType, rule: `${tag}:default` };
  }
  // Rule B: an untied token_embd keeps the default, except for the IQ1/IQ2/IQ3_XXS mixes.
  if (cat === 'token_embd') {
    if (ftype === 'iq2_XXS' || ftype === 'iq2_XS' || ftype === 'iq1_S' || ftype === 'iq1_M') return { type: T.Q2_K, rule: 'token-embd:iq-q2_K' };
    if (ftype === 'iq2_S' || ftype === 'iq2_M' || ftype === 'iq3_XXS') return { type: T.IQ3_S, rule: 'token-embd:iq-iq3_S' };
    return { type: defaultType, rule: 'token-embd:default' };
  }
  if (IQ2_FAMILY.includes(ftype)) return iq2FamilyRules(name, cat, ftype, defaultType, s);

  if (isAttnVLike(cat)) {
    const i = s.iAttentionWv;
    let type = defaultType;
    let rule = 'attn-v:default';
    if (ftype === 'q2_K') { type = nGqa(f) >= 4 ? T.Q4_K : T.Q3_K; rule = 'attn-v:q2_K-by-gqa'; }
    else if (ftype === 'q2_K_S' && nGqa(f) >= 4) { type = T.Q4_K; rule = 'attn-v:q2_K_S-gqa'; }
    else if (ftype === 'iq3_XXS') { type = nGqa(f) >= 4 ? T.Q4_K : !imatrix ? T.IQ3_S : T.IQ3_XXS; rule = `attn-v:iq3_XXS-${nGqa(f) >= 4 ? 'gqa' : imatrix ? 'imatrix' : 'no-imatrix'}`; }
    else if ((ftype === 'iq3_XS' || ftype === 'iq3_S') && nGqa(f) >= 4) { type = T.Q4_K; rule = 'attn-v:iq3-gqa'; }
    else if (ftype === 'iq3_M') { type = T.Q4_K; rule = 'attn-v:iq3_M'; }
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
    if (f.nExpert === 8) return { type: T.Q8_0, rule: 'attn-k:8-experts' };
    if (ftype === 'iq3_XS') return { type: T.IQ3_XXS, rule: 'attn-k:iq3_XS' };
    if (ftype === 'iq3_XXS') return { type: T.IQ2_S, rule: 'attn-k:iq3_XXS' };
    return { type: defaultType, rule: 'attn-k:default' };
  }
  if (cat === 'attn_q') {
    if (ftype === 'iq3_XS') return { type: T.IQ3_XXS, rule: 'attn-q:iq3_XS' };
    if (ftype === 'iq3_XXS') return { type: T.IQ2_S, rule: 'attn-q:iq3_XXS' };
    return { type: defaultType, rule: 'attn-q:default' };
  }

  if (cat === 'ffn_down') {
    const i = layerOf(s.iFfnDown, name, s);
    const n = f.nLayer;
    const n8 = Math.trunc(n / 8);
    let r: RuleResult = { type: defaultType, rule: 'ffn-down:default' };
    if (ftype === 'q2_K') r = { type: T.Q3_K, rule: 'ffn-down:q2_K' };
    else if (ftype === 'q2_K_S') { if (i < n8) r = { type: T.Q4_K, rule: 'ffn-down:q2_K_S-first-eighth' }; }
    else if (ftype === 'iq3_XXS' && !imatrix) r = i < n8 ? { type: T.Q4_K, rule: 'ffn-down:iq3_XXS-no-imatrix-first-eighth' } : { type: T.Q3_K, rule: 'ffn-down:iq3_XXS-no-imatrix' };
    else if (ftype === 'q3_K_M') r = i < Math.trunc(n / 16) ? { type: T.Q5_K, rule: 'ffn-down:q3_K_M-first-sixteenth' } : { type: T.Q4_K, rule: 'ffn-down:q3_K_M' };
    else if (ftype === 'iq3_M' && (i < n8 || (f.nExpert === 8 && useMoreBits(i, n)))) r = { type: T.Q4_K, rule: 'ffn-down:iq3_M' };
    else if (ftype === 'q3_K_L') r = { type: T.Q5_K, rule: 'ffn-down:q3_K_L' };
    else if (ftype === 'q4_K_M') { if (useMoreBits(i, n)) r = { type: T.Q6_K, rule: 'ffn-down:use-more-bits' }; }
    else if (i < n8 && (ftype === 'iq4_NL' || ftype === 'iq4_XS') && !imatrix) r = { type: T.Q5_K, rule: 'ffn-down:iq4-no-imatrix-first-eighth' };
    else if (ftype === 'q5_K_M' && useMoreBits(i, n)) r = { type: T.Q6_K, rule: 'ffn-down:use-more-bits' };
    else if (ftype === 'q4_K_S' && i < n8) r = { type: T.Q5_K, rule: 'ffn-down:q4_K_S-first-eighth' };
    // With an imatrix, the first eighth of ffn_down gets the _1 variant ("guard against craziness").
    else if ((ftype === 'q4_0' || ftype === 'q5_0') && imatrix && i < n8) r = { type: ftype === 'q4_0' ? T.Q4_1 : T.Q5_1, rule: 'ffn-down:imatrix-first-eighth' };
    s.iFfnDown++;
    return r;
  }
  if (cat === 'attn_output') {
    if (f.nExpert === 8) {
      return ATTN_OUT_8_EXPERTS.includes(ftype) ? { type: T.Q5_K, rule: 'attn-output:8-experts' } : { type: defaultType, rule: 'attn-output:default' };
    }
    if (ftype === 'q2_K') return { type: T.Q3_K, rule: 'attn-output:q2_K' };
    if (ftype === 'iq3_XXS') return { type: T.IQ3_S, rule: 'attn-output:iq3_XXS' };
    if (ftype === 'q3_K_M') return { type: T.Q4_K, rule: 'attn-output:q3_K_M' };
    if (ftype === 'q3_K_L') return { type: T.Q5_K, rule: 'attn-output:q3_K_L' };
    if (ftype === 'iq3_M') return { type: T.Q4_K, rule: 'attn-output:iq3_M' };
    return { type: defaultType, rule: 'attn-output:default' };
  }
  // attn_qkv never gets here: it is attn_v-like and that branch wins first (as in llama.cpp).
  if (cat === 'ffn_gate' || cat === 'ffn_up') {
    // Only the IQ3_XS file type changes these; the visit still advances the counter (and, for
    // MoE models, still requires a parsable layer).
    const i = cat === 'ffn_gate' ? layerOf(s.iFfnGate, name, s) : layerOf(s.iFfnUp, name, s);
    if (cat === 'ffn_gate') s.iFfnGate++; else s.iFfnUp++;
    const n = f.nLayer;
    if (ftype === 'iq3_XS' && i >= Math.trunc(n / 8) && i < Math.trunc((7 * n) / 8)) return { type: T.IQ3_XXS, rule: `${cat.replace('_', '-')}:iq3_XS-middle` };
    return { type: defaultType, rule: `${cat.replace('_', '-')}:default` };
  }
  return { type: defaultType, rule: 'default' };
}

/** The IQ2_XXS/IQ2_XS/IQ2_S/IQ2_M/IQ1_S/IQ1_M branch: its own attn_v, attn_k, ffn_down and attn_output rules; nothing else changes. */
function iq2FamilyRules(name: string, cat: TensorCategory, ftype: MixtureFileType, defaultType: number, s: MixtureState): RuleResult {
  const f = s.facts;
  const sOrM = ftype === 'iq2_S' || ftype === 'iq2_M';
  if (isAttnVLike(cat)) {
    s.iAttentionWv++;
    if (nGqa(f) >= 4 || f.nExpert >= 4) return { type: T.Q4_K, rule: 'attn-v:iq2-gqa-or-experts' };
    return sOrM ? { type: T.IQ3_S, rule: 'attn-v:iq2_S/M' } : { type: T.Q2_K, rule: 'attn-v:iq2' };
  }
  if (f.nExpert === 8 && cat === 'attn_k') return { type: T.Q4_K, rule: 'attn-k:iq2-8-experts' };
  if (cat === 'ffn_down') {
    // Here llama.cpp compares the visit counter itself (not the parsed layer) with n_layer/8.
    const first = s.iFfnDown < Math.trunc(f.nLayer / 8);
    s.iFfnDown++;
    if (first) return sOrM ? { type: T.IQ3_S, rule: 'ffn-down:iq2_S/M-first-eighth' } : { type: T.Q2_K, rule: 'ffn-down:iq2-first-eighth' };
    return { type: defaultType, rule: 'ffn-down:default' };
  }
  if (cat === 'attn_output') {
    if (f.nExpert === 8) return { type: T.Q5_K, rule: 'attn-output:iq2-8-experts' };
    if (ftype === 'iq1_S' || ftype === 'iq1_M') return { type: T.IQ2_XXS, rule: 'attn-output:iq1' };
    if (sOrM) return { type: T.IQ3_S, rule: 'attn-output:iq2_S/M' };
    return { type: defaultType, rule: 'attn-output:default' };
  }
  void name;
  return { type: defaultType, rule: `${cat.replace('_', '-')}:default` };
}

/** File types llama-quantize cannot make without an importance matrix (some of their tensors need one). */
export const IMATRIX_ONLY_FILE_TYPES: readonly string[] = ['iq2_XXS', 'iq2_XS', 'iq2_S', 'iq2_M', 'iq3_XXS', 'iq3_XS', 'iq1_S', 'iq1_M', 'q2_K_S'];

/**
 * `tensor_requires_imatrix`: the IQ1/IQ2/IQ3_XXS types, and Q2_K inside a q2_K_S file, cannot be
 * quantized without an importance matrix (token_embd and output.weight excepted).
 */
export function requiresImatrix(name: string, targetType: number, ftypeName: string): boolean {
  if (name === 'token_embd.weight' || name === 'per_layer_token_embd.weight' || name === 'output.weight') return false;
  if ([T.IQ3_XXS, T.IQ2_XXS, T.IQ2_XS, T.IQ2_S, T.IQ1_M, T.IQ1_S].includes(targetType as never)) return true;
  return targetType === T.Q2_K && ftypeName === 'q2_K_S';
}
