import { FormatError } from '../errors.ts';
import { tiedEmbeddings, type ArchSpec } from './architectures.ts';
import type { HfConfig } from './config.ts';
import { llama3RopeFreqs, longRopeFactors } from './rope-freqs.ts';

export { permuteRowsQK, permutedSourceRow } from './qk-permute.ts';

export interface MappedTensor {
  hfName: string;
  ggufName: string;
  /** PyTorch order, [out, in]. */
  hfShape: number[];
  /** GGUF order (reversed): ne[0] is the row length. The row-major bytes are the same. */
  ne: number[];
  /** Set for Llama q/k weights and biases: permute rows with this many heads (permuteRowsQK). */
  permute?: { heads: number };
  /** 1-D tensors, `*_norm.weight` and the MoE router stay F32 whatever the output type (convert's rule). */
  forceF32: boolean;
  /** HF tensors whose rows are concatenated, in order, to make this one (Mixtral's experts, `torch.stack`). */
  stack?: string[];
  /** Store w + 1, computed in float32 after the cast (Gemma's norms). */
  addOne?: boolean;
}

export interface GeneratedTensor {
  ggufName: string;
  ne: number[];
  data: Float32Array;
}

interface Rule {
  re: RegExp;
  gguf: (layer: string) => string;
  shape: (c: HfConfig) => number[];
  /** q = permute with n_head, k = permute with n_kv_head. */
  permute?: 'q' | 'k';
  kind: 'global' | 'layer';
  /** The HF suffix after `model.layers.N.` (arch rows rename by it). */
  suffix?: string;
}

const qRows = (c: HfConfig) => c.numHeads * c.headDim;
const kvRows = (c: HfConfig) => c.numKvHeads * c.headDim;
const nExperts = (c: HfConfig) => Number(c.raw.num_local_experts);

/** HF name → GGUF name and expected PyTorch shape (llama.cpp's TensorNameMap for llama / qwen2). */
const RULES: Rule[] = [
  { re: /^model\.embed_tokens\.weight$/, gguf: () => 'token_embd.weight', shape: (c) => [c.vocabSize, c.hiddenSize], kind: 'global' },
  { re: /^model\.norm\.weight$/, gguf: () => 'output_norm.weight', shape: (c) => [c.hiddenSize], kind: 'global' },
  { re: /^lm_head\.weight$/, gguf: () => 'output.weight', shape: (c) => [c.vocabSize, c.hiddenSize], kind: 'global' },
  ...layerRules(),
];

function layerRules(): Rule[] {
  const L = (suffix: string, gguf: string, shape: Rule['shape'], permute?: 'q' | 'k'): Rule => ({
    re: new RegExp(`^model\\.layers\\.(\\d+)\\.${suffix.replace(/\./g, '\\.')}$`),
    gguf: (n) => `blk.${n}.${gguf}`,
    shape,
    permute,
    kind: 'layer',
    suffix,
  });
  return [
    L('input_layernorm.weight', 'attn_norm.weight', (c) => [c.hiddenSize]),
    L('self_attn.q_proj.weight', 'attn_q.weight', (c) => [qRows(c), c.hiddenSize], 'q'),
    L('self_attn.q_proj.bias', 'attn_q.bias', (c) => [qRows(c)], 'q'),
    L('self_attn.k_proj.weight', 'attn_k.weight', (c) => [kvRows(c), c.hiddenSize], 'k'),
    L('self_attn.k_proj.bias', 'attn_k.bias', (c) => [kvRows(c)], 'k'),
    L('self_attn.v_proj.weight', 'attn_v.weight', (c) => [kvRows(c), c.hiddenSize]),
    L('self_attn.v_proj.bias', 'attn_v.bias', (c) => [kvRows(c)]),
    L('self_attn.o_proj.weight', 'attn_output.weight', (c) => [c.hiddenSize, qRows(c)]),
    L('self_attn.o_proj.bias', 'attn_output.bias', (c) => [c.hiddenSize]),
    L('post_attention_layernorm.weight', 'ffn_norm.weight', (c) => [c.hiddenSize]),
    L('mlp.gate_proj.weight', 'ffn_gate.weight', (c) => [c.intermediateSize, c.hiddenSize]),
    L('mlp.up_proj.weight', 'ffn_up.weight', (c) => [c.intermediateSize, c.hiddenSize]),
    L('mlp.down_proj.weight', 'ffn_down.weight', (c) => [c.hiddenSize, c.intermediateSize]),
    L('mlp.gate_proj.bias', 'ffn_gate.bias', (c) => [c.intermediateSize]),
    L('mlp.up_proj.bias', 'ffn_up.bias', (c) => [c.intermediateSize]),
    L('mlp.down_proj.bias', 'ffn_down.bias', (c) => [c.hiddenSize]),
    L('self_attn.q_norm.weight', 'attn_q_norm.weight', (c) => [c.headDim]),
    L('self_attn.k_norm.weight', 'attn_k_norm.weight', (c) => [c.headDim]),
    L('self_attn.qkv_proj.weight', 'attn_qkv.weight', (c) => [qRows(c) + 2 * kvRows(c), c.hiddenSize]),
    L('mlp.gate_up_proj.weight', 'ffn_up.weight', (c) => [2 * c.intermediateSize, c.hiddenSize]),
    L('pre_feedforward_layernorm.weight', 'pre_ffw_norm.weight', (c) => [c.hiddenSize]),
    L('post_feedforward_layernorm.weight', 'post_ffw_norm.weight', (c) => [c.hiddenSize]),
    L('block_sparse_moe.gate.weight', 'ffn_gate_inp.weight', (c) => [nExperts(c), c.hiddenSize]),
  ];
}

/**
 * convert's tensor order: checkpoint parts in the given (sorted) order, and within a part the
 * names sorted byte-wise, as its safetensors reader yields them. Generated tensors go before all.
 */
export function sortLikeConvert<T extends { name: string; file: string }>(tensors: readonly T[], partOrder: readonly string[]): T[] {
  const rank = new Map(partOrder.map((f, i) => [f, i]));
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return tensors.slice().sort((a, b) => (rank.get(a.file) ?? Infinity) - (rank.get(b.file) ?? Infinity) || byteOrder(a.name, b.name));
}

/** Names convert skips outright (buffers some checkpoints carry). */
const SKIPPED = /(\.attention\.masked_bias|\.attention\.bias|\.rotary_emb\.inv_freq)$/;

/** Mixtral's per-expert weights: w1 = gate, w2 = down, w3 = up; stacked in that order (w1, w2, w3). */
const EXPERT = /^model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.(w[123])\.weight$/;
const EXPERT_GGUF: Record<string, string> = { w1: 'ffn_gate_exps.weight', w2: 'ffn_down_exps.weight', w3: 'ffn_up_exps.weight' };

function canonicalName(arch: ArchSpec, hfName: string): string {
  return arch.bareModelPrefix && !hfName.startsWith('lm_head.') ? `model.${hfName}` : hfName;
}

function findRule(name: string): { rule: Rule; layer: string } | undefined {
  for (const rule of RULES) {
    const m = rule.re.exec(name);
    if (m) return { rule, layer: m[1] ?? '' };
  }
  return undefined;
}

/** The PyTorch shape config.json implies for an HF tensor name, or undefined if the name is not ours.
 * Bare `LlamaModel` / `Qwen2Model` names (no `model.` prefix) are accepted too. */
export function expectedShape(hfName: string, config: HfConfig): number[] | undefined {
  return (findRule(hfName) ?? findRule(`model.${hfName}`))?.rule.shape(config);
}

/**
 * Map a checkpoint's tensors to GGUF names, check names and shapes against config.json, apply the
 * arch row's tensor transforms (renames, q/k permutation, norm + 1, expert stacking), and list the
 * tensors convert generates (rope_freqs for Llama 3 rope scaling, Phi-3's long-rope factors; convert
 * writes them first). Tensors keep the caller's order (convert: parts in sorted order, names sorted
 * within a part); a stacked expert tensor takes the place of its layer's last expert tensor.
 */
export function mapTensors(
  arch: ArchSpec,
  config: HfConfig,
  hfTensors: { name: string; shape: number[] }[],
): { tensors: MappedTensor[]; generated: GeneratedTensor[] } {
  const where = { file: config.dir };
  const tensors: MappedTensor[] = [];
  const seen = new Set<string>();
  const experts = new Map<string, Map<string, string>>(); // layer → HF name by "e.wN"
  const nExpert = nExperts(config);
  const checkLayer = (layer: string, name: string) => {
    if (Number(layer) >= config.numLayers) {
      throw new FormatError('TENSOR_LAYER', `tensor '${name}' is in layer ${layer} but config.json has num_hidden_layers ${config.numLayers}`, { ...where, tensor: name });
    }
  };
  const checkShape = (name: string, got: number[], want: number[]) => {
    if (want.length !== got.length || want.some((d, i) => d !== got[i])) {
      throw new FormatError('TENSOR_SHAPE', `tensor '${name}' has shape [${got.join(', ')}] but config.json implies [${want.join(', ')}]`, { ...where, tensor: name });
    }
  };
  for (const t of hfTensors) {
    if (SKIPPED.test(t.name) || arch.tensors.skip?.test(t.name)) continue;
    const name = canonicalName(arch, t.name);
    const ex = arch.tensors.stackExperts ? EXPERT.exec(name) : null;
    if (ex) {
      const [, layer, e, w] = ex as unknown as [string, string, string, string];
      checkLayer(layer, t.name);
      if (!(Number(e) < nExpert)) throw new FormatError('TENSOR_LAYER', `tensor '${t.name}' is expert ${e} but config.json has num_local_experts ${nExpert}`, { ...where, tensor: t.name });
      checkShape(t.name, t.shape, w === 'w2' ? [config.hiddenSize, config.intermediateSize] : [config.intermediateSize, config.hiddenSize]);
      const got = experts.get(layer) ?? new Map<string, string>();
      experts.set(layer, got);
      got.set(`${e}.${w}`, t.name);
      if (got.size < nExpert * 3) continue;
      // LlamaModel.modify_tensors: once all E×3 are seen, torch.stack(experts, dim=0) per w1, w2, w3.
      for (const wid of ['w1', 'w2', 'w3']) {
        const parts = Array.from({ length: nExpert }, (_, x) => got.get(`${x}.${wid}`)!);
        const inner = wid === 'w2' ? [config.hiddenSize, config.intermediateSize] : [config.intermediateSize, config.hiddenSize];
        const ggufName = `blk.${layer}.${EXPERT_GGUF[wid]}`;
        seen.add(ggufName);
        tensors.push({ hfName: parts[0]!, ggufName, hfShape: [nExpert, ...inner], ne: [inner[1]!, inner[0]!, nExpert], forceF32: false, stack: parts });
      }
      continue;
    }
    const hit = findRule(name);
    if (!hit) throw new FormatError('UNMAPPED_TENSOR', `tensor '${t.name}' has no GGUF name for ${config.architecture}`, { ...where, tensor: t.name });
    const { rule, layer } = hit;
    if (rule.kind === 'layer') checkLayer(layer, t.name);
    checkShape(t.name, t.shape, rule.shape(config));
    const renamed = rule.suffix !== undefined ? arch.tensors.renames[rule.suffix] : undefined;
    const ggufName = renamed !== undefined ? `blk.${layer}.${renamed}` : rule.gguf(layer);
    seen.add(ggufName);
    tensors.push({
      hfName: t.name,
      ggufName,
      hfShape: [...t.shape],
      ne: [...t.shape].reverse(),
      permute: arch.permuteQK && rule.permute ? { heads: rule.permute === 'q' ? config.numHeads : config.numKvHeads } : undefined,
      forceF32: t.shape.length <= 1 || ggufName.endsWith('_norm.weight') || ggufName.endsWith('.ffn_gate_inp.weight'),
      ...(arch.tensors.normPlusOne && t.name.endsWith('norm.weight') ? { addOne: true } : {}),
    });
  }

  const required = ['token_embd.weight', 'output_norm.weight'];
  if (!tiedEmbeddings(config, arch) && !arch.tensors.skip?.test('lm_head.weight')) required.push('output.weight');
  for (let i = 0; i < config.numLayers; i++) for (const s of arch.tensors.requiredLayer) required.push(`blk.${i}.${s}`);
  const missing = required.filter((n) => !seen.has(n));
  if (missing.length) {
    const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length} in all)` : '');
    throw new FormatError('MISSING_TENSOR', `checkpoint lacks tensors llama.cpp needs for ${config.architecture}: ${shown}`, { ...where, tensor: missing[0] });
  }

  const generated: GeneratedTensor[] = [];
  const rope = config.ropeScaling;
  if (arch.llama3RopeFreqs && rope && String(rope.rope_type ?? rope.type ?? '').toLowerCase() === 'llama3') {
    generated.push({ ggufName: 'rope_freqs.weight', ne: [config.headDim / 2], data: llama3RopeFreqs(config, rope) });
  }
  if (arch.longRopeFactors && rope && Array.isArray(rope.long_factor) && rope.long_factor.length) {
    generated.push(...longRopeFactors(config, rope));
  }
  return { tensors, generated };
}
