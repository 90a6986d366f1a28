import path from 'node:path';
import { bool, f32, str, u32, type GgufKv } from '../gguf/value-types.ts';
import type { ArchSpec } from './architectures.ts';
import type { HfConfig } from './config.ts';
import { KvList } from './kv-list.ts';
import { modelIdMetadata } from './model-id.ts';
import { sizeLabel as denseSizeLabel } from './size-label.ts';
import { addSamplingKvs, readGenerationConfig } from './sampling-kvs.ts';
import { addTokenizerKvs, type Warning } from './tokenizer-kvs.ts';
import { readTokenizerFiles } from './tokenizer-files.ts';
import { longRopeAttnFactor } from './rope-freqs.ts';

/** gguf-py's GGML_QUANT_VERSION, written as general.quantization_version. */
const QUANTIZATION_VERSION = 2;

export interface GgufMetadataOptions {
  /** `general.file_type` (kernels/file-types.ts id: 0 f32, 1 f16, 7 q8_0, …). */
  fileTypeId: number;
  /** `general.name`; defaults to what convert derives from `_name_or_path` and the folder name. */
  name?: string;
  /** Force `tokenizer.ggml.pre` (the CLI's --pre), skipping hash detection. */
  pre?: string;
  /** Total tensor elements written (gguf-py's get_total_parameter_count). */
  parameterCount?: number;
  /** `general.size_label` computed from the tensors (size-label.ts); a label in the model id wins. */
  sizeLabel?: string;
}

/**
 * Every GGUF key convert_hf_to_gguf.py writes, in its order and with the exact value types
 * llama.cpp's loader checks: general.* (sampling defaults from generation_config.json, naming from
 * `_name_or_path` / the folder), the arch row's model parameters, then the tokenizer.
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
  // Phi-3 long-rope writes this while generating its factor tensors, i.e. before any other metadata.
  const rope = config.ropeScaling;
  if (arch.longRopeFactors && rope && Array.isArray(rope.long_factor) && rope.long_factor.length) {
    kv.set(`${a}.rope.scaling.attn_factor`, f32(longRopeAttnFactor(config, rope)));
  }
  kv.set('general.type', str('model'));
  addSamplingKvs(kv, await readGenerationConfig(dir));

  const ids = modelIdMetadata(config.raw._name_or_path, path.basename(path.resolve(dir)), opts.parameterCount ?? 0);
  kv.set('general.name', str(opts.name ?? ids.name ?? path.basename(path.resolve(dir))));
  if (ids.version) kv.set('general.version', str(ids.version));
  if (ids.organization) kv.set('general.organization', str(ids.organization));
  if (ids.finetune) kv.set('general.finetune', str(ids.finetune));
  if (ids.basename) kv.set('general.basename', str(ids.basename));
  const sizeLabel = ids.sizeLabel ?? opts.sizeLabel ?? (opts.parameterCount && opts.parameterCount > 0 ? denseSizeLabel(opts.parameterCount) : undefined);
  if (sizeLabel) kv.set('general.size_label', str(sizeLabel));

  const ctx = { config, arch: a, fileTypeId: opts.fileTypeId, defaults: arch.defaults, autoConfigHasHeadDim: arch.autoConfigHasHeadDim };
  for (const write of arch.hparams) write(kv, ctx);
  kv.set('general.quantization_version', u32(QUANTIZATION_VERSION));

  const files = await readTokenizerFiles(dir, config.raw as Record<string, any>);
  const warnings = addTokenizerKvs(kv, files, config, arch, { pre: opts.pre });
  if (arch.addSpacePrefixFalseAfterVocab) kv.set('tokenizer.ggml.add_space_prefix', bool(false));
  return { kvs: kv.toArray(), warnings };
}
