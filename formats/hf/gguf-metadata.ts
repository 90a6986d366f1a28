import path from 'node:path';
import { f32, str, u32, type GgufKv } from '../gguf/value-types.ts';
import type { ArchSpec } from './architectures.ts';
import type { HfConfig } from './config.ts';
import { idToTitle } from './general-name.ts';
import { KvList } from './kv-list.ts';
import { sizeLabel } from './size-label.ts';
import { addTokenizerKvs, type Warning } from './tokenizer-kvs.ts';
import { readTokenizerFiles } from './tokenizer-files.ts';

/** gguf-py's GGML_QUANT_VERSION, written as general.quantization_version. */
const QUANTIZATION_VERSION = 2;

export interface GgufMetadataOptions {
  /** `general.file_type` (kernels/file-types.ts id: 0 f32, 1 f16, 7 q8_0, …). */
  fileTypeId: number;
  /** `general.name`; defaults to the folder name title-cased, as convert does without a model card. */
  name?: string;
  /** Force `tokenizer.ggml.pre` (the CLI's --pre), skipping hash detection. */
  pre?: string;
  /** Total tensor elements written; gives `general.size_label` (see countParameters). */
  parameterCount?: number;
}

/**
 * Every GGUF key convert_hf_to_gguf.py writes for llama / qwen2, in its order and with the exact
 * value types llama.cpp's loader checks (counts u32, eps/theta f32, token_type i32[]).
 * Model-card keys (license, tags, base_model…) are not produced: llama.cpp never reads them.
 */
export async function buildGgufMetadata(
  dir: string,
  config: HfConfig,
  arch: ArchSpec,
  opts: GgufMetadataOptions,
): Promise<{ kvs: GgufKv[]; warnings: Warning[] }> {
  const a = arch.ggufArch;
  const kv = new KvList();
  kv.set('general.architecture', str(a));
  kv.set('general.type', str('model'));
  kv.set('general.name', str(opts.name ?? idToTitle(path.basename(path.resolve(dir)))));
  if (opts.parameterCount && opts.parameterCount > 0) kv.set('general.size_label', str(sizeLabel(opts.parameterCount)));

  kv.set(`${a}.block_count`, u32(config.numLayers));
  kv.set(`${a}.context_length`, u32(config.contextLength ?? arch.defaults.contextLength));
  kv.set(`${a}.embedding_length`, u32(config.hiddenSize));
  kv.set(`${a}.feed_forward_length`, u32(config.intermediateSize));
  kv.set(`${a}.attention.head_count`, u32(config.numHeads));
  kv.set(`${a}.attention.head_count_kv`, u32(config.numKvHeads));
  addRopeScaling(kv, a, config.ropeScaling);
  kv.set(`${a}.rope.freq_base`, f32(config.ropeTheta ?? arch.defaults.ropeTheta));
  kv.set(`${a}.attention.layer_norm_rms_epsilon`, f32(config.rmsNormEps));
  if (config.headDimInConfig || arch.autoConfigHasHeadDim) {
    kv.set(`${a}.attention.key_length`, u32(config.headDim));
    kv.set(`${a}.attention.value_length`, u32(config.headDim));
  }
  kv.set('general.file_type', u32(opts.fileTypeId));
  if (arch.writesVocabSizeAndRopeDim) {
    kv.set(`${a}.vocab_size`, u32(config.vocabSize));
    kv.set(`${a}.rope.dimension_count`, u32(config.headDim));
  }
  kv.set('general.quantization_version', u32(QUANTIZATION_VERSION));

  const files = await readTokenizerFiles(dir, config.raw as Record<string, any>);
  const warnings = addTokenizerKvs(kv, files, config, arch, { pre: opts.pre });
  return { kvs: kv.toArray(), warnings };
}

/** TextModel.set_gguf_parameters' rope scaling keys; llama3 scaling is a tensor instead (rope_freqs). */
function addRopeScaling(kv: KvList, a: string, rope: Record<string, unknown> | null): void {
  if (!rope) return;
  const type = (rope.rope_type ?? rope.type) as string | undefined;
  const factor = typeof rope.factor === 'number' ? rope.factor : undefined;
  if (type === 'linear' && factor !== undefined) {
    kv.set(`${a}.rope.scaling.type`, str('linear'));
    kv.set(`${a}.rope.scaling.factor`, f32(factor));
  } else if (type === 'yarn' && factor !== undefined) {
    kv.set(`${a}.rope.scaling.type`, str('yarn'));
    kv.set(`${a}.rope.scaling.factor`, f32(factor));
    kv.set(`${a}.rope.scaling.original_context_length`, u32(Number(rope.original_max_position_embeddings)));
    const opt = (key: string, v: unknown) => { if (typeof v === 'number') kv.set(`${a}.rope.scaling.${key}`, f32(v)); };
    opt('yarn_ext_factor', rope.extrapolation_factor);
    opt('yarn_attn_factor', rope.attention_factor ?? rope.attn_factor);
    opt('yarn_beta_fast', rope.beta_fast);
    opt('yarn_beta_slow', rope.beta_slow);
  } else if (type === 'su' || type === 'longrope') {
    kv.set(`${a}.rope.scaling.type`, str('longrope'));
  }
}
