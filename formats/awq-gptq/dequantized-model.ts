/**
 * An AWQ/GPTQ checkpoint seen as a plain Hugging Face model: every packed module becomes its
 * `<module>.weight` `[out, in]` of dequantized float32 rows, every other tensor (embeddings, norms,
 * biases, lm_head) is widened from its stored dtype. The GGUF convert pipeline reads it like any
 * HF folder. Memory stays bounded: one packed layer is unpacked at a time and cached while its
 * rows are read.
 */
import { toFloat32 } from '../safetensors/dtypes.ts';
import { openQuantizedCheckpoint, type QuantizedCheckpoint } from './checkpoint.ts';
import type { QuantizedFolderConfig } from './config.ts';
import type { QuantizedMatrix } from '../../kernels/groupwise/spec.ts';
import { dequantizeRows } from '../../kernels/groupwise/dequantize.ts';

export interface DequantizedTensorInfo {
  /** HF name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  shape: number[];
  /** `awq-int4-g128`, `gptq-int3-g-1`, … or the stored dtype of an unquantized tensor. */
  sourceType: string;
  quantized: boolean;
}

export interface DequantizedModel {
  dir: string;
  config: QuantizedFolderConfig;
  hfConfig: Record<string, unknown>;
  /** In the checkpoint's tensor order, packed parts folded into one `.weight`. */
  tensors: DequantizedTensorInfo[];
  readRows(name: string, rowStart: number, rowCount: number): Promise<Float32Array>;
  close(): Promise<void>;
}

const LAYER_CACHE = 2;
const PACKED_PART = /\.(qweight|qzeros|scales|g_idx)$/;

export function quantizedTypeName(c: Pick<QuantizedFolderConfig, 'method' | 'bits' | 'groupSize'>): string {
  return `${c.method}-int${c.bits}-g${c.groupSize}`;
}

export async function openDequantizedModel(dir: string): Promise<DequantizedModel> {
  const ckpt = await openQuantizedCheckpoint(dir);
  const packed = new Map(ckpt.layers.map((l) => [l.module, l]));
  const tensors: DequantizedTensorInfo[] = [];
  for (const t of ckpt.model.tensors.values()) {
    const part = PACKED_PART.exec(t.name);
    const module = part ? t.name.slice(0, -part[0].length) : null;
    if (module && packed.has(module)) {
      if (part![1] !== 'qweight') continue;
      const l = packed.get(module)!;
      tensors.push({ name: `${module}.weight`, shape: [l.outFeatures, l.inFeatures], sourceType: quantizedTypeName(ckpt.config), quantized: true });
    } else {
      tensors.push({ name: t.name, shape: t.shape, sourceType: t.dtype, quantized: false });
    }
  }
  return new Dequantized(ckpt, tensors);
}

class Dequantized implements DequantizedModel {
  /** The most recently unpacked layers (two, so a reader alternating between a pair does not thrash). */
  private cached: { module: string; m: QuantizedMatrix }[] = [];
  private readonly byName: Map<string, DequantizedTensorInfo>;
  readonly dir: string;
  readonly config: QuantizedFolderConfig;
  readonly hfConfig: Record<string, unknown>;
  constructor(private readonly ckpt: QuantizedCheckpoint, readonly tensors: DequantizedTensorInfo[]) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
    this.dir = ckpt.dir;
    this.config = ckpt.config;
    this.hfConfig = ckpt.hfConfig;
  }

  async readRows(name: string, rowStart: number, rowCount: number): Promise<Float32Array> {
    const info = this.byName.get(name);
    if (!info) throw new RangeError(`${this.dir}: no tensor '${name}'`);
    if (!info.quantized) {
      const t = this.ckpt.model.tensors.get(name)!;
      return toFloat32(t.dtype, await this.ckpt.model.readRows(name, rowStart, rowCount));
    }
    const module = name.slice(0, -'.weight'.length);
    let hit = this.cached.find((c) => c.module === module);
    if (!hit) {
      hit = { module, m: await this.ckpt.readLayer(module) };
      this.cached = [hit, ...this.cached].slice(0, LAYER_CACHE);
    }
    return dequantizeRows(hit.m, rowStart, rowCount);
  }

  close(): Promise<void> {
    this.cached = [];
    return this.ckpt.close();
  }
}

/** Every tensor of `dir` as dequantized float32 row chunks, in order. */
export async function* dequantizedWeights(dir: string, rowsPerChunk = 256): AsyncGenerator<{ name: string; shape: number[]; rowStart: number; rowCount: number; data: Float32Array }> {
  const model = await openDequantizedModel(dir);
  try {
    for (const t of model.tensors) {
      const rows = t.shape.length === 0 ? 1 : t.shape[0]!;
      for (let r = 0; r < rows; r += rowsPerChunk) {
        const n = Math.min(rowsPerChunk, rows - r);
        yield { name: t.name, shape: t.shape, rowStart: r, rowCount: n, data: await model.readRows(t.name, r, n) };
      }
    }
  } finally {
    await model.close();
  }
}
