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

/**
 * gguf-py's `size_label(*get_total_parameter_count())` over the tensors written (GGUF names and ne):
 * a model with `_exps.` tensors is labelled "{experts}x{shared + one expert's parameters}"
 * (Mixtral 8x7B), any other by its total.
 */
export function sizeLabelOfTensors(tensors: readonly { name: string; ne: readonly number[] }[]): string {
  let total = 0, shared = 0, expert = 0, expertSum = 0, nExpertTensors = 0;
  for (const t of tensors) {
    const size = t.ne.reduce((p, d) => p * d, 1);
    total += size;
    // GGUF ne is reversed: the PyTorch shape[-3] (experts) of a weight is ne[2], of a bias ne[1].
    if (t.name.includes('_exps.') && t.ne.length >= 3) {
      const count = t.name.includes('.bias') ? t.ne[1]! : t.ne[2]!;
      expert += Math.floor(size / count);
      expertSum += count;
      nExpertTensors++;
    } else shared += size;
  }
  if (nExpertTensors === 0) return sizeLabel(total);
  return `${Math.floor(expertSum / nExpertTensors)}x${sizeLabel(shared + expert)}`;
}
