/** Shared fixtures of the groupwise/AWQ/GPTQ tests (not a test file itself). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensorsModel } from '../formats/safetensors/model.ts';
import { toFloat32 } from '../formats/safetensors/dtypes.ts';

/** Deterministic pseudo-random weights, roughly bell-shaped in [-3*scale, 3*scale] (xorshift32). */
export function randomWeights(n: number, seed: number, scale = 0.05): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() - 1.5) * 2 * scale;
  return out;
}


/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `gguf-forge-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LoadedTensor { shape: number[]; dtype: string; data: Float32Array; ints: Int32Array | null }

/** Every tensor of a model folder as float32, I32 tensors also as exact ints (small test models only). */
export async function readAllFloat(dir: string): Promise<Map<string, LoadedTensor>> {
  const m = await openSafetensorsModel(dir);
  try {
    const out = new Map<string, LoadedTensor>();
    for (const t of m.tensors.values()) {
      const bytes = await m.readTensor(t.name);
      const ints = t.dtype === 'I32' ? new Int32Array(bytes.slice().buffer) : null;
      out.set(t.name, { shape: t.shape, dtype: t.dtype, data: ints ? Float32Array.from(ints) : toFloat32(t.dtype, bytes), ints });
    }
    return out;
  } finally {
    await m.close();
  }
}

/** Raw safetensors header JSON of one file (to check `__metadata__` exactly). */
export function rawHeader(path: string): Record<string, unknown> {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  return JSON.parse(b.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
}
