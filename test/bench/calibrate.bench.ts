/**
 * `npm run bench calibrate`, 2 threads (BENCH_THREADS): GPTQ calibration (the layer loop with
 * true_sequential subsets, H on the fast matmul engine, the float64 JS solver) of the synthetic
 * 1024-wide 8-layer Llama (bf16 safetensors, big-model.ts) at 32 × 512 tokens of the default
 * calibration corpus: seconds per layer, peak RSS, and where the time goes (forwards + H products
 * on the engine vs the solver in JS). From the FLOP rate measured for each part, the projected
 * hours for a 7B Llama (4096 / 11008 / 32 layers) at the default 128 × 512 tokens.
 * BENCH_CALIB_LAYERS limits the layers run (default all 8). AWQ is added here once its method is
 * registered (src/calibrate/methods.ts). The machine is shared: absolute times are noisy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STORIES = fileURLToPath(new URL('../../samples/stories260K', import.meta.url));
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const SAMPLES = 32, SEQLEN = 512;

interface Dims { d: number; ff: number; layers: number }
/** Multiply-adds of one layer's GPTQ: block forwards (true-sequential passes) + H products + solver. */
function macs(x: Dims, tokens: number) {
  const { d, ff } = x;
  const attnProj = 4 * d * d, mlp = 3 * d * ff;
  // passes: [k,v,q] stops before any matmul; [o]: q,k,v; [up,gate]: attention; [down]: + gate/up; then the full block
  const forward = tokens * (3 * d * d + attnProj + (attnProj + 2 * d * ff) + (attnProj + mlp));
  const hessian = tokens * (d * d * 3 + ff * ff); // distinct inputs: attn in, o in, mlp in, down in
  // per module: lazy/in-block updates rows·cols², the Cholesky steps ~cols³ (chol n³/3, inverse 2n³/3·…)
  const mods: [number, number][] = [[d, d], [d, d], [d, d], [d, d], [ff, d], [ff, d], [d, ff]];
  const solver = mods.reduce((s, [rows, cols]) => s + rows * cols * cols + 1.3 * cols ** 3, 0);
  return { engine: forward + hessian, solver };
}

export default async function bench(): Promise<void> {
  const { writeBigLlama } = await import('./big-model.ts');
  const { openModelWeights } = await import('../../src/model/open-model.ts');
  const { createFastEngine } = await import('../../kernels/fast/forward-engine.ts');
  const { calibrateModel } = await import('../../src/calibrate/loop.ts');
  const { gptqMethod } = await import('../../src/calibrate/gptq-method.ts');
  const { calibrationSet, loadCalibDocuments } = await import('../../src/pipeline/calib-text.ts');
  const { addsBos, llamaTokenizer } = await import('../../src/pipeline/eval-plan.ts');
  const gs = await import('../../kernels/groupwise/gptq-solver.ts');
  const dir = mkdtempSync(join(tmpdir(), 'bench-calib-'));
  const dims: Dims = { d: 1024, ff: 2816, layers: 8 };
  try {
    await writeBigLlama(dir, { hidden: dims.d, intermediate: dims.ff, layers: dims.layers, heads: 16, kvHeads: 16, vocab: 32000, shardBytes: 1 << 30 }, STORIES);
    const model = await openModelWeights(dir);
    const engine = await createFastEngine({ threads: THREADS });
    const set = await calibrationSet(await loadCalibDocuments(), { samples: SAMPLES, seqlen: SEQLEN, seed: 42, tokenize: (t) => llamaTokenizer(model, t), bos: addsBos(model) });
    const limit = Number(process.env.BENCH_CALIB_LAYERS ?? dims.layers);
    // time the solver separately: wrap gptqFasterquant through the module namespace is not possible (ESM),
    // so measure one solve of each shape once and scale by the count per layer
    const solveMs = (rows: number, cols: number) => {
      const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i) * 0.02);
      const H = new Float32Array(cols * cols);
      for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) H[i * cols + j] = (i === j ? 2 : 0) + 0.5 * Math.cos(i - j);
      const t0 = performance.now();
      gs.gptqFasterquant(w, rows, cols, H, { bits: 4, groupSize: 128, sym: true });
      return performance.now() - t0;
    };
    const solverLayerMs = 4 * solveMs(dims.d, dims.d) + 2 * solveMs(dims.ff, dims.d) + solveMs(dims.d, dims.ff);
    const t0 = performance.now();
    const perLayer: number[] = [];
    const gen = calibrateModel(model, { ...set, seed: 42 }, gptqMethod(), { spec: { bits: 4, groupSize: 128, sym: true }, engine, maxMemory: 8 * 2 ** 30 });
    let last = t0;
    for (let s = await gen.next(); !s.done; s = await gen.next()) {
      if (s.value.type === 'calibrated-layer') {
        const now = performance.now();
        perLayer.push((now - last) / 1000);
        last = now;
        if (perLayer.length >= limit) break;
      }
    }
    await gen.return(undefined as never);
    await engine.close();
    await model.close();
    const tokens = set.nSeq * set.nTok;
    const layerS = perLayer.reduce((a, b) => a + b, 0) / perLayer.length;
    const solverS = solverLayerMs / 1000, engineS = Math.max(1e-3, layerS - solverS);
    const m = macs(dims, tokens);
    const engineRate = (2 * m.engine) / engineS, solverRate = (2 * m.solver) / solverS;
    const seven: Dims = { d: 4096, ff: 11008, layers: 32 };
    const m7 = macs(seven, 128 * 512);
    const hours = (((2 * m7.engine) / engineRate + (2 * m7.solver) / solverRate) * seven.layers) / 3600;
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(`GPTQ 4-bit g128, 1024-wide 8-layer llama, ${set.nSeq} × ${set.nTok} tokens, ${THREADS} thread(s), ${perLayer.length} layer(s)`);
    console.log(`seconds per layer: ${perLayer.map((s) => s.toFixed(1)).join(' ')} (mean ${layerS.toFixed(1)})`);
    console.log(`of which the JS solver (7 solves, timed alone): ${solverS.toFixed(1)} s → ${(solverRate / 1e9).toFixed(2)} GFLOP/s; forwards + H on the engine: ${engineS.toFixed(1)} s → ${(engineRate / 1e9).toFixed(2)} GFLOP/s`);
    console.log(`peak RSS: ${rssMiB.toFixed(0)} MiB (whole bench process)`);
    console.log(`projected 7B (4096/11008, 32 layers, 128 × 512 tokens) on this machine: ${hours.toFixed(1)} h (solver share ${((2 * m7.solver / solverRate) / ((2 * m7.engine) / engineRate + (2 * m7.solver) / solverRate) * 100).toFixed(0)}%)`);
    console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s; the machine is shared by other jobs, so absolute times are noisy`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
