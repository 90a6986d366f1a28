/**
 * GGUF header parsing with a real-size vocabulary (152k tokens, like Qwen2): our validating
 * reader against llama.cpp's `gguf_init_from_file` (no_alloc, header only) and
 * @huggingface/gguf, same file, same run. Best of a few repetitions after a warm-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { GgufWriter } from '../../formats/gguf/writer.ts';
import { readGguf } from '../../formats/gguf/reader.ts';
import { GgufValueType as V, arr, str, u32 } from '../../formats/gguf/value-types.ts';
import { GgmlTypeId as T } from '../../kernels/ggml-types.ts';
import { loadLlamaCpp, llamaCppUnavailable } from '../support/llama-cpp.ts';

const N_TOKENS = 151936;
const N_TENSORS = 340;
const REPS = 3;

async function best(fn: () => unknown): Promise<number> {
  await fn();
  let ms = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

async function writeFixture(path: string): Promise<void> {
  const w = await GgufWriter.open(path);
  w.addKv('general.architecture', str('qwen2'));
  w.addKv('qwen2.block_count', u32(24));
  w.addKv('tokenizer.ggml.tokens', arr(V.STRING, Array.from({ length: N_TOKENS }, (_, i) => `Ġtoken_${i.toString(36)}`)));
  w.addKv('tokenizer.ggml.token_type', arr(V.INT32, new Int32Array(N_TOKENS).fill(1)));
  w.addKv('tokenizer.ggml.merges', arr(V.STRING, Array.from({ length: N_TOKENS }, (_, i) => `Ġa${i % 977} b${i}`)));
  for (let i = 0; i < N_TENSORS; i++) w.addTensor(`blk.${i}.ffn_up.weight`, [32], T.F32);
  await w.writeHeader();
  for (let i = 0; i < N_TENSORS; i++) await w.writeTensorData(`blk.${i}.ffn_up.weight`, new Uint8Array(128));
  await w.finish();
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-bench-gguf-'));
  const path = join(dir, 'header.gguf');
  try {
    const writeMs = await best(() => writeFixture(path));
    const oursMs = await best(() => readGguf(path));
    const hfMs = await best(() => gguf(path, { allowLocalFile: true }));
    console.log(`header with ${N_TOKENS} tokens, ${N_TOKENS} merges, ${N_TENSORS} tensors`);
    console.log(`  write (ours)                 ${writeMs.toFixed(1)} ms`);
    console.log(`  read  (ours, validating)     ${oursMs.toFixed(1)} ms`);
    console.log(`  read  (@huggingface/gguf)    ${hfMs.toFixed(1)} ms   ours/hf = ${(oursMs / hfMs).toFixed(2)}`);
    if (llamaCppUnavailable) {
      console.log(`  llama.cpp: skipped (${llamaCppUnavailable})`);
      return;
    }
    const { binsDir } = await loadLlamaCpp();
    const koffi = (await import('koffi')).default;
    const base = koffi.load(join(binsDir, 'libggml-base.so'));
    koffi.struct('gguf_init_params_bench', { no_alloc: 'bool', ctx: 'void *' });
    const init = base.func('void *gguf_init_from_file(const char *fname, gguf_init_params_bench params)');
    const free = base.func('void gguf_free(void *ctx)');
    const llamaMs = await best(() => {
      const g = init(path, { no_alloc: true, ctx: null });
      if (!g) throw new Error('llama.cpp rejected the fixture');
      free(g);
    });
    console.log(`  read  (llama.cpp gguf.cpp)   ${llamaMs.toFixed(1)} ms   ours/llama.cpp = ${(oursMs / llamaMs).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
