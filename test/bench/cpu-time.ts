/** CPU-time measurement shared by the single-thread kernel benches (kernels-ref, kernels-iq2). */

/** Process CPU milliseconds: steadier than wall time when other work shares the 2 cores. */
export const cpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e3; };

/** Mean CPU ms per call of `fn` over at least `minMs` of CPU time, after one warm-up call (JIT). */
export function timeIt(fn: () => void, minMs = 300): number {
  fn();
  let runs = 0;
  const t0 = cpuMs();
  do { fn(); runs++; } while (cpuMs() - t0 < minMs);
  return (cpuMs() - t0) / runs;
}
