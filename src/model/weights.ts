/**
 * Where a model's weights come from, in GGUF conventions whatever the source: GGUF tensor names,
 * q/k rows in llama.cpp's order, `ne[0]` the row length. The forward asks for one tensor at a time,
 * so only the layer it is running needs to be in memory.
 */
import type { GgufKv } from '../../formats/gguf/value-types.ts';
import type { ModelHparams } from './hparams.ts';

/** A weight matrix as the matmul kernels take it: `rows` outputs of `cols` inputs, ggml row bytes. */
export interface WeightMatrix {
  /** ggml type id (kernels/ggml-types.ts). */
  type: number;
  rows: number;
  cols: number;
  data: Uint8Array;
}

export type ModelSourceKind = 'gguf' | 'hf' | 'awq-gptq';

export interface ModelWeights {
  path: string;
  kind: ModelSourceKind;
  /** GGUF metadata (for an HF folder: what convert would write). */
  kvs: readonly GgufKv[];
  hparams: ModelHparams;
  /** A short description of the weights' storage, for reports (`Q4_K_M`, `BF16 safetensors`, …). */
  storage: string;
  has(name: string): boolean;
  /** GGUF dims of a tensor (`ne`), or undefined when absent. */
  shape(name: string): number[] | undefined;
  /** Bytes the tensor occupies once loaded for the forward (its ggml bytes, or F32 for HF). */
  loadedBytes(name: string): number;
  matrix(name: string): Promise<WeightMatrix>;
  /** A 1-D tensor (norm weight, bias, rope_freqs) as float32. */
  vector(name: string): Promise<Float32Array>;
  /** Rows `ids` of a matrix as float32 (the embedding lookup), read row by row, never the whole table. */
  gatherRows(name: string, ids: ArrayLike<number>): Promise<Float32Array>;
  close(): Promise<void>;
}
