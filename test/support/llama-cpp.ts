/**
 * llama.cpp's own C code, from the pinned npm package @node-llama-cpp/linux-x64, called through
 * koffi. This is the oracle the tests and benchmarks compare our bytes against.
 *
 * On a machine where the package cannot load (not linux-x64/glibc), `llamaCppUnavailable` says
 * why and the tests that need it skip with that reason. On linux-x64 a load failure is an error,
 * never a skip: CI here must run these tests.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';

const require = createRequire(import.meta.url);

export interface LlamaQuantizeOptions {
  nthread?: number;
  allowRequantize?: boolean;
  pure?: boolean;
  onlyCopy?: boolean;
  outputTensorType?: number;
  tokenEmbeddingType?: number;
  /** `params.imatrix`: per tensor name, the weights llama-quantize's load_imatrix hands over (ne0 · nExperts values). */
  imatrix?: Map<string, Float32Array>;
  /** `params.kv_overrides`, as llama-quantize passes the `quantize.imatrix.*` keys. */
  kvOverrides?: ({ key: string; int: number } | { key: string; str: string })[];
  dryRun?: boolean;
}

export interface LlamaCpp {
  binsDir: string;
  /** `ggml_quantize_chunk(type, src, dst, 0, nrows, nPerRow, imatrix ?? NULL)`: whole rows. */
  quantizeChunk(type: number, src: Float32Array, nrows: number, nPerRow: number, imatrix?: Float32Array): Uint8Array;
  /** `ggml_quantize_init(type)`: the grids and neighbour tables the IQ1/IQ2/IQ3 quantizers need. */
  quantizeInit(type: number): void;
  /** `type_traits[type].to_float` over `n` elements. */
  dequantize(type: number, src: Uint8Array, n: number): Float32Array;
  typeTraits(type: number): { name: string; blockSize: number; typeSize: number; quantized: boolean };
  fp32ToFp16(x: number): number;
  validateRowData(type: number, data: Uint8Array): boolean;
  /** `llama_model_quantize(inp, out, params)`; returns 0 on success. */
  modelQuantize(inp: string, out: string, ftype: number, opts?: LlamaQuantizeOptions): number;
}

function platformReason(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `llama.cpp reference needs linux-x64 (this is ${process.platform}-${process.arch})`;
  const report = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined);
  if (!report?.header?.glibcVersionRuntime) return 'llama.cpp reference needs glibc (this libc is not glibc)';
  return null;
}

export const llamaCppUnavailable: string | null = platformReason();

let cached: LlamaCpp | undefined;

/** Loads the reference libraries once. Throws on linux-x64 if they cannot load. */
export async function loadLlamaCpp(): Promise<LlamaCpp> {
  if (cached) return cached;
  if (llamaCppUnavailable) throw new Error(llamaCppUnavailable);
  const koffi = (await import('koffi')).default;
  const entry = require.resolve('@node-llama-cpp/linux-x64');
  const binsDir = join(dirname(entry), '..', 'bins', 'linux-x64');
  const files = readdirSync(binsDir);
  const pick = (re: RegExp) => {
    const f = files.find((n) => re.test(n));
    if (!f) throw new Error(`no ${re} in ${binsDir}`);
    return join(binsDir, f);
  };
  const base = koffi.load(join(binsDir, 'libggml-base.so'));
  const quantizeChunk = base.func('size_t ggml_quantize_chunk(int type, const float *src, _Out_ uint8_t *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)');
  const rowSizeFn = base.func('size_t ggml_row_size(int type, int64_t ne)');
  const quantizeInit = base.func('void ggml_quantize_init(int type)');
  const fp16 = base.func('uint16_t ggml_fp32_to_fp16(float x)');
  const validate = base.func('bool ggml_validate_row_data(int type, const uint8_t *data, size_t nbytes)');
  const getTraits = base.func('void *ggml_get_type_traits(int type)');
  const Traits = koffi.struct('ggml_type_traits_head', {
    type_name: 'const char *',
    blck_size: 'int64_t',
    blck_size_interleave: 'int64_t',
    type_size: 'size_t',
    is_quantized: 'bool',
    to_float: 'void *',
    from_float_ref: 'void *',
  });
  const ToFloat = koffi.proto('void ggml_to_float_t(const uint8_t *x, _Out_ float *y, int64_t k)');

  // Whole-file quantization lives in libllama; it needs the CPU backends registered first.
  const ggml = koffi.load(pick(/^libggml\.v.*\.so$/));
  const llama = koffi.load(pick(/^libllama\.v.*\.so$/));
  ggml.func('void ggml_backend_load_all_from_path(const char *dir)')(binsDir);
  llama.func('void llama_backend_init(void)')();
  // Field order and sizes must match the pinned version's include/llama.h (64 bytes in 3.22.1).
  const Params = koffi.struct('llama_model_quantize_params', {
    nthread: 'int32_t',
    ftype: 'int',
    output_tensor_type: 'int',
    token_embedding_type: 'int',
    allow_requantize: 'bool',
    quantize_output_tensor: 'bool',
    only_copy: 'bool',
    pure: 'bool',
    keep_split: 'bool',
    dry_run: 'bool',
    imatrix: 'void *',
    kv_overrides: 'void *',
    tt_overrides: 'void *',
    prune_layers: 'void *',
    max_buf_size: 'size_t',
  });
  if (koffi.sizeof(Params) !== 64) throw new Error(`llama_model_quantize_params is ${koffi.sizeof(Params)} bytes, expected 64`);
  const defaults = llama.func('llama_model_quantize_params llama_model_quantize_default_params(void)');
  const modelQuantize = llama.func('uint32_t llama_model_quantize(const char *inp, const char *out, const llama_model_quantize_params *params)');

  const traitsOf = (type: number) => koffi.decode(getTraits(type), Traits) as {
    type_name: string; blck_size: number | bigint; type_size: number | bigint; is_quantized: boolean; to_float: unknown;
  };

  cached = {
    binsDir,
    quantizeInit(type) {
      quantizeInit(type);
    },
    quantizeChunk(type, src, nrows, nPerRow, imatrix) {
      const t = traitsOf(type);
      if (nPerRow % Number(t.blck_size) !== 0) throw new RangeError(`n_per_row ${nPerRow} not a multiple of ${t.blck_size}`);
      if (src.length < nrows * nPerRow) throw new RangeError('src too short');
      const bytes = Number(rowSizeFn(type, nPerRow)) * nrows;
      const dst = new Uint8Array(bytes);
      if (imatrix && imatrix.length < nPerRow) throw new RangeError('imatrix shorter than a row');
      const n = Number(quantizeChunk(type, src, dst, 0, nrows, nPerRow, imatrix ?? null));
      if (n !== bytes) throw new Error(`ggml_quantize_chunk wrote ${n} bytes, expected ${bytes}`);
      return dst;
    },
    dequantize(type, src, n) {
      const t = traitsOf(type);
      if (!t.to_float) throw new Error(`no to_float for type ${type}`);
      if (n % Number(t.blck_size) !== 0) throw new RangeError(`k ${n} not a multiple of ${t.blck_size}`);
      const y = new Float32Array(n);
      koffi.call(t.to_float, ToFloat, src, y, n);
      return y;
    },
    typeTraits(type) {
      const t = traitsOf(type);
      return { name: t.type_name, blockSize: Number(t.blck_size), typeSize: Number(t.type_size), quantized: t.is_quantized };
    },
    fp32ToFp16: (x) => fp16(x) as number,
    validateRowData: (type, data) => validate(type, data, data.length) as boolean,
    modelQuantize(inp, out, ftype, opts = {}) {
      const p = { ...(defaults() as Record<string, unknown>) };
      p.ftype = ftype;
      p.nthread = opts.nthread ?? 0;
      if (opts.allowRequantize !== undefined) p.allow_requantize = opts.allowRequantize;
      if (opts.pure !== undefined) p.pure = opts.pure;
      if (opts.onlyCopy !== undefined) p.only_copy = opts.onlyCopy;
      if (opts.outputTensorType !== undefined) p.output_tensor_type = opts.outputTensorType;
      if (opts.tokenEmbeddingType !== undefined) p.token_embedding_type = opts.tokenEmbeddingType;
      if (opts.dryRun !== undefined) p.dry_run = opts.dryRun;
      // Native arrays for the two pointer fields, freed after the call.
      const held: unknown[] = [];
      const native = (bytes: Uint8Array): unknown => {
        const ptr = koffi.alloc('uint8_t', Math.max(1, bytes.length));
        if (bytes.length) koffi.encode(ptr, koffi.array('uint8_t', bytes.length), Array.from(bytes));
        held.push(ptr);
        return ptr;
      };
      const addr = (ptr: unknown) => BigInt(koffi.address(ptr) as number | bigint);
      try {
        if (opts.imatrix) {
          // struct llama_model_imatrix_data { const char * name; const float * data; size_t size; }, NULL-name terminated.
          const table = Buffer.alloc((opts.imatrix.size + 1) * 24);
          let i = 0;
          for (const [name, w] of opts.imatrix) {
            table.writeBigUInt64LE(addr(native(Buffer.from(name + '\0', 'utf8'))), i * 24);
            table.writeBigUInt64LE(addr(native(new Uint8Array(w.buffer, w.byteOffset, w.byteLength))), i * 24 + 8);
            table.writeBigUInt64LE(BigInt(w.length), i * 24 + 16);
            i++;
          }
          p.imatrix = native(table);
        }
        if (opts.kvOverrides) {
          // struct llama_model_kv_override { int tag; char key[128]; union { int64 i; double f; bool b; char s[128]; } } (264 bytes), empty-key terminated.
          const table = Buffer.alloc((opts.kvOverrides.length + 1) * 264);
          opts.kvOverrides.forEach((o, i) => {
            const at = i * 264;
            table.writeInt32LE('int' in o ? 0 : 3, at);
            table.write(o.key, at + 4, 127, 'utf8');
            if ('int' in o) table.writeBigInt64LE(BigInt(o.int), at + 136);
            else table.write(o.str, at + 136, 127, 'utf8');
          });
          p.kv_overrides = native(table);
        }
        return modelQuantize(inp, out, p) as number;
      } finally {
        for (const ptr of held) koffi.free(ptr);
      }
    },
  };
  return cached;
}
