/**
 * The AWQ/GPTQ plan screen's data: the source's tensors (safetensors headers only, no weights) and,
 * for a choice of options, what happens to each one: packed, kept in fp16, or blocked (a linear
 * whose shape the packer cannot store; kept in fp16 only when keep-unaligned is on). The rows come
 * from the pipeline's own planConversion, so the screen shows exactly what the run will do.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { openSafetensorsModel } from '../../../formats/safetensors/model.ts';
import { dtypeSize } from '../../../formats/safetensors/dtypes.ts';
import type { SafetensorsTensor } from '../../../formats/safetensors/header.ts';
import type { TensorDecl } from '../../../formats/safetensors/writer.ts';
import { readJsonFile } from '../../../formats/hf/read-json.ts';
import { planConversion } from '../../pipeline/awq-gptq/plan.ts';
import { resolveOptions, type AwqGptqOptions } from '../../pipeline/awq-gptq/options.ts';

export interface GroupwiseRow {
  name: string;
  /** Source shape [out, in] as stored. */
  shape: number[];
  outcome: 'packed' | 'fp16' | 'blocked';
  /** awq-int4-g128, F16, … */
  type: string;
  bytes: number;
  /** Why a quantizable linear is not packed. */
  reason?: string;
}

export interface GroupwisePlan {
  rows: GroupwiseRow[];
  packed: number;
  kept: number;
  /** Linears that cannot be packed with these options. */
  blocked: number;
  bytes: number;
  warnings: string[];
}

/** The group size (of `choices`, first wins a tie) that packs the most linears with the other options unchanged. */
export function bestGroup(tensors: SafetensorsTensor[], options: AwqGptqOptions, choices: readonly number[]): { groupSize: number; packed: number; linears: number } | null {
  let best: { groupSize: number; packed: number; linears: number } | null = null;
  for (const g of choices) {
    try {
      const p = groupwisePlan(tensors, { ...options, groupSize: g });
      if (!best || p.packed > best.packed) best = { groupSize: g, packed: p.packed, linears: p.packed + p.blocked };
    } catch { /* an invalid combination: try the next */ }
  }
  return best;
}

/** The tensors convertAwqGptq would plan (a tied lm_head duplicate dropped, as it does), or null for an hf: source. */
export async function loadGroupwiseTensors(source: string): Promise<SafetensorsTensor[] | null> {
  if (/^hf:/.test(source) || !(await stat(source).catch(() => null))?.isDirectory()) return null;
  const config = await readJsonFile(source, 'config.json');
  const model = await openSafetensorsModel(source);
  try {
    const tied = config.tie_word_embeddings === true;
    return [...model.tensors.values()].filter((t) => !(tied && t.name === 'lm_head.weight'));
  } finally {
    await model.close();
  }
}

const declBytes = (d: TensorDecl) => d.shape.reduce((a, b) => a * b, 1) * dtypeSize(d.dtype);

export function groupwisePlan(tensors: SafetensorsTensor[], options: AwqGptqOptions): GroupwisePlan {
  const o = resolveOptions(options);
  // Plan as if keep-unaligned were on, so every blocked layer is listed rather than thrown.
  const plan = planConversion(tensors, { ...o, keepUnaligned: true }, join(options.source, 'model.safetensors'), { allowNothingPacked: true });
  const rows = plan.items.map((i): GroupwiseRow => {
    if (i.kind === 'packed') return { name: i.source.name, shape: i.source.shape, outcome: 'packed', type: `${o.method}-int${o.bits}-g${o.groupSize}`, bytes: i.decls.reduce((a, d) => a + declBytes(d), 0) };
    if (i.unalignedReason) return { name: i.source.name, shape: i.source.shape, outcome: 'blocked', type: i.decl.dtype, bytes: declBytes(i.decl), reason: i.unalignedReason };
    return { name: i.source.name, shape: i.source.shape, outcome: 'fp16', type: i.decl.dtype, bytes: declBytes(i.decl) };
  });
  return {
    rows,
    packed: rows.filter((r) => r.outcome === 'packed').length,
    kept: rows.filter((r) => r.outcome === 'fp16').length,
    blocked: rows.filter((r) => r.outcome === 'blocked').length,
    bytes: rows.reduce((a, r) => a + r.bytes, 0),
    warnings: plan.warnings.filter((w) => w.code !== 'KEPT_UNALIGNED').map((w) => w.message),
  };
}
