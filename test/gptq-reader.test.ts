/**
 * Reading AWQ/GPTQ folders written by other tools: GPTQ v2 (zeros as-is) decodes like v1, and
 * every malformed layer gives a FormatError naming the file and tensor. Cancellation leaves no output.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsWriter, type TensorDecl } from '../formats/safetensors/writer.ts';
import { isQuantizedFolder, openQuantizedCheckpoint } from '../formats/awq-gptq/checkpoint.ts';
import { openDequantizedModel } from '../formats/awq-gptq/dequantized-model.ts';
import { inspectQuantizedFolder } from '../formats/awq-gptq/inspect.ts';
import { ForgeError } from '../formats/errors.ts';
import { gptqRtnSolver } from '../kernels/groupwise/rtn-gptq.ts';
import { awqRtnSolver } from '../kernels/groupwise/rtn-awq.ts';
import { gemvZerosWidth, packAwqGemv } from '../kernels/groupwise/awq-gemv.ts';
import { packGptq, type GptqFormat } from '../kernels/groupwise/gptq.ts';
import { dequantizeRows } from '../kernels/groupwise/dequantize.ts';
import { fp32ToFp16 } from '../kernels/fp16.ts';
import { runAwqGptqConvert } from './support/run-job.ts';
import { openQuantizedAsSafetensorsModel } from './support/quantized-as-safetensors.ts';
import { openSafetensorsModel, rowBytes } from '../formats/safetensors/model.ts';
import { toFloat32 } from '../formats/safetensors/dtypes.ts';
import { randomWeights, tempDir } from './groupwise-fixtures.ts';
import { MockHub, sampleModelFiles } from './support/mock-hub.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';

const tmp = tempDir('gptq-read');
after(tmp.cleanup);
const MOD = 'model.layers.0.self_attn.q_proj';
const OUT = 64, IN = 128;

const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const half = (x: Float32Array) => bytes(Uint16Array.from(x, (v) => fp32ToFp16(v)));

interface Part { decl: TensorDecl; data: Uint8Array }

function gptqParts(format: GptqFormat) {
  const w = randomWeights(OUT * IN, 99);
  const m = gptqRtnSolver().quantize(w, OUT, IN, { bits: 4, groupSize: 32, sym: false, descAct: true });
  const t = packGptq(m, format);
  const parts: Part[] = [
    { decl: { name: `${MOD}.qweight`, dtype: 'I32', shape: [IN / 8, OUT] }, data: bytes(t.qweight) },
    { decl: { name: `${MOD}.qzeros`, dtype: 'I32', shape: [4, OUT / 8] }, data: bytes(t.qzeros) },
    { decl: { name: `${MOD}.scales`, dtype: 'F16', shape: [4, OUT] }, data: half(t.scales) },
    { decl: { name: `${MOD}.g_idx`, dtype: 'I32', shape: [IN] }, data: bytes(t.gIdx) },
    { decl: { name: 'model.norm.weight', dtype: 'F16', shape: [IN] }, data: half(new Float32Array(IN).fill(1)) },
  ];
  return { m, parts };
}

async function writeFolder(name: string, parts: Part[], qc: Record<string, unknown> | null): Promise<string> {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const w = await SafetensorsWriter.open(join(dir, 'model.safetensors'), parts.map((p) => p.decl), { format: 'pt' });
  for (const p of parts) await w.writeTensorData(p.decl.name, p.data);
  await w.finish();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', ...(qc ? { quantization_config: qc } : {}) }));
  return dir;
}

const QC = { quant_method: 'gptq', bits: 4, group_size: 32, sym: false, desc_act: true };

test('GPTQ v2 (zeros stored as-is) and v1 folders decode to the same weights', async () => {
  const v1 = gptqParts('gptq'), v2 = gptqParts('gptq_v2');
  assert.notDeepEqual(v1.parts[1]!.data, v2.parts[1]!.data, 'the qzeros words differ');
  const d1 = await writeFolder('v1', v1.parts, { ...QC, checkpoint_format: 'gptq' });
  const d2 = await writeFolder('v2', v2.parts, { ...QC, checkpoint_format: 'gptq_v2' });
  const expected = dequantizeRows(v1.m);
  for (const d of [d1, d2]) {
    const model = await openDequantizedModel(d);
    try {
      assert.deepEqual(model.tensors.map((t) => [t.name, t.shape, t.quantized]), [[`${MOD}.weight`, [OUT, IN], true], ['model.norm.weight', [IN], false]]);
      assert.deepEqual(await model.readRows(`${MOD}.weight`, 0, OUT), expected);
      assert.deepEqual(await model.readRows(`${MOD}.weight`, 10, 5), expected.subarray(10 * IN, 15 * IN));
    } finally {
      await model.close();
    }
  }
  const r = await inspectQuantizedFolder(d2, { group: 3, channels: 0 });
  assert.equal(r.layout, 'gptq_v2');
  assert.equal(r.group.channels.length, OUT);
  assert.deepEqual(r.group.channels.map((c) => c.zero), [...v1.m.zeros.subarray(3 * OUT, 4 * OUT)]);
  assert.ok(r.layers[0]!.actOrder);
});

test('quantize_config.json alone (AutoGPTQ, no quant_method) is found', async () => {
  const { parts } = gptqParts('gptq');
  const dir = await writeFolder('qcfg', parts, null);
  writeFileSync(join(dir, 'quantize_config.json'), JSON.stringify({ bits: 4, group_size: 32, sym: false, desc_act: true }));
  const c = await openQuantizedCheckpoint(dir);
  assert.deepEqual([c.config.method, c.config.layout, c.config.file], ['gptq', 'gptq', join(dir, 'quantize_config.json')]);
  await c.close();
});

test('malformed layers give FormatErrors naming the file and tensor', async () => {
  const cases: [string, (p: Part[]) => Part[], RegExp, Record<string, unknown> | null][] = [
    ['no-scales', (p) => p.filter((x) => !x.decl.name.endsWith('.scales')), /lacks tensor 'model\.layers\.0\.self_attn\.q_proj\.scales'/, QC],
    ['bad-qzeros', (p) => p.map((x) => (x.decl.name.endsWith('.qzeros') ? { decl: { ...x.decl, shape: [2, 16] }, data: x.data } : x)), /qzeros' has shape \[2,16\], expected \[4,8\]/, QC],
    ['f32-qweight', (p) => p.map((x) => (x.decl.name.endsWith('.qweight') ? { decl: { ...x.decl, dtype: 'F32' as const }, data: x.data } : x)), /qweight' has dtype F32, expected I32/, QC],
    ['bad-gidx', (p) => p.map((x) => (x.decl.name.endsWith('.g_idx') ? { decl: x.decl, data: bytes(new Int32Array(IN).fill(7)) } : x)), /g_idx' entry 0 is 7, outside 0\.\.3/, QC],
    ['groups', (p) => p, /has 4 groups but in_features 128 with group_size 64 gives 2/, { ...QC, group_size: 64 }],
    ['no-config', (p) => p, /no AWQ\/GPTQ quantization_config/, null],
  ];
  for (const [name, edit, message, qc] of cases) {
    const dir = await writeFolder(name, edit(gptqParts('gptq').parts), qc);
    await assert.rejects(async () => {
      const m = await openDequantizedModel(dir);
      try { await m.readRows(`${MOD}.weight`, 0, 1); } finally { await m.close(); }
    }, (err: unknown) => {
      assert.ok(err instanceof ForgeError && err.kind === 'format', `${name}: ${String(err)}`);
      assert.match(err.message, message, name);
      assert.ok(err.message.includes(dir), `${name}: names the folder or file: ${err.message}`);
      return true;
    });
  }
});

test('cancellation leaves no output', async () => {
  const ac = new AbortController();
  ac.abort();
  const out = join(tmp.dir, 'cancelled');
  await assert.rejects(runAwqGptqConvert({ source: join(import.meta.dirname, '..', 'samples', 'stories260K'), output: out, method: 'gptq', bits: 8, groupSize: -1, keepUnaligned: true, signal: ac.signal }),
    (e: ForgeError) => e.kind === 'cancelled');
  assert.ok(!existsSync(out));
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.startsWith('.cancelled')), []);
});

test('a GPTQ folder behind the SafetensorsModel interface: HF weight names, F32 rows, raw pass-through', async () => {
  const src = join(import.meta.dirname, '..', 'samples', 'stories260K');
  const out = join(tmp.dir, 'stories-for-gguf');
  await runAwqGptqConvert({ source: src, output: out, method: 'gptq', bits: 8, groupSize: -1, keepUnaligned: true });
  const srcModel = await openSafetensorsModel(src);
  const model = await openQuantizedAsSafetensorsModel(out);
  const deq = await openDequantizedModel(out);
  try {
    assert.deepEqual([...model.tensors.keys()].sort(), [...srcModel.tensors.keys()].sort());
    for (const t of srcModel.tensors.values()) assert.deepEqual(model.tensors.get(t.name)!.shape, t.shape, t.name);
    const q = model.tensors.get('model.layers.2.self_attn.q_proj.weight')!;
    assert.equal(q.dtype, 'F32');
    assert.equal(rowBytes(q), 64 * 4);
    const rows = toFloat32('F32', await model.readRows(q.name, 8, 4));
    assert.deepEqual(rows, await deq.readRows(q.name, 8, 4));
    const orig = toFloat32('F32', await srcModel.readRows(q.name, 8, 4));
    assert.ok(rows.every((v, i) => Math.abs(v - orig[i]!) < 0.01), '8-bit rows are close to the source');
    const up = model.tensors.get('model.layers.0.mlp.up_proj.weight')!;
    assert.equal(up.dtype, 'F16', 'a layer kept unquantized passes through as stored');
    assert.equal((await model.readTensor(up.name)).length, 172 * 64 * 2);
    await assert.rejects(model.readRows(q.name, 60, 5), RangeError);
  } finally {
    await model.close(); await srcModel.close(); await deq.close();
  }
});

test('isQuantizedFolder: true for AWQ/GPTQ (even an unreadable layout, so opening names it), false otherwise', async () => {
  const { parts } = gptqParts('gptq');
  assert.equal(await isQuantizedFolder(await writeFolder('is-v1', parts, QC)), true);
  const fast = await writeFolder('is-gemv-fast', parts, { quant_method: 'awq', bits: 4, group_size: 32, version: 'gemv_fast' });
  assert.equal(await isQuantizedFolder(fast), true);
  await assert.rejects(openDequantizedModel(fast), (e: ForgeError) => e.kind === 'unsupported' && /AWQ version "gemv_fast" is not read/.test(e.message));
  assert.equal(await isQuantizedFolder(await writeFolder('is-plain', parts, null)), false);
  assert.equal(await isQuantizedFolder(join(tmp.dir, 'does-not-exist')), false);
  const bnb = await writeFolder('is-bnb', parts, { quant_method: 'bitsandbytes' });
  assert.equal(await isQuantizedFolder(bnb), false);
});

test('an hf: source is pulled through the (mock, 127.0.0.1) Hub and converted', async (t) => {
  const hub = await MockHub.start();
  t.after(() => hub.close());
  const gen = await ensureSamples();
  hub.addRepo('tiny/llama', await sampleModelFiles(join(gen, SAMPLE.llama.f16)));
  const out = join(tmp.dir, 'from-hub');
  const events: string[] = [];
  await runAwqGptqConvert({ source: 'hf:tiny/llama', output: out, method: 'gptq', hub: { endpoint: hub.url, cacheDir: join(tmp.dir, 'hf-cache') } },
    (e) => events.push(e.type));
  assert.ok(events.includes('download'));
  assert.ok(existsSync(join(out, 'quantize_config.json')));
  assert.ok(existsSync(join(out, 'tokenizer.model')), 'tokenizer copied from the snapshot folder');
});

test('AWQ GEMV folders (AutoAWQ version "gemv") are read: same weights as the GEMM packing of the same codes', async () => {
  const w = randomWeights(OUT * IN, 5);
  const m = awqRtnSolver.quantize(w, OUT, IN, { bits: 4, groupSize: 64, sym: false });
  const t = packAwqGemv(m);
  const zw = gemvZerosWidth(IN, 64);
  const dir = await writeFolder('gemv', [
    { decl: { name: `${MOD}.qweight`, dtype: 'I32', shape: [OUT, IN / 8] }, data: bytes(t.qweight) },
    { decl: { name: `${MOD}.qzeros`, dtype: 'I32', shape: [OUT, zw] }, data: bytes(t.qzeros) },
    { decl: { name: `${MOD}.scales`, dtype: 'F16', shape: [OUT, zw * 8] }, data: half(t.scales) },
  ], { quant_method: 'awq', bits: 4, group_size: 64, zero_point: true, version: 'gemv' });
  const model = await openDequantizedModel(dir);
  try {
    assert.deepEqual(model.tensors.map((x) => [x.name, x.shape]), [[`${MOD}.weight`, [OUT, IN]]]);
    assert.deepEqual(await model.readRows(`${MOD}.weight`, 0, OUT), dequantizeRows(m));
  } finally {
    await model.close();
  }
  const r = await inspectQuantizedFolder(dir, { group: 1 });
  assert.equal(r.layout, 'gemv');
  assert.deepEqual(r.group.channels.map((c) => c.zero), [...m.zeros.subarray(OUT, OUT + 8)]);
  // a wrong zeros width is named
  const bad = await writeFolder('gemv-bad', [
    { decl: { name: `${MOD}.qweight`, dtype: 'I32', shape: [OUT, IN / 8] }, data: bytes(t.qweight) },
    { decl: { name: `${MOD}.qzeros`, dtype: 'I32', shape: [OUT / 2, zw * 2] }, data: bytes(t.qzeros) },
    { decl: { name: `${MOD}.scales`, dtype: 'F16', shape: [OUT, zw * 8] }, data: half(t.scales) },
  ], { quant_method: 'awq', bits: 4, group_size: 64, zero_point: true, version: 'gemv' });
  await assert.rejects(openDequantizedModel(bad), (e: ForgeError) => e.kind === 'format' && /qzeros' has shape \[32,4\], expected \[64,2\]/.test(e.message));
});
