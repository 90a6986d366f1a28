/**
 * Broad tensor categories the type policy keys on (`tensor_get_category` in llama.cpp's
 * src/llama-quant.cpp). Matching is by substring, checked in this order; the first match wins.
 */
export type TensorCategory =
  | 'output' | 'token_embd' | 'attn_qkv' | 'attn_kv_b' | 'attn_v' | 'attn_k' | 'attn_q'
  | 'attn_output' | 'ffn_up' | 'ffn_gate' | 'ffn_down' | 'other';

const SUBSTRING_CATEGORIES: readonly [string, TensorCategory][] = [
  ['attn_qkv.weight', 'attn_qkv'],
  ['attn_kv_b.weight', 'attn_kv_b'],
  ['attn_v.weight', 'attn_v'],
  ['attn_k.weight', 'attn_k'],
  ['attn_q.weight', 'attn_q'],
  ['attn_output.weight', 'attn_output'],
  ['ffn_up', 'ffn_up'],
  ['ffn_gate', 'ffn_gate'],
  ['ffn_down', 'ffn_down'],
];

export function tensorCategory(name: string): TensorCategory {
  if (name === 'output.weight') return 'output';
  if (name === 'token_embd.weight' || name === 'per_layer_token_embd.weight') return 'token_embd';
  for (const [needle, cat] of SUBSTRING_CATEGORIES) if (name.includes(needle)) return cat;
  return 'other';
}

/** attn_v-like tensors (`category_is_attn_v`): the ones llama.cpp gives more bits. */
export function isAttnVLike(cat: TensorCategory): boolean {
  return cat === 'attn_v' || cat === 'attn_qkv' || cat === 'attn_kv_b';
}
