/**
 * The non-tensor files of the output folder: `config.json` with `quantization_config` and
 * `torch_dtype: "float16"`, GPTQ's `quantize_config.json` (the same dict, as AutoGPTQ writes both),
 * and the tokenizer and generation files copied unchanged.
 */
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromFsError } from '../../../formats/errors.ts';
import { awqQuantizationConfig, gptqQuantizationConfig } from '../../../formats/awq-gptq/config.ts';
import { BLOCK_LINEARS } from '../../../formats/awq-gptq/layer-names.ts';
import type { ResolvedOptions } from './options.ts';

/** Files a model folder needs besides weights and config.json. */
const COPIED = /^(tokenizer\.json|tokenizer\.model|tokenizer_config\.json|special_tokens_map\.json|added_tokens\.json|vocab\.json|vocab\.txt|merges\.txt|generation_config\.json|chat_template\.(json|jinja))$/;

/** GPTQ true_sequential subsets for Llama/Qwen2 (AutoGPTQ `inside_layer_modules`). */
const SEQUENTIAL = [['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'], ['self_attn.o_proj'], ['mlp.up_proj', 'mlp.gate_proj'], ['mlp.down_proj']];

/** Skipped modules, shortened to the linear name when it is skipped in every layer (substring match in transformers). */
function compactSkipped(skipped: string[], layerCount: number): { names: string[]; uniform: Set<string> | null } {
  const byLinear = new Map<string, number>();
  for (const m of skipped) {
    const linear = m.replace(/^model\.layers\.\d+\./, '');
    byLinear.set(linear, (byLinear.get(linear) ?? 0) + 1);
  }
  const uniform = [...byLinear].every(([, n]) => n === layerCount) ? new Set(byLinear.keys()) : null;
  return { names: uniform ? [...uniform] : skipped, uniform };
}

export function quantizationConfigFor(o: ResolvedOptions, skippedModules: string[], layerCount: number): Record<string, unknown> {
  const { names, uniform } = compactSkipped(skippedModules, layerCount);
  if (o.method === 'awq') return { ...awqQuantizationConfig({ bits: o.bits, groupSize: o.groupSize, modulesToNotConvert: names }) };
  const inBlock = skippedModules.length && uniform
    ? SEQUENTIAL.map((s) => s.filter((m) => !uniform.has(m) && (BLOCK_LINEARS as readonly string[]).includes(m))).filter((s) => s.length)
    : undefined;
  const c = o.calibration;
  // the solver's real parameters when GPTQ ran; RTN records AutoGPTQ's defaults (it uses none of them)
  const solver = o.algorithm === 'gptq' ? { dampPercent: c.dampPercent ?? 0.01, trueSequential: c.trueSequential ?? true, staticGroups: c.staticGroups ?? false } : {};
  return { ...gptqQuantizationConfig({ bits: o.bits, groupSize: o.groupSize, sym: o.sym, descAct: o.descAct, ...solver, modulesInBlockToQuantize: inBlock, skippedModules }) };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n').catch((err) => { throw fromFsError(err, path, 'write'); });
}

export async function writeFolderFiles(
  sourceDir: string, outDir: string, hfConfig: Record<string, unknown>, quantizationConfig: Record<string, unknown>, method: 'awq' | 'gptq',
): Promise<string[]> {
  const config: Record<string, unknown> = { ...hfConfig, torch_dtype: 'float16', quantization_config: quantizationConfig };
  if ('dtype' in hfConfig) config.dtype = 'float16';
  await writeJson(join(outDir, 'config.json'), config);
  const written = ['config.json'];
  if (method === 'gptq') {
    await writeJson(join(outDir, 'quantize_config.json'), quantizationConfig);
    written.push('quantize_config.json');
  }
  const entries = await readdir(sourceDir).catch((err) => { throw fromFsError(err, sourceDir, 'list'); });
  for (const f of entries.filter((e) => COPIED.test(e)).sort()) {
    await copyFile(join(sourceDir, f), join(outDir, f)).catch((err) => { throw fromFsError(err, join(sourceDir, f), 'copy'); });
    written.push(f);
  }
  return written;
}
