/**
 * Child process for tests that need to see llama.cpp abort: runs one
 * `ggml_quantize_chunk(type, src, dst, 0, nrows, nPerRow, imatrix)` on raw f32 files and prints
 * "survived" if it returns. A GGML_ASSERT kills this process (SIGABRT), not the test runner.
 *   node --import tsx test/support/ggml-quantize-child.ts TYPE N_PER_ROW SRC.f32 [IMATRIX.f32]
 */
import { readFileSync } from 'node:fs';
import { loadLlamaCpp } from './llama-cpp.ts';

const [type, nPerRow, srcFile, imatrixFile] = process.argv.slice(2);
const f32 = (file: string) => { const b = readFileSync(file); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const src = f32(srcFile!);
const ll = await loadLlamaCpp();
ll.quantizeChunk(Number(type), src, src.length / Number(nPerRow), Number(nPerRow), imatrixFile ? f32(imatrixFile) : undefined);
process.stdout.write('survived\n');
