/**
 * Synthetic Llama GGUFs for the quantize tests and bench: the stories260K reference's metadata
 * (so llama.cpp's loader accepts it: tokenizer of 512 tokens, llama arch keys) with new dims,
 * and seeded random weights written with our GgufWriter, in convert's (unsorted) tensor order.
 */
import { readGguf } from '../formats/gguf/reader.ts';
import { GgufWriter } from '../formats/gguf/writer.ts';
import { GgufValueType, type GgufKv, type GgufValue } from '../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../kernels/ggml-types.ts';
import { fileURLToPath } from 'node:url';
import { rng } from './support/fuzz-mutator.ts';

export const STORIES_F32 = fileURLToPath(new URL('../samples/stories260K/reference-convert-f32.gguf', import.meta.url));

export interface LlamaDims {
  nLayer: number;
  nEmbd: number;
  nFf: number;
  nHead: number;
  nHeadKv: number;
  tied: boolean;
  /** Vocabulary rows; the tokenizer is stories260K's 512 tokens, so keep 512 for llama.cpp to load it. */
  nVocab?: number;
  seed?: number;
  /** Mixture of experts: per layer a router and 3-D ffn_{gate,down,up}_exps tensors instead of the dense FFN. */
  nExpert?: number;
  /** Write 1-D norms as [n, 1] (2 dims in the file) to exercise ggml_n_dims trimming. */
  normsWithTrailingOne?: boolean;
}


/** Roughly normal weights (sum of uniforms) with rare outliers, like real checkpoints. */
function fillWeights(dst: Float32Array, rand: () => number, scale: number): void {
  for (let i = 0; i < dst.length; i++) {
    const g = rand() + rand() + rand() - 1.5;
    dst[i] = rand() < 0.002 ? g * scale * 20 : g * scale;
  }
}

export function llamaTensorList(d: LlamaDims): { name: string; ne: number[]; norm: boolean }[] {
  const kv = (d.nEmbd / d.nHead) * d.nHeadKv;
  const vocab = d.nVocab ?? 512;
  const norm = (name: string) => ({ name, ne: d.normsWithTrailingOne ? [d.nEmbd, 1] : [d.nEmbd], norm: true });
  const w = (name: string, ne: number[]) => ({ name, ne, norm: false });
  const list = [w('token_embd.weight', [d.nEmbd, vocab])];
  for (let i = 0; i < d.nLayer; i++) {
    const p = `blk.${i}.`;
    const e = d.nExpert ?? 0;
    const ffn = e > 0
      ? [w(p + 'ffn_gate_inp.weight', [d.nEmbd, e]), w(p + 'ffn_down_exps.weight', [d.nFf, d.nEmbd, e]), w(p + 'ffn_gate_exps.weight', [d.nEmbd, d.nFf, e]), w(p + 'ffn_up_exps.weight', [d.nEmbd, d.nFf, e])]
      : [w(p + 'ffn_down.weight', [d.nFf, d.nEmbd]), w(p + 'ffn_gate.weight', [d.nEmbd, d.nFf]), w(p + 'ffn_up.weight', [d.nEmbd, d.nFf])];
    list.push(norm(p + 'attn_norm.weight'), ...ffn, norm(p + 'ffn_norm.weight'), w(p + 'attn_k.weight', [d.nEmbd, kv]),
      w(p + 'attn_output.weight', [d.nEmbd, d.nEmbd]), w(p + 'attn_q.weight', [d.nEmbd, d.nEmbd]), w(p + 'attn_v.weight', [d.nEmbd, kv]));
  }
  list.push(norm('output_norm.weight'));
  if (!d.tied) list.push(w('output.weight', [d.nEmbd, vocab]));
  return list;
}

/** Writes an F32 Llama GGUF; weights are streamed in chunks so big models fit in little memory. */
export async function writeLlamaGguf(path: string, d: LlamaDims): Promise<void> {
  const ref = await readGguf(STORIES_F32);
  const headDim = d.nEmbd / d.nHead;
  const u32 = (value: number): GgufValue => ({ type: GgufValueType.UINT32, value });
  const set: Record<string, GgufValue> = {
    'general.name': { type: GgufValueType.STRING, value: `synthetic-${d.nEmbd}x${d.nLayer}` },
    'llama.block_count': u32(d.nLayer),
    'llama.embedding_length': u32(d.nEmbd),
    'llama.feed_forward_length': u32(d.nFf),
    'llama.attention.head_count': u32(d.nHead),
    'llama.attention.head_count_kv': u32(d.nHeadKv),
    'llama.attention.key_length': u32(headDim),
    'llama.attention.value_length': u32(headDim),
    'llama.rope.dimension_count': u32(headDim),
    'general.file_type': u32(0),
  };
  const extra: [string, GgufValue][] = d.nExpert ? [['llama.expert_count', u32(d.nExpert)], ['llama.expert_used_count', u32(2)]] : [];
  const w = await GgufWriter.open(path);
  try {
    for (const kv of ref.kvs as GgufKv[]) {
      if (kv.key === 'general.size_label') continue;
      const { key, ...value } = kv;
      w.addKv(key, set[key] ?? (value as GgufValue));
      if (key === 'llama.feed_forward_length') for (const [k, v] of extra) w.addKv(k, v);
    }
    const tensors = llamaTensorList(d);
    for (const t of tensors) w.addTensor(t.name, t.ne, T.F32);
    await w.writeHeader();
    const rand = rng(d.seed ?? 1234);
    for (const t of tensors) {
      const n0 = t.ne[0]!;
      const rows = t.ne.slice(1).reduce((a, b) => a * b, 1);
      const chunkRows = Math.max(1, Math.floor((4 << 20) / n0));
      for (let r = 0; r < rows; r += chunkRows) {
        const buf = new Float32Array(Math.min(chunkRows, rows - r) * n0);
        if (t.norm) for (let i = 0; i < buf.length; i++) buf[i] = 1 + 0.1 * (rand() - 0.5);
        else fillWeights(buf, rand, 0.02);
        await w.writeTensorData(t.name, new Uint8Array(buf.buffer));
      }
    }
    await w.finish();
  } catch (err) {
    await w.abort();
    throw err;
  }
}
