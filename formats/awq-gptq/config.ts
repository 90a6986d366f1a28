/**
 * The `quantization_config` dicts of AWQ and GPTQ checkpoints: what we write (exactly what AutoAWQ
 * `to_transformers_dict` and AutoGPTQ `BaseQuantizeConfig.to_dict` write, reference §1.4, §2.4)
 * and what we accept when reading a folder (config.json, then quantize_config.json /
 * quant_config.json, with the legacy aliases w_bit / q_group_size). AWQ GEMV is read, never written.
 */
import { FormatError, UnsupportedError } from '../errors.ts';

export interface AwqQuantizationConfig {
  quant_method: 'awq';
  bits: number;
  group_size: number;
  zero_point: boolean;
  version: 'gemm';
  modules_to_not_convert: string[] | null;
}

export interface GptqQuantizationConfig {
  bits: number;
  group_size: number;
  damp_percent: number;
  desc_act: boolean;
  static_groups: boolean;
  sym: boolean;
  true_sequential: boolean;
  model_name_or_path: null;
  model_file_base_name: 'model';
  quant_method: 'gptq';
  checkpoint_format: 'gptq';
  /** Only when some linears stay unquantized: per-block module lists (transformers/optimum). */
  modules_in_block_to_quantize?: string[][];
  /** Only when some linears stay unquantized: GPTQModel/vLLM per-module overrides, "-:" = skip. */
  dynamic?: Record<string, Record<string, never>>;
}

export function awqQuantizationConfig(o: { bits: number; groupSize: number; modulesToNotConvert?: string[] }): AwqQuantizationConfig {
  return {
    quant_method: 'awq',
    bits: o.bits,
    group_size: o.groupSize,
    // GEMM always stores zero points (WQLinear_GEMM asserts them), symmetric or not.
    zero_point: true,
    version: 'gemm',
    modules_to_not_convert: o.modulesToNotConvert?.length ? o.modulesToNotConvert : null,
  };
}

export function gptqQuantizationConfig(o: {
  bits: number; groupSize: number; sym: boolean; descAct: boolean; dampPercent?: number;
  staticGroups?: boolean; trueSequential?: boolean;
  modulesInBlockToQuantize?: string[][]; skippedModules?: string[];
}): GptqQuantizationConfig {
  const c: GptqQuantizationConfig = {
    bits: o.bits,
    group_size: o.groupSize,
    // RTN uses no damping; 0.01 is AutoGPTQ's default and must lie in (0, 1) for GPTQConfig.
    damp_percent: o.dampPercent ?? 0.01,
    desc_act: o.descAct,
    static_groups: o.staticGroups ?? false,
    sym: o.sym,
    true_sequential: o.trueSequential ?? true,
    model_name_or_path: null,
    model_file_base_name: 'model',
    quant_method: 'gptq',
    checkpoint_format: 'gptq',
  };
  if (o.modulesInBlockToQuantize) c.modules_in_block_to_quantize = o.modulesInBlockToQuantize;
  if (o.skippedModules?.length) {
    c.dynamic = Object.fromEntries(o.skippedModules.map((m) => [`-:^${m.replace(/\./g, '\\.')}$`, {}]));
  }
  return c;
}

/** What a reader needs to know about a quantized folder, normalized across tools. */
export interface QuantizedFolderConfig {
  method: 'awq' | 'gptq';
  bits: number;
  groupSize: number;
  sym: boolean;
  descAct: boolean;
  /** AWQ `version` (gemm; gemv read only) or GPTQ `checkpoint_format`. */
  layout: 'gemm' | 'gemv' | 'gptq' | 'gptq_v2';
  /** Where the dict came from. */
  file: string;
  raw: Record<string, unknown>;
}

/**
 * Normalize a quantization dict. Returns null when `q` is not AWQ/GPTQ; throws FormatError for a
 * malformed one and UnsupportedError for a layout we do not read (GEMV, Marlin, exllama-only).
 */
export function parseQuantizationConfig(q: unknown, file: string): QuantizedFolderConfig | null {
  if (typeof q !== 'object' || q === null || Array.isArray(q)) return null;
  const raw = q as Record<string, unknown>;
  const method = String(raw.quant_method ?? (raw.w_bit !== undefined || raw.version !== undefined ? 'awq' : raw.bits !== undefined ? 'gptq' : '')).toLowerCase();
  if (method !== 'awq' && method !== 'gptq') {
    if (method === 'marlin' || raw.is_marlin_format) throw new UnsupportedError('QUANT_LAYOUT', 'Marlin-format GPTQ checkpoints are not read; use a "gptq" checkpoint', { file });
    return null;
  }
  const bits = Number(raw.bits ?? raw.w_bit ?? 4);
  const groupSize = Number(raw.group_size ?? raw.q_group_size ?? (method === 'awq' ? 128 : -1));
  if (![2, 3, 4, 8].includes(bits)) throw new FormatError('QUANT_CONFIG', `bits must be 2, 3, 4 or 8, got ${JSON.stringify(raw.bits ?? raw.w_bit)}`, { file });
  if (!(groupSize === -1 || (Number.isInteger(groupSize) && groupSize > 0))) {
    throw new FormatError('QUANT_CONFIG', `group_size must be -1 or a positive integer, got ${JSON.stringify(raw.group_size ?? raw.q_group_size)}`, { file });
  }
  if (method === 'awq') {
    const version = String(raw.version ?? raw.format ?? 'gemm').toLowerCase();
    if (version !== 'gemm' && version !== 'gemv') throw new UnsupportedError('QUANT_LAYOUT', `AWQ version "${version}" is not read (only "gemm" and "gemv")`, { file });
    if (bits !== 4) throw new FormatError('QUANT_CONFIG', `AWQ ${version.toUpperCase()} checkpoints are 4-bit, config says ${bits}`, { file });
    return { method, bits, groupSize, sym: raw.zero_point === false, descAct: false, layout: version, file, raw };
  }
  const fmt = String(raw.checkpoint_format ?? raw.format ?? 'gptq').toLowerCase();
  if (fmt !== 'gptq' && fmt !== 'gptq_v2') throw new UnsupportedError('QUANT_LAYOUT', `GPTQ checkpoint_format "${fmt}" is not read (only "gptq" and "gptq_v2")`, { file });
  return { method, bits, groupSize, sym: raw.sym !== false, descAct: raw.desc_act === true, layout: fmt as 'gptq' | 'gptq_v2', file, raw };
}
