/**
 * Where a tensor sits in the model: its layer index and its kind (attn_q, ffn_down, …), from
 * either GGUF names (`blk.3.attn_q.weight`) or HF names (`model.layers.3.self_attn.q_proj.weight`).
 * Reports aggregate by these, so the mapping lives in one place.
 */
export interface TensorPlace {
  layer: number | null;
  kind: string;
}

const HF_KIND: Record<string, string> = {
  q_proj: 'attn_q', k_proj: 'attn_k', v_proj: 'attn_v', o_proj: 'attn_output',
  gate_proj: 'ffn_gate', up_proj: 'ffn_up', down_proj: 'ffn_down',
  input_layernorm: 'attn_norm', post_attention_layernorm: 'ffn_norm',
};

export function tensorPlace(name: string): TensorPlace {
  const gguf = /^blk\.(\d+)\.([^.]+)/.exec(name);
  if (gguf) return { layer: Number(gguf[1]), kind: gguf[2]! };
  const hf = /^model\.layers\.(\d+)\.(?:[a-z_]+\.)?([a-z_]+)\.(?:weight|bias|qweight)/.exec(name);
  if (hf) return { layer: Number(hf[1]), kind: HF_KIND[hf[2]!] ?? hf[2]! };
  if (/embed_tokens/.test(name)) return { layer: null, kind: 'token_embd' };
  if (/^lm_head/.test(name)) return { layer: null, kind: 'output' };
  return { layer: null, kind: name.replace(/\.(weight|bias)$/, '') };
}
