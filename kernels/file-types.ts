/**
 * llama.cpp's file types (`enum llama_ftype`, the value of `general.file_type`), as data.
 * A file type is a *mix*: its default tensor type, refined per tensor by the type policy
 * (src/policy/). Names are the ones users type (`q5_K_M`), matched case-insensitively.
 */
import { GgmlTypeId } from './ggml-types.ts';

export interface FileType {
  /** `general.file_type` value. */
  readonly id: number;
  /** Name as users type it, e.g. `q5_K_M`. */
  readonly name: string;
  /** The `LLAMA_FTYPE_*` suffix. */
  readonly ftype: string;
  /** The tensor type most tensors get (llama-quantize's `default_type`). */
  readonly defaultType: number;
  /** Other names accepted on the command line (`q5_K` means `q5_K_M`, as in llama-quantize). */
  readonly aliases?: readonly string[];
}

const T = GgmlTypeId;
const ft = (id: number, name: string, defaultType: number, aliases?: string[]): FileType =>
  Object.freeze({ id, name, ftype: `MOSTLY_${name.toUpperCase()}`, defaultType, ...(aliases ? { aliases: Object.freeze(aliases) } : {}) });

export const FILE_TYPES: readonly FileType[] = Object.freeze([
  Object.freeze({ id: 0, name: 'f32', ftype: 'ALL_F32', defaultType: T.F32 }),
  ft(1, 'f16', T.F16),
  ft(2, 'q4_0', T.Q4_0),
  ft(3, 'q4_1', T.Q4_1),
  ft(7, 'q8_0', T.Q8_0),
  ft(8, 'q5_0', T.Q5_0),
  ft(9, 'q5_1', T.Q5_1),
  ft(10, 'q2_K', T.Q2_K),
  ft(11, 'q3_K_S', T.Q3_K),
  ft(12, 'q3_K_M', T.Q3_K, ['q3_K']),
  ft(13, 'q3_K_L', T.Q3_K),
  ft(14, 'q4_K_S', T.Q4_K),
  ft(15, 'q4_K_M', T.Q4_K, ['q4_K']),
  ft(16, 'q5_K_S', T.Q5_K),
  ft(17, 'q5_K_M', T.Q5_K, ['q5_K']),
  ft(18, 'q6_K', T.Q6_K),
  ft(19, 'iq2_XXS', T.IQ2_XXS),
  ft(20, 'iq2_XS', T.IQ2_XS),
  ft(21, 'q2_K_S', T.Q2_K),
  ft(22, 'iq3_XS', T.IQ3_S),
  ft(23, 'iq3_XXS', T.IQ3_XXS),
  ft(24, 'iq1_S', T.IQ1_S),
  ft(25, 'iq4_NL', T.IQ4_NL),
  ft(26, 'iq3_S', T.IQ3_S),
  ft(27, 'iq3_M', T.IQ3_S),
  ft(28, 'iq2_S', T.IQ2_XS),
  ft(29, 'iq2_M', T.IQ2_S),
  ft(30, 'iq4_XS', T.IQ4_XS),
  ft(31, 'iq1_M', T.IQ1_M),
  ft(32, 'bf16', T.BF16),
  ft(36, 'tq1_0', T.TQ1_0),
  ft(37, 'tq2_0', T.TQ2_0),
  ft(38, 'mxfp4_moe', T.MXFP4),
]);

const byId = new Map(FILE_TYPES.map((f) => [f.id, f]));
const byName = new Map<string, FileType>();
for (const f of FILE_TYPES) for (const n of [f.name, ...(f.aliases ?? [])]) byName.set(n.toLowerCase(), f);

export function fileType(id: number): FileType | undefined {
  return byId.get(id);
}

/** Looks a file type up by the name a user typed: `q5_K_M`, `Q5_K_M`, `q5_k_m` and `q5_K` all work. */
export function fileTypeByName(name: string): FileType | undefined {
  return byName.get(name.toLowerCase());
}
