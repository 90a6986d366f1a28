/**
 * The few model facts llama-quantize's type policy depends on (reference doc §7.3 "Model facts").
 */
export interface ModelFacts {
  /** `general.architecture`, e.g. `llama`. */
  arch: string;
  /** `{arch}.block_count`. */
  nLayer: number;
  /** `{arch}.attention.head_count` of layer 0. */
  nHead: number;
  /** `{arch}.attention.head_count_kv` of layer 0 (equals nHead when the key is absent). */
  nHeadKv: number;
  /** `{arch}.expert_count`, 0 when absent. */
  nExpert: number;
}

/** `hparams.n_gqa()`: heads per KV head, 0 when there are no KV heads. */
export function nGqa(f: ModelFacts): number {
  return f.nHeadKv === 0 ? 0 : Math.trunc(f.nHead / f.nHeadKv);
}

/** llama.cpp's `LLM_TYPE_70B`, the one size class the policy checks (src/models/llama.cpp). */
export function is70B(f: ModelFacts): boolean {
  return f.arch === 'llama' && f.nLayer === 80 && f.nHead !== f.nHeadKv;
}

/** `use_more_bits(i, n)`: the first and last eighth of the layers, and every third in between. */
export function useMoreBits(i: number, n: number): boolean {
  const n8 = Math.trunc(n / 8);
  return i < n8 || i >= Math.trunc((7 * n) / 8) || (i - n8) % 3 === 2;
}

/**
 * Reads the facts from GGUF metadata through a key lookup, as llama.cpp's hparams loader does:
 * head counts may be per-layer arrays (layer 0 is used), head_count_kv defaults to head_count.
 */
export function modelFactsFromMetadata(get: (key: string) => unknown): ModelFacts {
  const arch = String(get('general.architecture') ?? '');
  const num = (key: string): number | undefined => {
    const v = get(`${arch}.${key}`);
    const first = Array.isArray(v) || ArrayBuffer.isView(v) ? (v as ArrayLike<number | bigint>)[0] : v;
    return first === undefined || first === null ? undefined : Number(first);
  };
  const nHead = num('attention.head_count') ?? 0;
  return {
    arch,
    nLayer: num('block_count') ?? 0,
    nHead,
    nHeadKv: num('attention.head_count_kv') ?? nHead,
    nExpert: num('expert_count') ?? 0,
  };
}
