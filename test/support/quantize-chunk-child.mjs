/**
 * Runs one `ggml_quantize_chunk` in a child process, for inputs on which llama.cpp may abort
 * (GGML_ASSERT kills the whole process, so the test process must not make that call itself).
 * Plain JS with only libggml-base loaded, so it starts fast (run it with GGML_NO_BACKTRACE=1, or
 * ggml attaches gdb to print a backtrace, which takes tens of seconds).
 *
 *   node test/support/quantize-chunk-child.mjs BINS_DIR TYPE_ID NROWS N_PER_ROW < rows.f32
 *
 * stdin: NROWS·N_PER_ROW little-endian floats; the imatrix is all ones. Prints `completed` and
 * exits 0 when llama.cpp returns.
 */
import { join } from 'node:path';
import koffi from 'koffi';

const [binsDir, typeId, nrows, nPerRow] = process.argv.slice(2);
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const bytes = Buffer.concat(chunks);
const src = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
const base = koffi.load(join(binsDir, 'libggml-base.so'));
const quantizeChunk = base.func('size_t ggml_quantize_chunk(int type, const float *src, _Out_ uint8_t *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)');
const rowSize = base.func('size_t ggml_row_size(int type, int64_t ne)');
base.func('void ggml_quantize_init(int type)')(Number(typeId));
const dst = new Uint8Array(Number(rowSize(Number(typeId), Number(nPerRow))) * Number(nrows));
quantizeChunk(Number(typeId), src, dst, 0, Number(nrows), Number(nPerRow), new Float32Array(Number(nPerRow)).fill(1));
process.stdout.write('completed\n');
