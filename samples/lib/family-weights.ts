/**
 * The family fixtures' synthetic weights (samples/families/WEIGHTS.md): which tensors a
 * `save_pretrained` of each model_type writes, and their deterministic BF16 values, so our tests
 * regenerate exactly the safetensors bytes llama.cpp's converter was run on (checked against each
 * fixture's source-tensors.json before any conversion).
 */
type Config = Record<string, any>;

export interface FamilyTensor { name: string; shape: number[] }

/** RMSNorms of these model types scale by (1 + w), so their stored norm weights are centred on 0. */
const NORM_CENTRED_ON_ZERO = new Set(['gemma', 'gemma2', 'gemma3', 'gemma3_text']);
/** tie_word_embeddings when config.json omits it (transformers' config class defaults). */
const TIED_BY_DEFAULT = new Set(['gemma', 'gemma2', 'gemma3_text']);
const KNOWN_TYPES = new Set(['llama', 'mistral', 'qwen2', 'qwen3', 'phi3', 'mixtral', 'gemma2', 'gemma3_text']);

export function familyTensors(c: Config): FamilyTensor[] {
  const type = String(c.model_type);
  if (!KNOWN_TYPES.has(type)) throw new Error(`model_type ${type} is outside the weight recipe`);
  const H = c.hidden_size, L = c.num_hidden_layers, V = c.vocab_size, I = c.intermediate_size;
  const nh = c.num_attention_heads, nkv = c.num_key_value_heads ?? nh;
  const hd = c.head_dim ?? H / nh;
  const out: FamilyTensor[] = [];
  const add = (name: string, shape: number[]) => out.push({ name, shape });
  add('model.embed_tokens.weight', [V, H]);
  add('model.norm.weight', [H]);
  if (!(c.tie_word_embeddings ?? TIED_BY_DEFAULT.has(type))) add('lm_head.weight', [V, H]);
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    add(`${p}input_layernorm.weight`, [H]);
    add(`${p}post_attention_layernorm.weight`, [H]);
    add(`${p}self_attn.o_proj.weight`, [H, nh * hd]);
    if (type === 'phi3') add(`${p}self_attn.qkv_proj.weight`, [(nh + 2 * nkv) * hd, H]);
    else {
      add(`${p}self_attn.q_proj.weight`, [nh * hd, H]);
      add(`${p}self_attn.k_proj.weight`, [nkv * hd, H]);
      add(`${p}self_attn.v_proj.weight`, [nkv * hd, H]);
      if (type === 'qwen2' || c.attention_bias === true) {
        add(`${p}self_attn.q_proj.bias`, [nh * hd]);
        add(`${p}self_attn.k_proj.bias`, [nkv * hd]);
        add(`${p}self_attn.v_proj.bias`, [nkv * hd]);
      }
    }
    if (type === 'qwen3' || type === 'gemma3_text') {
      add(`${p}self_attn.q_norm.weight`, [hd]);
      add(`${p}self_attn.k_norm.weight`, [hd]);
    }
    if (type === 'gemma2' || type === 'gemma3_text') {
      add(`${p}pre_feedforward_layernorm.weight`, [H]);
      add(`${p}post_feedforward_layernorm.weight`, [H]);
    }
    if (type === 'mixtral') {
      add(`${p}block_sparse_moe.gate.weight`, [c.num_local_experts, H]);
      for (let e = 0; e < c.num_local_experts; e++) {
        add(`${p}block_sparse_moe.experts.${e}.w1.weight`, [I, H]);
        add(`${p}block_sparse_moe.experts.${e}.w2.weight`, [H, I]);
        add(`${p}block_sparse_moe.experts.${e}.w3.weight`, [I, H]);
      }
    } else if (type === 'phi3') {
      add(`${p}mlp.gate_up_proj.weight`, [2 * I, H]);
      add(`${p}mlp.down_proj.weight`, [H, I]);
    } else {
      add(`${p}mlp.gate_proj.weight`, [I, H]);
      add(`${p}mlp.up_proj.weight`, [I, H]);
      add(`${p}mlp.down_proj.weight`, [H, I]);
    }
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/** FNV-1a 32-bit of the name's UTF-8 bytes: each tensor's seed. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h === 0 ? 0x9e3779b9 : h;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** double → float32 (nearest even) → bfloat16 (nearest even on the bits); the recipe never makes NaN. */
function toBf16(v: number): number {
  f32[0] = v;
  const b = f32Bits[0]!;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The tensor's BF16 bytes, little-endian: an xorshift32 stream seeded by the name. */
export function familyTensorBytes(t: FamilyTensor, modelType: string): Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Uint16Array(n);
  const isNorm = t.name.endsWith('norm.weight');
  const base = NORM_CENTRED_ON_ZERO.has(modelType) ? 0 : 1;
  let x = fnv1a32(t.name);
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    const v = ((x >>> 8) / 16777216 - 0.5) * 0.08;
    out[i] = toBf16(isNorm ? base + v * 5 : v);
  }
  return new Uint8Array(out.buffer); // little-endian hosts only (x86/arm), as the rest of the project
}
