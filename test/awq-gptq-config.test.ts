/**
 * The quantization configs we write are exactly what transformers' AwqConfig / GPTQConfig, vLLM's
 * awq / awq_marlin / gptq / gptq_marlin and AutoGPTQ read (reference §1.4, §2.4): keys, JSON types
 * and values. The checkers below restate those consumers' rules; the configs come from the real
 * writer. Also: reading configs written by other tools (legacy keys, quantize_config.json) and
 * refusing layouts we do not read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awqQuantizationConfig, gptqQuantizationConfig, parseQuantizationConfig } from '../formats/awq-gptq/config.ts';
import { quantizationConfigFor } from '../src/pipeline/awq-gptq/folder-files.ts';
import { resolveOptions } from '../src/pipeline/awq-gptq/options.ts';
import { ForgeError } from '../formats/errors.ts';

const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);

/** transformers AwqConfig (4.5x post_init and 5.x format mapping) + vLLM awq/awq_marlin required keys. */
function awqProblems(c: Record<string, unknown>): string[] {
  const p: string[] = [];
  if (c.quant_method !== 'awq') p.push('quant_method must be "awq" (awq_marlin requires it)');
  if (!isInt(c.bits) || c.bits !== 4) p.push('bits must be the integer 4 (AutoAWQ, vLLM awq)');
  if (!isInt(c.group_size) || !((c.group_size as number) > 0 || c.group_size === -1)) p.push('group_size must be an integer > 0 or -1');
  if (typeof c.zero_point !== 'boolean') p.push('zero_point must be a boolean (required by vLLM)');
  if (c.zero_point !== true) p.push('zero_point must be true for GEMM (WQLinear_GEMM asserts zeros)');
  if (typeof c.version !== 'string' || !['gemm', 'gemv', 'gemv_fast', 'llm-awq'].includes((c.version as string).toLowerCase())) p.push('version must map to a 5.x format (gemm, gemv, gemv_fast, llm-awq)');
  if (!(c.modules_to_not_convert === null || (Array.isArray(c.modules_to_not_convert) && c.modules_to_not_convert.every((m) => typeof m === 'string')))) p.push('modules_to_not_convert must be null or a list of strings');
  if (c.do_fuse || c.modules_to_fuse) p.push('do_fuse/modules_to_fuse now raise');
  const known = new Set(['quant_method', 'bits', 'group_size', 'zero_point', 'version', 'modules_to_not_convert', 'backend', 'exllama_config']);
  for (const k of Object.keys(c)) if (!known.has(k)) p.push(`unexpected key ${k}`);
  return p;
}

/** transformers GPTQConfig post_init + vLLM gptq/gptq_marlin required keys + AutoGPTQ BaseQuantizeConfig fields. */
function gptqProblems(c: Record<string, unknown>): string[] {
  const p: string[] = [];
  if (c.quant_method !== 'gptq') p.push('quant_method must be "gptq"');
  if (!isInt(c.bits) || ![2, 3, 4, 8].includes(c.bits as number)) p.push('bits must be an integer in {2,3,4,8}');
  if (!isInt(c.group_size) || !((c.group_size as number) > 0 || c.group_size === -1)) p.push('group_size must be an integer > 0 or -1');
  if (typeof c.damp_percent !== 'number' || !((c.damp_percent as number) > 0 && (c.damp_percent as number) < 1)) p.push('damp_percent must be in (0, 1)');
  for (const k of ['desc_act', 'sym', 'true_sequential', 'static_groups']) if (typeof c[k] !== 'boolean') p.push(`${k} must be a boolean`);
  if (c.checkpoint_format !== 'gptq') p.push('checkpoint_format must be "gptq" (v1, read by every stack)');
  if (c.model_name_or_path !== null) p.push('model_name_or_path: null as AutoGPTQ writes it');
  if (!(c.model_file_base_name === 'model' || c.model_file_base_name === null)) p.push('model_file_base_name must find model.safetensors');
  if (c.modules_in_block_to_quantize !== undefined && !(Array.isArray(c.modules_in_block_to_quantize) && c.modules_in_block_to_quantize.every((s) => Array.isArray(s) && s.every((m) => typeof m === 'string')))) p.push('modules_in_block_to_quantize must be a list of lists of strings');
  if (c.dynamic !== undefined && (typeof c.dynamic !== 'object' || c.dynamic === null || !Object.keys(c.dynamic).every((k) => /^[+-]:/.test(k)))) p.push('dynamic keys must be "+:regex" / "-:regex"');
  const known = new Set(['bits', 'group_size', 'damp_percent', 'desc_act', 'static_groups', 'sym', 'true_sequential', 'model_name_or_path', 'model_file_base_name', 'quant_method', 'checkpoint_format', 'modules_in_block_to_quantize', 'dynamic']);
  for (const k of Object.keys(c)) if (!known.has(k)) p.push(`unexpected key ${k}`);
  return p;
}

test('AWQ quantization_config: AutoAWQ to_transformers_dict, accepted by AwqConfig and vLLM', () => {
  for (const groupSize of [32, 64, 128, -1]) {
    for (const sym of [false, true]) {
      const c = quantizationConfigFor(resolveOptions({ source: 's', output: 'o', method: 'awq', groupSize, sym }), [], 2);
      assert.deepEqual(awqProblems(c), [], JSON.stringify(c));
      assert.deepEqual(Object.keys(c), ['quant_method', 'bits', 'group_size', 'zero_point', 'version', 'modules_to_not_convert']);
      assert.deepEqual(c, { quant_method: 'awq', bits: 4, group_size: groupSize, zero_point: true, version: 'gemm', modules_to_not_convert: null });
    }
  }
  const kept = quantizationConfigFor(resolveOptions({ source: 's', output: 'o', method: 'awq' }), ['model.layers.0.mlp.up_proj', 'model.layers.1.mlp.up_proj'], 2);
  assert.deepEqual(kept.modules_to_not_convert, ['mlp.up_proj']);
  assert.deepEqual(awqProblems(kept), []);
  const partial = quantizationConfigFor(resolveOptions({ source: 's', output: 'o', method: 'awq' }), ['model.layers.1.mlp.up_proj'], 2);
  assert.deepEqual(partial.modules_to_not_convert, ['model.layers.1.mlp.up_proj']);
});

test('GPTQ quantization_config: AutoGPTQ BaseQuantizeConfig.to_dict, accepted by GPTQConfig, vLLM and AutoGPTQ', () => {
  for (const bits of [2, 3, 4, 8]) for (const groupSize of [32, 128, -1]) for (const sym of [true, false]) for (const descAct of [false, true]) {
    const c = quantizationConfigFor(resolveOptions({ source: 's', output: 'o', method: 'gptq', bits, groupSize, sym, descAct }), [], 2);
    assert.deepEqual(gptqProblems(c), [], JSON.stringify(c));
    assert.deepEqual(c, {
      bits, group_size: groupSize, damp_percent: 0.01, desc_act: descAct, static_groups: false, sym, true_sequential: true,
      model_name_or_path: null, model_file_base_name: 'model', quant_method: 'gptq', checkpoint_format: 'gptq',
    });
  }
  const kept = quantizationConfigFor(resolveOptions({ source: 's', output: 'o', method: 'gptq' }), ['model.layers.0.mlp.gate_proj', 'model.layers.1.mlp.gate_proj'], 2);
  assert.deepEqual(gptqProblems(kept), []);
  assert.deepEqual(kept.modules_in_block_to_quantize, [['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'], ['self_attn.o_proj'], ['mlp.up_proj'], ['mlp.down_proj']]);
  assert.deepEqual(Object.keys(kept.dynamic as object), ['-:^model\\.layers\\.0\\.mlp\\.gate_proj$', '-:^model\\.layers\\.1\\.mlp\\.gate_proj$']);
  assert.ok(new RegExp((Object.keys(kept.dynamic as object)[0]!).slice(2)).test('model.layers.0.mlp.gate_proj'));
  assert.ok(!new RegExp((Object.keys(kept.dynamic as object)[0]!).slice(2)).test('model.layers.10.mlp.gate_proj'));
});

test('defaults: AWQ asymmetric (zero_point), GPTQ symmetric; both 4-bit g128', () => {
  const a = resolveOptions({ source: 's', output: 'o', method: 'awq' });
  const g = resolveOptions({ source: 's', output: 'o', method: 'gptq' });
  assert.deepEqual([a.bits, a.groupSize, a.sym, a.descAct, a.validate], [4, 128, false, false, true]);
  assert.deepEqual([g.bits, g.groupSize, g.sym, g.descAct, g.validate], [4, 128, true, false, true]);
  assert.throws(() => resolveOptions({ source: 's', output: 'o', method: 'gptq', bits: 5 }), (e: ForgeError) => e.kind === 'usage');
  assert.throws(() => resolveOptions({ source: 's', output: 'o', method: 'gptq', groupSize: 0 }), (e: ForgeError) => e.kind === 'usage');
});

test('reading configs written by other tools', () => {
  // AutoAWQ quant_config.json legacy keys
  const awq = parseQuantizationConfig({ quant_method: 'awq', w_bit: 4, q_group_size: 64, zero_point: true, version: 'GEMM' }, 'quant_config.json')!;
  assert.deepEqual([awq.method, awq.bits, awq.groupSize, awq.layout, awq.sym], ['awq', 4, 64, 'gemm', false]);
  // AutoGPTQ quantize_config.json has no quant_method; a missing checkpoint_format means v1
  const gptq = parseQuantizationConfig({ bits: 3, group_size: -1, desc_act: true, sym: false }, 'quantize_config.json')!;
  assert.deepEqual([gptq.method, gptq.bits, gptq.groupSize, gptq.descAct, gptq.sym, gptq.layout], ['gptq', 3, -1, true, false, 'gptq']);
  // sym missing: AutoGPTQ defaults it to true
  assert.equal(parseQuantizationConfig({ quant_method: 'gptq', bits: 4 }, 'c')!.sym, true);
  assert.equal(parseQuantizationConfig({ quant_method: 'gptq', bits: 4, checkpoint_format: 'gptq_v2' }, 'c')!.layout, 'gptq_v2');
  assert.equal(parseQuantizationConfig({ quant_method: 'bitsandbytes' }, 'c'), null);
  const kind = (f: () => unknown) => { try { f(); return 'ok'; } catch (e) { return `${(e as ForgeError).kind}:${(e as Error).message}`; } };
  assert.match(kind(() => parseQuantizationConfig({ quant_method: 'awq', bits: 4, version: 'gemv_fast' }, 'cfg.json')), /^unsupported:cfg\.json: AWQ version "gemv_fast"/);
  assert.equal(parseQuantizationConfig({ quant_method: 'awq', bits: 4, version: 'GEMV', group_size: 64 }, 'c')!.layout, 'gemv');
  assert.match(kind(() => parseQuantizationConfig({ quant_method: 'gptq', bits: 4, checkpoint_format: 'marlin' }, 'cfg.json')), /^unsupported:.*"marlin"/);
  assert.match(kind(() => parseQuantizationConfig({ quant_method: 'gptq', bits: 5 }, 'cfg.json')), /^format:cfg\.json: bits must be 2, 3, 4 or 8/);
  assert.match(kind(() => parseQuantizationConfig({ quant_method: 'gptq', bits: 4, group_size: 0 }, 'cfg.json')), /^format:.*group_size/);
  // the writers' dicts read back to the same settings
  const w = parseQuantizationConfig(gptqQuantizationConfig({ bits: 8, groupSize: 32, sym: true, descAct: true }), 'c')!;
  assert.deepEqual([w.bits, w.groupSize, w.sym, w.descAct], [8, 32, true, true]);
  const x = parseQuantizationConfig(awqQuantizationConfig({ bits: 4, groupSize: 128 }), 'c')!;
  assert.deepEqual([x.method, x.bits, x.groupSize], ['awq', 4, 128]);
});
