/**
 * `npm run bench calibrate`, 2 threads (BENCH_THREADS): GPTQ calibration (the layer loop with
 * true_sequential subsets, H on the fast matmul engine, the float64 solver: wasm f64x2 Cholesky
 * chain and updates, JS per-column quantization) of the synthetic
 * 1024-wide 8-layer Llama (bf16 safetensors, big-model.ts) at 32 × 512 tokens of the default
 * calibration corpus: seconds per layer, peak RSS, and where the time goes (forwards + H products
 * on the engine vs the solver in JS). From the FLOP rate measured for each part, the projected
 * hours for a 7B Llama (4096 / 11008 / 32 layers) at the default 128 × 512 tokens.
 * BENCH_CALIB_LAYERS limits the layers run (default all 8). Then AWQ (auto_scale + auto_clip, 4-bit
 * g128 asymmetric) on the same model and samples for BENCH_AWQ_LAYERS layers (default 2): its cost is
 * forwards of the block and its halves, so the 7B projection scales the measured seconds per layer
 * by the per-layer multiply-adds and the token count. The machine may be shared: absolute times are noisy,
 * so process CPU time and the load average are printed too. Knobs for quick runs: BENCH_CALIB_SAMPLES,
 * BENCH_CALIB_SEQLEN, BENCH_CALIB_WIDTH, BENCH_CALIB_FFN; BENCH_CALIB_LAYERS=0 / BENCH_AWQ_LAYERS=0 skip a method.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STORIES = fileURLToPath(new URL('../../samples/stories260K', import.meta.url));
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
// knobs for quick iterations (the standard config is the default): samples, sequence length,
// and the synthetic model's width / FFN width
const SAMPLES = Number(process.env.BENCH_CALIB_SAMPLES ?? 32), SEQLEN = Number(process.env.BENCH_CALIB_SEQLEN ?? 512);
const WIDTH = Number(process.env.BENCH_CALIB_WIDTH ?? 1024), FFN = Number(process.env.BENCH_CALIB_FFN ?? 2816);
const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const loadAvg = () => loadavg().map((x) => x.toFixed(1)).join(' ');

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
  const { awqMethod } = await import('../../src/calibrate/awq-method.ts');
  const { calibrationSet, loadCalibDocuments } = await import('../../src/pipeline/calib-text.ts');
  const { addsBos, llamaTokenizer } = await import('../../src/pipeline/eval-plan.ts');
  const dir = mkdtempSync(join(tmpdir(), 'bench-calib-'));
  const dims: Dims = { d: WIDTH, ff: FFN, layers: 8 };
  try {
    await writeBigLlama(dir, { hidden: dims.d, intermediate: dims.ff, layers: dims.layers, heads: 16, kvHeads: 16, vocab: 32000, shardBytes: 1 << 30 }, STORIES);
    const model = await openModelWeights(dir);
    const engine = await createFastEngine({ threads: THREADS });
    const set = await calibrationSet(await loadCalibDocuments(), { samples: SAMPLES, seqlen: SEQLEN, seed: 42, tokenize: (t) => llamaTokenizer(model, t), bos: addsBos(model) });
    const limit = Number(process.env.BENCH_CALIB_LAYERS ?? dims.layers);
    const tokens = set.nSeq * set.nTok;
    const seven: Dims = { d: 4096, ff: 11008, layers: 32 };
    console.log(`load average at start: ${loadAvg()}`);
    if (limit > 0) {
    let solverSeconds = 0; // fasterquant time, as the method records it per module
    const t0 = performance.now(), c0 = cpuSeconds();
    const perLayer: number[] = [];
    const gen = calibrateModel(model, { ...set, seed: 42 }, gptqMethod(), { spec: { bits: 4, groupSize: 128, sym: true }, engine, maxMemory: 8 * 2 ** 30 });
    let last = t0;
    for (let s = await gen.next(); !s.done; s = await gen.next()) {
      if (s.value.type === 'calibrated-layer') {
        solverSeconds += s.value.result.report.modules.reduce((t, m) => t + (m.seconds ?? 0), 0);
        const now = performance.now();
        perLayer.push((now - last) / 1000);
        last = now;
        console.log(`layer ${perLayer.length}: ${perLayer.at(-1)!.toFixed(1)} s, RSS now ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
        if (perLayer.length >= limit) break;
      }
    }
    await gen.return(undefined as never);
    await engine.close();
    await model.close();
    const layerS = perLayer.reduce((a, b) => a + b, 0) / perLayer.length;
    const solverS = solverSeconds / perLayer.length, engineS = Math.max(1e-3, layerS - solverS);
    const m = macs(dims, tokens);
    const engineRate = (2 * m.engine) / engineS, solverRate = (2 * m.solver) / solverS;
    const m7 = macs(seven, 128 * 512);
    const hours = (((2 * m7.engine) / engineRate + (2 * m7.solver) / solverRate) * seven.layers) / 3600;
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(`GPTQ 4-bit g128, 1024-wide 8-layer llama, ${set.nSeq} × ${set.nTok} tokens, ${THREADS} thread(s), ${perLayer.length} layer(s)`);
    console.log(`seconds per layer: ${perLayer.map((s) => s.toFixed(1)).join(' ')} (mean ${layerS.toFixed(1)})`);
    console.log(`of which the solver (7 fasterquant calls, same run): ${solverS.toFixed(1)} s → ${(solverRate / 1e9).toFixed(2)} GFLOP/s; forwards + H on the engine: ${engineS.toFixed(1)} s → ${(engineRate / 1e9).toFixed(2)} GFLOP/s`);
    console.log(`peak RSS: ${rssMiB.toFixed(0)} MiB (whole bench process)`);
    console.log(`projected 7B (4096/11008, 32 layers, 128 × 512 tokens) on this machine: ${hours.toFixed(1)} h (solver share ${((2 * m7.solver / solverRate) / ((2 * m7.engine) / engineRate + (2 * m7.solver) / solverRate) * 100).toFixed(0)}%)`);
    console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s, process CPU ${(cpuSeconds() - c0).toFixed(0)} s, load average now ${loadAvg()}; the machine is shared by other jobs, so absolute times are noisy`);
    }

    const awqLayers = Number(process.env.BENCH_AWQ_LAYERS ?? 2);
    if (awqLayers <= 0) return;
    const model2 = await openModelWeights(dir);
    const engine2 = await createFastEngine({ threads: THREADS });
    const awqPerLayer: number[] = [];
    const a0 = performance.now();
    let lastA = a0, lastC = cpuSeconds();
    const awqCpu: number[] = [];
    const gen2 = calibrateModel(model2, { ...set, seed: 42 }, awqMethod(), { spec: { bits: 4, groupSize: 128, sym: false }, engine: engine2, maxMemory: 8 * 2 ** 30 });
    for (let s = await gen2.next(); !s.done; s = await gen2.next()) {
      if (s.value.type !== 'calibrated-layer') continue;
      const now = performance.now();
      awqPerLayer.push((now - lastA) / 1000);
      awqCpu.push(cpuSeconds() - lastC);
      const clipS = s.value.result.report.modules.reduce((t, m) => t + (m.seconds ?? 0), 0);
      lastA = now;
      lastC = cpuSeconds();
      console.log(`AWQ layer ${awqPerLayer.length}: ${awqPerLayer.at(-1)!.toFixed(1)} s (process CPU ${awqCpu.at(-1)!.toFixed(1)} s; clip + pack ${clipS.toFixed(1)} s), load average ${loadAvg()}`);
      if (awqPerLayer.length >= awqLayers) break;
    }
    await gen2.return(undefined as never);
    await engine2.close();
    await model2.close();
    if (!awqPerLayer.length) return;
    const awqS = awqPerLayer.reduce((a, b) => a + b, 0) / awqPerLayer.length;
    const layerMacs = (x: Dims) => 4 * x.d * x.d + 3 * x.d * x.ff;
    const awqHours = (awqS * (layerMacs(seven) / layerMacs(dims)) * ((128 * 512) / tokens) * seven.layers) / 3600;
    console.log(`AWQ 4-bit g128, same model and samples: seconds per layer ${awqPerLayer.map((x) => x.toFixed(1)).join(' ')} (mean ${awqS.toFixed(1)}); projected 7B at 128 × 512 tokens: ${awqHours.toFixed(1)} h`);
    console.log(`peak RSS after AWQ: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (whole bench process)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
