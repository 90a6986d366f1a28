/**
 * gguf-py's `size_label` for dense models (`model_weight_count_rounded_notation`, min 2 digits):
 * 260032 → "260K", 7_241_732_096 → "7.2B", 494_032_768 → "494M".
 */
export function sizeLabel(parameterCount: number): string {
  const n = Math.abs(parameterCount);
  const [scaled, suffix] = n > 1e12 ? [n * 1e-12, 'T'] : n > 1e9 ? [n * 1e-9, 'B'] : n > 1e6 ? [n * 1e-6, 'M'] : [n * 1e-3, 'K'];
  const digits = String(Math.round(scaled)).replace(/^0+/, '').length;
  return `${scaled.toFixed(Math.max(2 - digits, 0))}${suffix}`;
}

/** Total parameters as gguf-py counts them: the elements of every tensor written. */
export function countParameters(shapes: readonly (readonly number[])[]): number {
  return shapes.reduce((sum, s) => sum + s.reduce((p, d) => p * d, 1), 0);
}
