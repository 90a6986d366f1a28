/**
 * Which tensors AWQ/GPTQ quantize and what they are called (reference §4): the seven linears of
 * every decoder block of Llama/Qwen2/Mistral-style models. Each `<module>.weight` becomes
 * `<module>.qweight`, `.qzeros`, `.scales` (+ `.g_idx` for GPTQ); everything else (embeddings,
 * norms, biases, lm_head) keeps its name.
 */
export const BLOCK_LINEARS = [
  'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj',
  'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj',
] as const;

const LINEAR_WEIGHT = /^model\.layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.weight$/;

/** The module name (`model.layers.3.mlp.up_proj`) if `weightName` is one of the seven block linears. */
export function quantizableModule(weightName: string): { module: string; layer: number; linear: string } | null {
  const m = LINEAR_WEIGHT.exec(weightName);
  return m ? { module: weightName.slice(0, -'.weight'.length), layer: Number(m[1]), linear: m[2]! } : null;
}

/** Modules of a checkpoint that carry a packed `qweight`, in tensor order. */
export function packedModules(tensorNames: Iterable<string>): string[] {
  const out: string[] = [];
  for (const n of tensorNames) if (n.endsWith('.qweight')) out.push(n.slice(0, -'.qweight'.length));
  return out;
}
