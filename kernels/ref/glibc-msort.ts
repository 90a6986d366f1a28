/**
 * The order glibc's `qsort` gives `(float value, int index)` pairs under `iq1_sort_helper`
 * (ggml-quants.c), which compares the values only. glibc (2.x up to at least 2.36, and again from
 * 2.39 on) sorts small arrays with `msort_with_tmp`: a top-down merge sort, n1 = n/2 on the left,
 * taking the left element whenever cmp(left, right) <= 0. That makes it stable, and it fixes the
 * order even where the comparator is not a total order (NaN compares "equal" to everything), so we
 * reproduce the exact merge rather than use Array.prototype.sort.
 *
 * Sorts perm[0..n) (indexes into `vals`) in place; `tmp` is scratch of at least n entries.
 */
export function msortByValue(vals: Float64Array, perm: Int32Array, n: number, tmp: Int32Array): void {
  sortRange(vals, perm, 0, n, tmp);
}

function sortRange(vals: Float64Array, perm: Int32Array, b: number, n: number, tmp: Int32Array): void {
  if (n <= 1) return;
  let n1 = n >> 1, n2 = n - n1;
  let b1 = b, b2 = b + n1;
  sortRange(vals, perm, b1, n1, tmp);
  sortRange(vals, perm, b2, n2, tmp);
  let t = 0;
  while (n1 > 0 && n2 > 0) {
    // iq1_sort_helper: l < r ? -1 : l > r ? 1 : 0, so cmp <= 0 exactly when !(l > r).
    if (!(vals[perm[b1]!]! > vals[perm[b2]!]!)) { tmp[t++] = perm[b1++]!; n1--; }
    else { tmp[t++] = perm[b2++]!; n2--; }
  }
  while (n1 > 0) { tmp[t++] = perm[b1++]!; n1--; }
  // The unmerged tail of the right half is already in place.
  for (let i = 0; i < t; i++) perm[b + i] = tmp[i]!;
}
