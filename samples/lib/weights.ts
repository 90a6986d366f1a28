/**
 * Sample weight values with roughly the statistics of a trained model, so quantizers meet realistic
 * inputs: linear weights ~ N(0, 0.02²) with a few large outliers and a couple of "hot" input
 * columns; norms near 1; biases wider. Each tensor has its own seed (model id + tensor name), so
 * its values do not depend on which other tensors exist or in what order they are generated.
 */
import { Prng } from './prng.ts';
import type { SampleTensor } from './architectures.ts';

const WEIGHT_STD = 0.02;
/** One element in this many becomes an outlier of 5–12 standard deviations. */
const OUTLIER_EVERY = 1500;
const HOT_COLUMNS = 2;
const HOT_COLUMN_SCALE = 4;

export function sampleValues(modelId: string, t: SampleTensor): Float32Array {
  const rng = new Prng(`gguf-forge-samples/${modelId}/${t.name}`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  switch (t.kind) {
    case 'norm':
      for (let i = 0; i < n; i++) out[i] = 1 + 0.05 * rng.normal();
      // Trained RMSNorm gains have a few channels far from 1.
      for (let k = 0; k < 3; k++) out[rng.nextU32() % n] = 2 + 2 * rng.uniform();
      return out;
    case 'bias':
      for (let i = 0; i < n; i++) out[i] = 0.1 * rng.normal();
      for (let k = 0; k < 4; k++) out[rng.nextU32() % n] = (rng.uniform() < 0.5 ? -1 : 1) * (1 + 3 * rng.uniform());
      return out;
    case 'embedding':
    case 'linear': {
      for (let i = 0; i < n; i++) out[i] = WEIGHT_STD * rng.normal();
      const cols = t.shape[t.shape.length - 1];
      const rows = n / cols;
      if (t.kind === 'linear') {
        for (let k = 0; k < HOT_COLUMNS; k++) {
          const c = rng.nextU32() % cols;
          for (let r = 0; r < rows; r++) out[r * cols + c] *= HOT_COLUMN_SCALE;
        }
      }
      const outliers = Math.max(1, Math.floor(n / OUTLIER_EVERY));
      for (let k = 0; k < outliers; k++) {
        const sign = rng.uniform() < 0.5 ? -1 : 1;
        out[rng.nextU32() % n] = sign * WEIGHT_STD * (5 + 7 * rng.uniform());
      }
      return out;
    }
  }
}
