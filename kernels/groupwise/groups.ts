/**
 * Which input columns form each group: `g_idx`. Without act-order it is `k // group_size`; with
 * act-order (GPTQ `desc_act`, static_groups=false) group j holds the columns at positions
 * j*gs .. (j+1)*gs-1 of `perm = argsort(importance, descending)`, so
 * `g_idx = (arange(in) // gs)[invperm]` (AutoGPTQ `GPTQ.fasterquant`). Per-channel: all zero
 * (upstream treats desc_act with group_size -1 as off).
 */
import { groupCount } from './spec.ts';

export function trivialGroupIndex(cols: number, groupSize: number): Int32Array {
  const g = new Int32Array(cols);
  if (groupSize !== -1) for (let k = 0; k < cols; k++) g[k] = Math.floor(k / groupSize);
  return g;
}

/** Descending stable argsort (ties keep column order, so the result is deterministic). */
export function descendingOrder(importance: ArrayLike<number>): Int32Array {
  const idx = Array.from({ length: importance.length }, (_, i) => i);
  idx.sort((a, b) => (importance[b] - importance[a]) || (a - b));
  return Int32Array.from(idx);
}

export function actOrderGroupIndex(perm: Int32Array, groupSize: number): Int32Array {
  const g = new Int32Array(perm.length);
  if (groupSize === -1) return g;
  for (let p = 0; p < perm.length; p++) g[perm[p]] = Math.floor(p / groupSize);
  return g;
}

/** Columns of each group, in ascending column order: `members[g]`. */
export function groupMembers(gIdx: Int32Array, groupSize: number): Int32Array[] {
  const G = groupCount(groupSize, gIdx.length);
  const counts = new Int32Array(G);
  for (let k = 0; k < gIdx.length; k++) {
    const g = gIdx[k];
    if (g < 0 || g >= G) throw new RangeError(`g_idx[${k}] = ${g} is outside 0..${G - 1}`);
    counts[g]++;
  }
  const members = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(G);
  for (let k = 0; k < gIdx.length; k++) members[gIdx[k]][fill[gIdx[k]]++] = k;
  return members;
}

/** Column importance for act-order when no calibration is available: the column's Σw² (a proxy for diag(H)). */
export function weightColumnEnergy(weight: Float32Array, rows: number, cols: number): Float32Array {
  const e = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let k = 0; k < cols; k++) e[k] += weight[o + k] * weight[o + k];
  }
  return Float32Array.from(e);
}

/**
 * Every input column's group for a solver: act-order (columns ranked by calibration importance,
 * or by weight energy without calibration) when `descAct` asks for it, else contiguous groups.
 * `desc_act` with per-channel groups is plain order, as upstream treats it.
 */
export function solverGroupIndex(weight: Float32Array, rows: number, cols: number, spec: { descAct?: boolean; groupSize: number }, importance?: Float32Array | Float64Array): Int32Array {
  return spec.descAct && spec.groupSize !== -1
    ? actOrderGroupIndex(descendingOrder(importance ?? weightColumnEnergy(weight, rows, cols)), spec.groupSize)
    : trivialGroupIndex(cols, spec.groupSize);
}
