/**
 * The output plan of an AWQ/GPTQ conversion: which source tensors are packed (the seven block
 * linears) and which are kept in fp16, the declared output tensors in order, and the shape checks
 * run before anything is written. Hard constraints (the packers cannot store the layer) fail with
 * the layer's name, or keep the layer in fp16 with `keepUnaligned`; vLLM Marlin alignment is a warning.
 */
import { UnsupportedError } from '../../../formats/errors.ts';
import type { SafetensorsTensor } from '../../../formats/safetensors/header.ts';
import type { TensorDecl } from '../../../formats/safetensors/writer.ts';
import { quantizableModule } from '../../../formats/awq-gptq/layer-names.ts';
import { groupCount } from '../../../kernels/groupwise/spec.ts';
import { streamWords } from '../../../kernels/groupwise/bitstream.ts';
import type { ResolvedOptions } from './options.ts';

export interface PackedItem {
  kind: 'packed';
  source: SafetensorsTensor;
  module: string;
  out: number;
  in: number;
  decls: TensorDecl[];
}

export interface KeptItem {
  kind: 'kept';
  source: SafetensorsTensor;
  decl: TensorDecl;
  /** Set when a quantizable linear is kept because of a shape constraint. */
  unalignedReason?: string;
}

export type PlanItem = PackedItem | KeptItem;

export interface PlanWarning { code: string; message: string; tensor?: string }

export interface ConversionPlan {
  items: PlanItem[];
  warnings: PlanWarning[];
  /** Modules kept in fp16 because of hard constraints. */
  skippedModules: string[];
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Why the packers cannot store an [out, in] linear with these options, or null. */
export function hardConstraint(o: Pick<ResolvedOptions, 'method' | 'bits' | 'groupSize'>, out: number, inF: number): string | null {
  if (o.groupSize !== -1 && inF % o.groupSize !== 0) return `in_features ${inF} is not a multiple of group size ${o.groupSize}`;
  if (o.method === 'awq') {
    if (out % 8 !== 0) return `out_features ${out} is not a multiple of 8 (AWQ packs 8 output channels per int32)`;
  } else {
    if (out % 32 !== 0) return `out_features ${out} is not a multiple of 32 (GPTQ qzeros pack out*bits/32 words)`;
    if ((inF * o.bits) % 32 !== 0) return `in_features ${inF} x ${o.bits} bits is not a multiple of 32 (GPTQ qweight packs along in)`;
  }
  return null;
}

/** vLLM Marlin alignment (reference §1.3, §2.4): the layer loads, but only on the slower kernels. */
export function marlinConcern(o: Pick<ResolvedOptions, 'method' | 'bits' | 'groupSize' | 'sym'>, out: number, inF: number): string | null {
  if (out % 64 !== 0 || inF % 128 !== 0) return `vLLM Marlin needs out_features % 64 == 0 and in_features % 128 == 0 (got ${out} x ${inF})`;
  if (o.method === 'gptq' && !((o.bits === 4 || o.bits === 8) && o.sym)) return 'vLLM gptq_marlin runs only 4- or 8-bit symmetric';
  if (![-1, 32, 64, 128].includes(o.groupSize)) return `vLLM Marlin supports group sizes -1, 32, 64, 128 (got ${o.groupSize})`;
  return null;
}

export function packedDecls(o: Pick<ResolvedOptions, 'method' | 'bits' | 'groupSize'>, module: string, out: number, inF: number): TensorDecl[] {
  const G = groupCount(o.groupSize, inF);
  if (o.method === 'awq') {
    return [
      { name: `${module}.qweight`, dtype: 'I32', shape: [inF, out / 8] },
      { name: `${module}.qzeros`, dtype: 'I32', shape: [G, out / 8] },
      { name: `${module}.scales`, dtype: 'F16', shape: [G, out] },
    ];
  }
  return [
    { name: `${module}.qweight`, dtype: 'I32', shape: [streamWords(inF, o.bits), out] },
    { name: `${module}.qzeros`, dtype: 'I32', shape: [G, streamWords(out, o.bits)] },
    { name: `${module}.scales`, dtype: 'F16', shape: [G, out] },
    { name: `${module}.g_idx`, dtype: 'I32', shape: [inF] },
  ];
}

/** `allowNothingPacked`: return a plan even when no layer fits (the TUI shows it and suggests a group size). */
export function planConversion(tensors: Iterable<SafetensorsTensor>, o: ResolvedOptions, file: string, opts: { allowNothingPacked?: boolean } = {}): ConversionPlan {
  const items: PlanItem[] = [];
  const warnings: PlanWarning[] = [];
  const skippedModules: string[] = [];
  const unaligned: string[] = [];
  const marlin = new Map<string, { first: string; count: number }>();
  for (const t of tensors) {
    const q = quantizableModule(t.name);
    if (q && t.shape.length === 2 && FLOAT_DTYPES.has(t.dtype)) {
      const [out, inF] = t.shape as [number, number];
      const why = hardConstraint(o, out, inF);
      if (why) {
        unaligned.push(`${q.module}: ${why}`);
        skippedModules.push(q.module);
        items.push({ kind: 'kept', source: t, decl: { name: t.name, dtype: 'F16', shape: t.shape }, unalignedReason: why });
        continue;
      }
      const concern = marlinConcern(o, out, inF);
      if (concern) {
        const m = marlin.get(concern) ?? { first: q.module, count: 0 };
        m.count++;
        marlin.set(concern, m);
      }
      items.push({ kind: 'packed', source: t, module: q.module, out, in: inF, decls: packedDecls(o, q.module, out, inF) });
    } else {
      const dtype = FLOAT_DTYPES.has(t.dtype) ? 'F16' : t.dtype;
      items.push({ kind: 'kept', source: t, decl: { name: t.name, dtype, shape: t.shape } });
    }
  }
  if (unaligned.length && !o.keepUnaligned) {
    throw new UnsupportedError('AWQ_GPTQ_SHAPE',
      `${unaligned.length} layer(s) cannot be packed as ${o.method} ${o.bits}-bit g${o.groupSize}:\n  ${unaligned.slice(0, 8).join('\n  ')}${unaligned.length > 8 ? `\n  … and ${unaligned.length - 8} more` : ''}\n` +
      'Choose a group size that divides in_features, or pass --keep-unaligned to keep these layers in fp16.', { file });
  }
  for (const u of unaligned) warnings.push({ code: 'KEPT_UNALIGNED', message: `${u}; kept in fp16`, tensor: u.split(':')[0] });
  // vLLM tensor parallelism splits row-parallel layers (o_proj, down_proj) along in: with an odd
  // number of groups no TP size >= 2 divides them (reference §4, e.g. 29568 / 128 = 231).
  if (o.groupSize !== -1) {
    const odd = items.find((i): i is PackedItem => i.kind === 'packed' && /(o_proj|down_proj)$/.test(i.module) && (i.in / o.groupSize) % 2 === 1);
    if (odd) warnings.push({ code: 'TP_SPLIT', message: `${odd.module}: in_features ${odd.in} / group size ${o.groupSize} = ${odd.in / o.groupSize} groups (odd), so vLLM cannot shard it for tensor-parallel size 2 or more`, tensor: odd.module });
  }
  for (const [why, m] of marlin) warnings.push({ code: 'MARLIN_ALIGNMENT', message: `${m.first}${m.count > 1 ? ` and ${m.count - 1} more layer(s)` : ''}: ${why}`, tensor: m.first });
  if (!opts.allowNothingPacked && !items.some((i) => i.kind === 'packed')) {
    throw new UnsupportedError('AWQ_GPTQ_NOTHING', `no layer can be packed as ${o.method} ${o.bits}-bit g${o.groupSize} (no block linears fit)`, { file });
  }
  return { items, warnings, skippedModules };
}
