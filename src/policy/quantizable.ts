/**
 * Which tensors llama-quantize may quantize at all (`tensor_allows_quantization` in
 * src/llama-quant.cpp; reference doc §7.2). Everything else is copied in its input type.
 * Returns the reason a tensor is kept, or null when it may be quantized.
 */
import { ggmlNDims } from './tensor-order.ts';

/** Name fragments that keep a tensor unquantized (small, sensitive or integer tables). */
const KEEP_IF_CONTAINS: readonly string[] = [
  '_norm.weight',
  'ffn_gate_inp.weight', 'ffn_gate_tid2eid.weight',
  'altup', 'laurel', 'per_layer_model_proj',
  'ssm_conv1d', 'shortconv.conv.weight',
  'indexer.k_proj.weight', 'indexer.q_proj.weight',
  ...['first', 'w0', 'w1', 'w2', 'v0', 'v1', 'v2', 'a0', 'a1', 'a2', 'g1', 'g2', 'decay_w1', 'decay_w2', 'lerp_fused']
    .map((s) => `time_mix_${s}.weight`),
  'attn_rel_b.weight',
  '.position_embd', 'sam.pos_embd', 'sam.neck.', 'sam.net_', '.rel_pos', '.patch_embd', '.patch_merger',
  'a.rvq.codebook', 'mm.a.code_embd',
];

/** Exact names kept unquantized (BERT-style position and token-type embeddings). */
const KEEP_IF_EQUALS: readonly string[] = ['position_embd.weight', 'token_types.weight'];

export interface QuantizableOptions {
  /** llama-quantize `--leave-output-tensor`. */
  leaveOutputTensor?: boolean;
  /** llama-quantize `--only-copy`. */
  onlyCopy?: boolean;
}

export function whyNotQuantizable(name: string, ne: readonly number[], opts: QuantizableOptions = {}): string | null {
  if (opts.onlyCopy) return 'only-copy';
  if (ggmlNDims(ne) < 2) return '1-D tensor';
  if (!endsInWeight(name)) return 'name does not end in "weight"';
  if (opts.leaveOutputTensor && name === 'output.weight') return 'output tensor left as is';
  if (KEEP_IF_EQUALS.includes(name)) return `${name} is never quantized`;
  const hit = KEEP_IF_CONTAINS.find((s) => name.includes(s));
  if (hit) return `names containing "${hit}" are never quantized`;
  return null;
}

/**
 * llama.cpp tests `name.rfind("weight") == name.size() - 6`. For a 5-byte name both sides are
 * size_t(-1), so such a name counts as ending in "weight"; we keep that quirk to plan identically.
 */
function endsInWeight(name: string): boolean {
  return name.endsWith('weight') || Buffer.byteLength(name, 'utf8') === 5;
}
