/**
 * Writes a synthetic Llama-shaped HF checkpoint (bf16, sharded) of any size, streamed so the
 * generator itself stays small: config.json, stories260K's tokenizer (padded up to the config's
 * vocabulary by the converter), and `model-0000k-of-0000n.safetensors` with an index.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsWriter, type TensorDecl } from '../../formats/safetensors/writer.ts';
import { encodeSafetensorsIndex } from '../../formats/safetensors/index-json.ts';

export interface BigLlama { hidden: number; intermediate: number; layers: number; heads: number; kvHeads: number; vocab: number; shardBytes: number }

/** TinyLlama-1.1B's shape. */
/** A quarter of it, for quicker memory experiments. */
export const SMALL_SHAPE: BigLlama = { hidden: 2048, intermediate: 5632, layers: 4, heads: 32, kvHeads: 4, vocab: 32000, shardBytes: 1 << 28 };

export const TINYLLAMA_SHAPE: BigLlama = { hidden: 2048, intermediate: 5632, layers: 22, heads: 32, kvHeads: 4, vocab: 32000, shardBytes: 1 << 30 };

export function bigLlamaTensors(d: BigLlama): TensorDecl[] {
  const hd = d.hidden / d.heads;
  const t: TensorDecl[] = [{ name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [d.vocab, d.hidden] }];
  for (let i = 0; i < d.layers; i++) {
    const p = `model.layers.${i}`;
    t.push(
      { name: `${p}.input_layernorm.weight`, dtype: 'BF16', shape: [d.hidden] },
      { name: `${p}.self_attn.q_proj.weight`, dtype: 'BF16', shape: [d.hidden, d.hidden] },
      { name: `${p}.self_attn.k_proj.weight`, dtype: 'BF16', shape: [d.kvHeads * hd, d.hidden] },
      { name: `${p}.self_attn.v_proj.weight`, dtype: 'BF16', shape: [d.kvHeads * hd, d.hidden] },
      { name: `${p}.self_attn.o_proj.weight`, dtype: 'BF16', shape: [d.hidden, d.hidden] },
      { name: `${p}.post_attention_layernorm.weight`, dtype: 'BF16', shape: [d.hidden] },
      { name: `${p}.mlp.gate_proj.weight`, dtype: 'BF16', shape: [d.intermediate, d.hidden] },
      { name: `${p}.mlp.up_proj.weight`, dtype: 'BF16', shape: [d.intermediate, d.hidden] },
      { name: `${p}.mlp.down_proj.weight`, dtype: 'BF16', shape: [d.hidden, d.intermediate] },
    );
  }
  t.push({ name: 'model.norm.weight', dtype: 'BF16', shape: [d.hidden] }, { name: 'lm_head.weight', dtype: 'BF16', shape: [d.vocab, d.hidden] });
  return t;
}

export const parameterCount = (ts: TensorDecl[]) => ts.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);

export async function writeBigLlama(dir: string, d: BigLlama, storiesDir: string): Promise<{ params: number; bytes: number }> {
  const tensors = bigLlamaTensors(d);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: d.hidden, intermediate_size: d.intermediate,
    num_hidden_layers: d.layers, num_attention_heads: d.heads, num_key_value_heads: d.kvHeads, vocab_size: d.vocab,
    max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, torch_dtype: 'bfloat16',
    bos_token_id: 1, eos_token_id: 2,
  }, null, 2));
  for (const f of ['tokenizer.json', 'tokenizer.model', 'tokenizer_config.json']) copyFileSync(join(storiesDir, f), join(dir, f));

  const shards: TensorDecl[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    const bytes = 2 * t.shape.reduce((a, b) => a * b, 1);
    if (size + bytes > d.shardBytes && shards.at(-1)!.length) { shards.push([]); size = 0; }
    shards.at(-1)!.push(t);
    size += bytes;
  }
  const weightMap = new Map<string, string>();
  let total = 0;
  let seed = 0x9e3779b9;
  const chunk = new Uint16Array(1 << 22);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let s = 0; s < shards.length; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const w = await SafetensorsWriter.open(join(dir, file), shards[s]!, { format: 'pt' });
    for (const t of shards[s]!) {
      weightMap.set(t.name, file);
      const n = t.shape.reduce((a, b) => a * b, 1);
      const norm = t.shape.length === 1;
      for (let done = 0; done < n; done += chunk.length) {
        const m = Math.min(chunk.length, n - done);
        for (let i = 0; i < m; i++) {
          // xorshift32, then a cheap bell-shaped value (sum of two uniforms) scaled like trained weights.
          seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
          const u = ((seed >>> 0) & 0xffff) / 65536 + (seed >>> 16) / 65536 - 1;
          const v = norm ? 1 + 0.1 * u : 0.04 * u;
          f32[0] = v;
          chunk[i] = u32[0]! >>> 16;
        }
        await w.writeTensorData(t.name, new Uint8Array(chunk.buffer, 0, m * 2));
      }
      total += 2 * n;
    }
    await w.finish();
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), encodeSafetensorsIndex(weightMap, total));
  return { params: parameterCount(tensors), bytes: total };
}
