/**
 * The target screen's list: every output type, most useful first (q4_0, q5_K_M, q8_0), then the
 * rest of the families, the float types, AWQ/GPTQ, and last, as one group, the ones we cannot write
 * yet (with the reason).
 * Sizes are estimates from bits per weight; the plan screen shows the exact dry-run total.
 */
import { FILE_TYPES, type FileType } from '../../../kernels/file-types.ts';
import { bitsPerWeight, ggmlType } from '../../../kernels/ggml-types.ts';
import { canQuantize } from '../../../kernels/quant-table.ts';
import { PLANNABLE_FILE_TYPES } from '../../policy/type-policy.ts';
import { IMATRIX_ONLY_FILE_TYPES } from '../../policy/mixture-rules.ts';

export interface TargetOption {
  name: string;
  /** Bits per weight of the type most tensors get. */
  bpw: number;
  /** Estimated output bytes for `parameters` weights (0 when unknown). */
  estimatedBytes: number;
  tradeoff: string;
  available: boolean;
  reason?: string;
}

const FIRST = ['q4_0', 'q5_K_M', 'q8_0'];
const FAMILY_ORDER = ['q4_1', 'q5_0', 'q5_1', 'q2_K', 'q2_K_S', 'q3_K_S', 'q3_K_M', 'q3_K_L', 'q4_K_S', 'q4_K_M', 'q5_K_S', 'q6_K', 'f16', 'bf16', 'f32'];

const TRADEOFF: Record<string, string> = {
  q4_0: 'small and fast everywhere; clearly lossy (legacy 4-bit)',
  q4_1: 'q4_0 plus a per-block minimum; slightly better, slightly bigger',
  q5_0: '5-bit legacy: a middle ground between q4_0 and q8_0',
  q5_1: '5-bit with minimum: a little more accurate than q5_0',
  q8_0: 'nearly lossless; about half the size of f16',
  q2_K: 'smallest K-quant; large quality loss, for very big models',
  q2_K_S: 'q2_K with fewer upgraded tensors: even smaller, even lossier',
  q3_K_S: '3-bit K-quant, small: high quality loss',
  q3_K_M: '3-bit K-quant with key tensors upgraded',
  q3_K_L: '3-bit K-quant, more tensors upgraded: best of the 3-bit',
  q4_K_S: '4-bit K-quant: better than q4_0 at similar size',
  q4_K_M: '4-bit K-quant, key tensors upgraded: the usual default',
  q5_K_S: '5-bit K-quant: low loss',
  q5_K_M: '5-bit K-quant, key tensors upgraded: low loss, good balance',
  q6_K: '6-bit K-quant: very close to f16',
  f16: 'half precision: lossless for f16 models, twice the q8_0 size',
  bf16: 'bfloat16: keeps the range of f32, exact for bf16 models',
  f32: 'full precision: the reference, largest',
  iq4_NL: '4-bit non-linear i-quant (blocks of 32): better than q4_0 at the same size',
  iq3_S: '3.4-bit i-quant on a lattice grid: better than q3_K_S at a similar size',
  iq3_M: 'iq3_S with key tensors upgraded: about q3_K_M quality, smaller',
  iq3_XS: '3.3-bit i-quant mix: needs an importance matrix',
  iq3_XXS: '3.06-bit i-quant: needs an importance matrix',
  iq2_M: '2.7-bit i-quant mix: needs an importance matrix',
  iq2_S: '2.5-bit i-quant: needs an importance matrix',
  iq2_XS: '2.3-bit i-quant: needs an importance matrix',
  iq2_XXS: '2.06-bit i-quant: needs an importance matrix',
  iq1_M: '1.75-bit i-quant: very lossy, needs an importance matrix',
  iq1_S: '1.56-bit i-quant: extremely lossy, needs an importance matrix',
  iq4_XS: '4-bit non-linear i-quant with 256-blocks: about q4_K_S quality, smaller',
};

/** int4 plus an fp16 scale and a 4-bit zero point per group of 128. */
const GROUPWISE_BPW = 4 + 16 / 128 + 4 / 128;

export const GROUPWISE_TYPES = ['awq', 'gptq'];

/** `imatrix`: the user chose an importance matrix (a file, or auto), so the types that need one are available. */
export function targetOptions(parameters = 0, opts: { groupwise?: boolean; imatrix?: boolean } = {}): TargetOption[] {
  const rank = (f: FileType) => {
    const i = [...FIRST, ...FAMILY_ORDER].indexOf(f.name);
    return i === -1 ? 1000 + f.id : i;
  };
  const rows = [...FILE_TYPES].filter((f) => f.name !== 'mxfp4_moe').sort((a, b) => rank(a) - rank(b)).map((f): TargetOption => {
    const bpw = bitsPerWeight(ggmlType(f.defaultType)!);
    const base = { name: f.name, bpw, estimatedBytes: Math.round((parameters * bpw) / 8), tradeoff: TRADEOFF[f.name] ?? '' };
    if (!PLANNABLE_FILE_TYPES.includes(f.name)) {
      return { ...base, available: false, reason: f.name.startsWith('iq') ? 'i-quants need an importance matrix and their quantizers are not built yet' : `the ${f.name} type policy is not built yet` };
    }
    // These need an importance matrix: the target screen's `i` chooses one (auto or a file).
    if (IMATRIX_ONLY_FILE_TYPES.includes(f.name) && !opts.imatrix) return { ...base, available: false, reason: `${f.name.startsWith('iq') ? 'i-quants need' : `${f.name} needs`} an importance matrix: press i for one` };
    if (!canQuantize(f.defaultType)) return { ...base, available: false, reason: `no ${ggmlType(f.defaultType)!.name} quantizer yet` };
    return { ...base, available: true };
  });
  const groupwise = (name: string, what: string): TargetOption => ({
    name, bpw: GROUPWISE_BPW, estimatedBytes: Math.round((parameters * GROUPWISE_BPW) / 8), tradeoff: what,
    ...(opts.groupwise ? { available: true } : { available: false, reason: `run \`gguf-forge convert SRC --type ${name} -o DIR\`` }),
  });
  const all = [...rows, groupwise('awq', 'AWQ int4 g128 safetensors folder for vLLM / transformers'), groupwise('gptq', 'GPTQ int4 g128 safetensors folder for vLLM / transformers')];
  // Types we cannot write yet go after all the ones we can, as one group.
  return [...all.filter((o) => o.available), ...all.filter((o) => !o.available)];
}
