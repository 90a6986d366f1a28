// The llama.cpp side of the whole-process benchmarks: a plain node process (no TypeScript
// loader) that loads libllama with koffi and calls llama_model_quantize once, as a user of
// llama.cpp's library from node would. Same struct layout as test/support/llama-cpp.ts.
//   node test/bench/llama-quantize.mjs IN.gguf OUT.gguf FTYPE_ID THREADS
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi from 'koffi';

const [input, output, ftype, threads] = process.argv.slice(2);
const binsDir = join(dirname(createRequire(import.meta.url).resolve('@node-llama-cpp/linux-x64')), '..', 'bins', 'linux-x64');
const files = readdirSync(binsDir);
const pick = (re) => join(binsDir, files.find((n) => re.test(n)));
const ggml = koffi.load(pick(/^libggml\.v.*\.so$/));
const llama = koffi.load(pick(/^libllama\.v.*\.so$/));
ggml.func('void ggml_backend_load_all_from_path(const char *dir)')(binsDir);
llama.func('void llama_backend_init(void)')();
const Params = koffi.struct('llama_model_quantize_params', {
  nthread: 'int32_t', ftype: 'int', output_tensor_type: 'int', token_embedding_type: 'int',
  allow_requantize: 'bool', quantize_output_tensor: 'bool', only_copy: 'bool', pure: 'bool', keep_split: 'bool', dry_run: 'bool',
  imatrix: 'void *', kv_overrides: 'void *', tt_overrides: 'void *', prune_layers: 'void *', max_buf_size: 'size_t',
});
const defaults = llama.func('llama_model_quantize_params llama_model_quantize_default_params(void)');
const quantize = llama.func('uint32_t llama_model_quantize(const char *inp, const char *out, const llama_model_quantize_params *params)');
const params = { ...defaults(), ftype: Number(ftype), nthread: Number(threads) };
// llama.cpp logs every tensor on stderr; the benchmark discards it.
process.exitCode = quantize(input, output, params) === 0 ? 0 : 1;
