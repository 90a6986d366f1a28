/**
 * A GPTQ checkpoint as a `convert` source: the GGUF convert pipeline reads our dequantized rows,
 * so the f32 GGUF holds exactly the dequantized weights (v: unpermuted, bytes equal) and the fp16
 * layers kept by --keep-unaligned widened exactly.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runAwqGptqConvert } from './support/run-job.ts';
import { convertModel } from '../src/pipeline/convert.ts';
import { readGguf, readTensorBytes } from '../formats/gguf/reader.ts';
import { openFileSource } from '../formats/io/byte-source.ts';
import { openDequantizedModel } from '../formats/awq-gptq/dequantized-model.ts';
import { runJob } from './support/run-job.ts';
import { tempDir } from './groupwise-fixtures.ts';

const tmp = tempDir('gptq-gguf');
after(tmp.cleanup);

test('stories260K -> GPTQ 8-bit -> GGUF f32 holds the dequantized weights', async () => {
  const gptq = join(tmp.dir, 'gptq');
  await runAwqGptqConvert({ source: join(import.meta.dirname, '..', 'samples', 'stories260K'), output: gptq, method: 'gptq', bits: 8, groupSize: -1, keepUnaligned: true });
  const out = join(tmp.dir, 'from-gptq.gguf');
  const { events } = await runJob(convertModel({ source: gptq, output: out, fileType: 'f32' }));
  assert.ok(events.some((e) => e.type === 'warning' && e.code === 'DEQUANTIZED_SOURCE'));
  const file = await readGguf(out);
  const src = await openFileSource(out);
  const deq = await openDequantizedModel(gptq);
  try {
    const f32 = async (name: string) => { const b = await readTensorBytes(src, file, file.tensors.find((t) => t.name === name)!); return new Float32Array(b.slice().buffer); };
    for (const [gguf, hf, rows] of [['blk.0.attn_v.weight', 'model.layers.0.self_attn.v_proj.weight', 32], ['blk.3.ffn_down.weight', 'model.layers.3.mlp.down_proj.weight', 64], ['blk.4.ffn_up.weight', 'model.layers.4.mlp.up_proj.weight', 172]] as const) {
      assert.deepEqual(await f32(gguf), await deq.readRows(hf, 0, rows), gguf);
    }
  } finally {
    await deq.close(); await src.close();
  }
});
