/**
 * Round half to even, as `torch.round` does (JS `Math.round` rounds halves up, which would move
 * codes at exact .5 ratios away from upstream's).
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
