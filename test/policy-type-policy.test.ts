import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planTensorTypes, type TensorPlanInput, type TensorPlan, type ModelFacts } from '../src/policy/type-policy.ts';
import { useMoreBits, modelFactsFromMetadata } from '../src/policy/model-facts.ts';
import { compareTensorNames, ggmlNDims, layerIndexOf } from '../src/policy/tensor-order.ts';
import { fileTypeByName } from '../kernels/file-types.ts';
import { GgmlTypeId as T, ggmlType } from '../kernels/ggml-types.ts';
import { ForgeError } from '../formats/errors.ts';

const ft = (n: string) => fileTypeByName(n)!;
const nameOf = (t: number) => ggmlType(t)!.name;

/** A dense Llama-shaped tensor list (F32), inputs deliberately unsorted. */
function llamaTensors(o: { nLayer: number; nEmbd: number; nFf: number; nVocab: number; nHead: number; nHeadKv: number; tied?: boolean; type?: number }): TensorPlanInput[] {
  const type = o.type ?? T.F32;
  const kv = (o.nEmbd / o.nHead) * o.nHeadKv;
  const out: TensorPlanInput[] = [{ name: 'token_embd.weight', ne: [o.nEmbd, o.nVocab], type }];
  for (let i = 0; i < o.nLayer; i++) {
    const p = `blk.${i}.`;
    out.push(
      { name: p + 'attn_norm.weight', ne: [o.nEmbd], type: T.F32 },
      { name: p + 'attn_q.weight', ne: [o.nEmbd, o.nEmbd], type },
      { name: p + 'attn_k.weight', ne: [o.nEmbd, kv], type },
      { name: p + 'attn_v.weight', ne: [o.nEmbd, kv], type },
      { name: p + 'attn_output.weight', ne: [o.nEmbd, o.nEmbd], type },
      { name: p + 'ffn_norm.weight', ne: [o.nEmbd], type: T.F32 },
      { name: p + 'ffn_gate.weight', ne: [o.nEmbd, o.nFf], type },
      { name: p + 'ffn_down.weight', ne: [o.nFf, o.nEmbd], type },
      { name: p + 'ffn_up.weight', ne: [o.nEmbd, o.nFf], type },
    );
  }
  out.push({ name: 'output_norm.weight', ne: [o.nEmbd], type: T.F32 });
  if (!o.tied) out.push({ name: 'output.weight', ne: [o.nEmbd, o.nVocab], type });
  return out.reverse();
}
const facts = (nLayer: number, nHead = 32, nHeadKv = 8, nExpert = 0): ModelFacts => ({ arch: 'llama', nLayer, nHead, nHeadKv, nExpert });
const byName = (plans: TensorPlan[]) => new Map(plans.map((p) => [p.name, p]));
const typeOf = (plans: TensorPlan[], name: string) => nameOf(byName(plans).get(name)!.targetType);

test('use_more_bits selects the documented layers', () => {
  const layers = (n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => useMoreBits(i, n));
  assert.deepEqual(layers(16), [0, 1, 4, 7, 10, 13, 14, 15]);
  assert.deepEqual(layers(22), [0, 1, 4, 7, 10, 13, 16, 19, 20, 21]);
  assert.deepEqual(layers(32), [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
  assert.deepEqual(layers(26), [0, 1, 2, 5, 8, 11, 14, 17, 20, 22, 23, 24, 25]);
});

test('tensor order is (blk index or -1, then bytes) and n_dims drops trailing 1s', () => {
  const names = ['blk.10.attn_q.weight', 'token_embd.weight', 'blk.2.ffn_up.weight', 'output.weight', 'blk.2.attn_k.bias',
    'rope_freqs.weight', 'output_norm.weight', 'blk.2.attn_k.weight', 'blk.2.attn_norm.weight'];
  assert.deepEqual([...names].sort(compareTensorNames), ['output.weight', 'output_norm.weight', 'rope_freqs.weight', 'token_embd.weight',
    'blk.2.attn_k.bias', 'blk.2.attn_k.weight', 'blk.2.attn_norm.weight', 'blk.2.ffn_up.weight', 'blk.10.attn_q.weight']);
  assert.equal(layerIndexOf('blk.7x'), 7); // sscanf takes the number even without the trailing dot
  assert.equal(layerIndexOf('blkx.7.'), -1);
  assert.equal(ggmlNDims([4096, 1]), 1);
  assert.equal(ggmlNDims([64, 1, 3, 1]), 3);
  const plans = planTensorTypes([{ name: 'blk.0.attn_q.weight', ne: [256, 1], type: T.F32 }], facts(1), ft('q4_0'));
  assert.deepEqual(plans[0]!.ne, [256]);
  assert.equal(plans[0]!.targetType, T.F32, 'a [256,1] tensor is 1-D, so never quantized');
});

test('worked summaries: dense 32-layer Llama, untied, dims divisible by 256', () => {
  const tensors = llamaTensors({ nLayer: 32, nEmbd: 4096, nFf: 14336, nVocab: 32000, nHead: 32, nHeadKv: 8 });
  const expect: Record<string, [embd: string, out: string, qko: string, v: (i: number) => string, gu: string, down: (i: number) => string, o?: string]> = {
    q8_0: ['Q8_0', 'Q8_0', 'Q8_0', () => 'Q8_0', 'Q8_0', () => 'Q8_0'],
    q4_0: ['Q4_0', 'Q6_K', 'Q4_0', () => 'Q4_0', 'Q4_0', () => 'Q4_0'],
    q4_1: ['Q4_1', 'Q6_K', 'Q4_1', () => 'Q4_1', 'Q4_1', () => 'Q4_1'],
    q5_0: ['Q5_0', 'Q6_K', 'Q5_0', () => 'Q5_0', 'Q5_0', () => 'Q5_0'],
    q5_1: ['Q5_1', 'Q6_K', 'Q5_1', () => 'Q5_1', 'Q5_1', () => 'Q5_1'],
    q6_K: ['Q6_K', 'Q6_K', 'Q6_K', () => 'Q6_K', 'Q6_K', () => 'Q6_K'],
    q5_K_S: ['Q5_K', 'Q6_K', 'Q5_K', () => 'Q5_K', 'Q5_K', () => 'Q5_K'],
    q5_K_M: ['Q5_K', 'Q6_K', 'Q5_K', (i) => (useMoreBits(i, 32) ? 'Q6_K' : 'Q5_K'), 'Q5_K', (i) => (useMoreBits(i, 32) ? 'Q6_K' : 'Q5_K')],
    q4_K_M: ['Q4_K', 'Q6_K', 'Q4_K', (i) => (useMoreBits(i, 32) ? 'Q6_K' : 'Q4_K'), 'Q4_K', (i) => (useMoreBits(i, 32) ? 'Q6_K' : 'Q4_K')],
    q4_K_S: ['Q4_K', 'Q6_K', 'Q4_K', (i) => (i < 4 ? 'Q5_K' : 'Q4_K'), 'Q4_K', (i) => (i < 4 ? 'Q5_K' : 'Q4_K')],
    q3_K_S: ['Q3_K', 'Q6_K', 'Q3_K', () => 'Q3_K', 'Q3_K', () => 'Q3_K'],
    q3_K_M: ['Q3_K', 'Q6_K', 'Q3_K', (i) => (i < 2 ? 'Q5_K' : 'Q4_K'), 'Q3_K', (i) => (i < 2 ? 'Q5_K' : 'Q4_K'), 'Q4_K'],
    q3_K_L: ['Q3_K', 'Q6_K', 'Q3_K', () => 'Q5_K', 'Q3_K', () => 'Q5_K', 'Q5_K'],
    q2_K: ['Q2_K', 'Q6_K', 'Q2_K', () => 'Q4_K', 'Q2_K', () => 'Q3_K', 'Q3_K'],
  };
  for (const [ftName, [embd, out, qko, v, gu, down, o]] of Object.entries(expect)) {
    const plans = planTensorTypes(tensors, facts(32), ft(ftName));
    assert.equal(plans.length, tensors.length);
    assert.equal(typeOf(plans, 'token_embd.weight'), embd, ftName);
    assert.equal(typeOf(plans, 'output.weight'), out, ftName);
    assert.equal(typeOf(plans, 'output_norm.weight'), 'F32', ftName);
    for (let i = 0; i < 32; i++) {
      const p = `blk.${i}.`;
      assert.equal(typeOf(plans, p + 'attn_q.weight'), qko, `${ftName} ${p}attn_q`);
      assert.equal(typeOf(plans, p + 'attn_k.weight'), qko, `${ftName} ${p}attn_k`);
      assert.equal(typeOf(plans, p + 'attn_output.weight'), o ?? qko, `${ftName} ${p}attn_output`);
      assert.equal(typeOf(plans, p + 'attn_v.weight'), v(i), `${ftName} ${p}attn_v`);
      assert.equal(typeOf(plans, p + 'ffn_gate.weight'), gu, `${ftName} ${p}ffn_gate`);
      assert.equal(typeOf(plans, p + 'ffn_up.weight'), gu, `${ftName} ${p}ffn_up`);
      assert.equal(typeOf(plans, p + 'ffn_down.weight'), down(i), `${ftName} ${p}ffn_down`);
      assert.equal(typeOf(plans, p + 'attn_norm.weight'), 'F32');
    }
    assert.ok(plans.every((p) => !p.fallback), `${ftName}: no fallbacks at these shapes`);
  }
});

test('plans come out in llama-quantize order with the rule that chose each type', () => {
  const plans = planTensorTypes(llamaTensors({ nLayer: 2, nEmbd: 256, nFf: 512, nVocab: 512, nHead: 4, nHeadKv: 1 }), facts(2, 4, 1), ft('q5_K_M'));
  assert.deepEqual(plans.slice(0, 5).map((p) => p.name), ['output.weight', 'output_norm.weight', 'token_embd.weight', 'blk.0.attn_k.weight', 'blk.0.attn_norm.weight']);
  const m = byName(plans);
  assert.equal(m.get('blk.0.attn_v.weight')!.rule, 'attn-v:default');
  assert.equal(m.get('blk.1.attn_v.weight')!.rule, 'attn-v:use-more-bits');
  assert.equal(m.get('blk.0.attn_norm.weight')!.rule, 'keep:1-D tensor');
  assert.equal(m.get('blk.0.attn_norm.weight')!.quantize, false);
  assert.equal(m.get('blk.0.attn_q.weight')!.quantize, true);
});

test('q2_K attn_v depends on n_gqa; 70B bumps attn_v; 8 experts force Q8_0', () => {
  const t = llamaTensors({ nLayer: 2, nEmbd: 256, nFf: 512, nVocab: 512, nHead: 4, nHeadKv: 1 });
  assert.equal(typeOf(planTensorTypes(t, facts(2, 4, 1), ft('q2_K')), 'blk.1.attn_v.weight'), 'Q4_K');
  assert.equal(typeOf(planTensorTypes(t, facts(2, 4, 2), ft('q2_K')), 'blk.1.attn_v.weight'), 'Q3_K');
  const t80 = llamaTensors({ nLayer: 80, nEmbd: 256, nFf: 512, nVocab: 512, nHead: 8, nHeadKv: 1 });
  assert.equal(typeOf(planTensorTypes(t80, facts(80, 8, 1), ft('q3_K_M')), 'blk.5.attn_v.weight'), 'Q5_K');
  assert.equal(typeOf(planTensorTypes(t80, facts(80, 8, 8), ft('q3_K_M')), 'blk.5.attn_v.weight'), 'Q4_K', 'equal heads: not 70B');
  const moe = planTensorTypes(t, facts(2, 4, 1, 8), ft('q4_K_M'));
  assert.equal(typeOf(moe, 'blk.1.attn_v.weight'), 'Q8_0');
  assert.equal(typeOf(moe, 'blk.1.attn_k.weight'), 'Q8_0');
  assert.equal(typeOf(moe, 'blk.1.attn_output.weight'), 'Q5_K');
});

test('tied embeddings: token_embd takes the output rule (Q6_K, Q8_0 for q8_0)', () => {
  const t = llamaTensors({ nLayer: 2, nEmbd: 256, nFf: 512, nVocab: 512, nHead: 4, nHeadKv: 2, tied: true });
  assert.equal(typeOf(planTensorTypes(t, facts(2), ft('q4_K_M')), 'token_embd.weight'), 'Q6_K');
  assert.equal(typeOf(planTensorTypes(t, facts(2), ft('q4_0')), 'token_embd.weight'), 'Q6_K');
  assert.equal(typeOf(planTensorTypes(t, facts(2), ft('q8_0')), 'token_embd.weight'), 'Q8_0');
  const o = planTensorTypes(t, facts(2), ft('q4_K_M'), { outputTensorType: T.Q8_0 });
  assert.equal(typeOf(o, 'token_embd.weight'), 'Q8_0', '--output-tensor-type reaches a tied token_embd');
});

test('shape fallbacks (Qwen2.5-0.5B, n_embd 896) are each reported', () => {
  const t = llamaTensors({ nLayer: 24, nEmbd: 896, nFf: 4864, nVocab: 1024, nHead: 14, nHeadKv: 2, tied: true });
  const f = facts(24, 14, 2);
  const q4 = planTensorTypes(t, f, ft('q4_K_M'));
  assert.equal(typeOf(q4, 'blk.3.attn_q.weight'), 'Q5_0');
  assert.equal(typeOf(q4, 'blk.3.attn_v.weight'), 'Q5_0', 'not use_more_bits → Q4_K → Q5_0');
  assert.equal(typeOf(q4, 'blk.0.attn_v.weight'), 'Q8_0', 'use_more_bits → Q6_K → Q8_0');
  assert.equal(typeOf(q4, 'blk.3.ffn_down.weight'), 'Q4_K', 'ne[0]=4864 is 19·256');
  assert.equal(typeOf(q4, 'token_embd.weight'), 'Q8_0');
  const te = byName(q4).get('token_embd.weight')!;
  assert.equal(te.fallback?.from, T.Q6_K);
  assert.equal(te.fallback?.to, T.Q8_0);
  assert.match(te.fallback!.reason, /ne\[0\]=896/);
  const q = byName(q4).get('blk.3.attn_q.weight')!;
  assert.deepEqual({ from: q.fallback!.from, to: q.fallback!.to }, { from: T.Q4_K, to: T.Q5_0 });
  assert.match(q.fallback!.reason, /896 is not divisible by 256 \(required for Q4_K\)/);
  assert.equal(typeOf(planTensorTypes(t, f, ft('q5_K_S')), 'blk.3.attn_q.weight'), 'Q5_1');
  assert.equal(typeOf(planTensorTypes(t, f, ft('q6_K')), 'blk.3.attn_q.weight'), 'Q8_0');
  assert.equal(typeOf(planTensorTypes(t, f, ft('q3_K_M')), 'blk.3.attn_q.weight'), 'Q4_0');
  assert.equal(typeOf(planTensorTypes(t, f, ft('q2_K')), 'blk.3.attn_q.weight'), 'Q4_0');
  for (const p of q4) if (p.targetType !== T.F32 && ![T.Q4_K, T.Q6_K].includes(p.targetType as 12)) assert.ok(p.fallback, `${p.name} fell back silently`);
});

test('ne[0] not a multiple of 32: pinned llama.cpp falls back to F16 (q8_0, q4_0, K-quants alike)', () => {
  const t: TensorPlanInput[] = [
    { name: 'blk.0.ffn_down.weight', ne: [172, 64], type: T.F32 },
    { name: 'blk.0.ffn_up.weight', ne: [64, 172], type: T.F32 },
    { name: 'output.weight', ne: [172, 512], type: T.F32 },
  ];
  for (const name of ['q8_0', 'q4_0', 'q5_1', 'q4_K_M', 'q6_K', 'q2_K']) {
    const plans = byName(planTensorTypes(t, facts(1), ft(name)));
    const down = plans.get('blk.0.ffn_down.weight')!;
    assert.equal(down.targetType, T.F16, name);
    assert.match(down.fallback!.reason, /172 is not divisible by/);
    assert.equal(plans.get('output.weight')!.targetType, T.F16, `${name}: output → Q8_0 → F16`);
  }
  assert.equal(byName(planTensorTypes(t, facts(1), ft('q4_K_M'))).get('blk.0.ffn_up.weight')!.targetType, T.Q5_0);
});

test('a type with no fallback is refused, naming the tensor', () => {
  const t: TensorPlanInput[] = [{ name: 'blk.0.attn_q.weight', ne: [64, 64], type: T.F32 }];
  assert.throws(() => planTensorTypes(t, facts(1), ft('q4_0'), { overrides: [{ pattern: /attn_q/, type: T.Q1_0 }] }),
    (e: unknown) => e instanceof ForgeError && e.kind === 'unsupported' && /blk\.0\.attn_q\.weight/.test(e.message) && /no tensor type fallback/.test(e.message));
});

test('--pure, overrides (first match wins, skip the mixture counters) and float file types', () => {
  const t = llamaTensors({ nLayer: 4, nEmbd: 256, nFf: 512, nVocab: 512, nHead: 4, nHeadKv: 2 });
  const pure = planTensorTypes(t, facts(4, 4, 2), ft('q4_K_M'), { pure: true });
  for (const p of pure) assert.equal(nameOf(p.targetType), p.ne.length < 2 ? 'F32' : 'Q4_K', p.name);
  const ov = planTensorTypes(t, facts(4, 4, 2), ft('q3_K_M'), {
    overrides: [{ pattern: /blk\.0\.attn_v/, type: T.Q8_0 }, { pattern: /attn_v/, type: T.Q6_K }, { pattern: /ffn_up/, type: T.F16 }],
  });
  assert.equal(typeOf(ov, 'blk.0.attn_v.weight'), 'Q8_0');
  assert.equal(typeOf(ov, 'blk.1.attn_v.weight'), 'Q6_K');
  assert.equal(typeOf(ov, 'blk.2.ffn_up.weight'), 'F16');
  assert.match(byName(ov).get('blk.0.attn_v.weight')!.rule, /^override:/);
  // Overridden attn_v tensors never reach the mixture rules, so they do not advance its counter.
  const part = planTensorTypes(t, facts(4, 4, 2), ft('q3_K_M'), { overrides: [{ pattern: /blk\.0\.attn_v/, type: T.Q8_0 }] });
  assert.deepEqual([1, 2, 3].map((i) => typeOf(part, `blk.${i}.attn_v.weight`)), ['Q5_K', 'Q5_K', 'Q4_K']);
  for (const [name, want] of [['f16', 'F16'], ['bf16', 'BF16'], ['f32', 'F32']] as const) {
    const plans = planTensorTypes(t, facts(4, 4, 2), ft(name), { overrides: [{ pattern: /attn_q/, type: T.Q8_0 }] });
    for (const p of plans) assert.equal(nameOf(p.targetType), p.ne.length < 2 ? 'F32' : want, `${name} ${p.name}: overrides only apply to quantized file types`);
  }
});

test('already-quantized input needs allowRequantize; unchanged tensors are copied', () => {
  const t: TensorPlanInput[] = [{ name: 'blk.0.attn_q.weight', ne: [256, 256], type: T.Q6_K }, { name: 'blk.0.ffn_up.weight', ne: [256, 256], type: T.Q4_0 }];
  assert.throws(() => planTensorTypes(t, facts(1), ft('q4_0')), (e: unknown) => e instanceof ForgeError && /attn_q/.test(e.message) && /--allow-requantize/.test(e.message));
  const ok = byName(planTensorTypes(t, facts(1), ft('q4_0'), { allowRequantize: true }));
  assert.equal(ok.get('blk.0.attn_q.weight')!.quantize, true);
  assert.equal(ok.get('blk.0.ffn_up.weight')!.quantize, false, 'same type: raw copy, never refused');
});

test('never-quantized names keep their type', () => {
  const t: TensorPlanInput[] = ['blk.0.ffn_gate_inp.weight', 'position_embd.weight', 'blk.0.attn_q.bias', 'blk.0.ssm_conv1d.weight', 'blk.0.attn_norm.weight']
    .map((name) => ({ name, ne: [256, 256], type: T.F16 }));
  for (const p of planTensorTypes(t, facts(1), ft('q4_0'))) {
    assert.equal(p.targetType, T.F16, p.name);
    assert.match(p.rule, /^keep:/);
  }
});

test('model facts from metadata: per-layer arrays and defaults', () => {
  const kv: Record<string, unknown> = { 'general.architecture': 'llama', 'llama.block_count': 4, 'llama.attention.head_count': [8, 8], 'llama.attention.head_count_kv': 2 };
  assert.deepEqual(modelFactsFromMetadata((k) => kv[k]), { arch: 'llama', nLayer: 4, nHead: 8, nHeadKv: 2, nExpert: 0 });
  delete kv['llama.attention.head_count_kv'];
  assert.equal(modelFactsFromMetadata((k) => kv[k]).nHeadKv, 8);
});

test('--token-embedding-type / --output-tensor-type: no shape fallback (refused), per_layer_token_embd yields to a named override', () => {
  const t: TensorPlanInput[] = [
    { name: 'token_embd.weight', ne: [64, 512], type: T.F32 },
    { name: 'output.weight', ne: [64, 512], type: T.F32 },
    { name: 'per_layer_token_embd.weight', ne: [256, 512], type: T.F32 },
  ];
  assert.throws(() => planTensorTypes(t, facts(1), ft('q4_0'), { tokenEmbeddingType: T.Q4_K }),
    (e: unknown) => e instanceof ForgeError && /token_embd\.weight/.test(e.message) && /no fallback/.test(e.message));
  assert.throws(() => planTensorTypes(t, facts(1), ft('q4_0'), { outputTensorType: T.Q6_K }), /output\.weight/);
  const ok = byName(planTensorTypes(t, facts(1), ft('q4_0'), { tokenEmbeddingType: T.Q8_0, overrides: [{ pattern: /per_layer/, type: T.Q5_0 }] }));
  assert.equal(ok.get('token_embd.weight')!.targetType, T.Q8_0);
  assert.equal(ok.get('per_layer_token_embd.weight')!.targetType, T.Q5_0);
  assert.equal(ok.get('output.weight')!.targetType, T.Q8_0, 'rule A picks Q6_K, which does not fit 64 columns, so the shape fallback gives Q8_0');
});
