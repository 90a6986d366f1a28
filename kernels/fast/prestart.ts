/**
 * A worker pool booted ahead of need, for the headless CLI: the calling thread works as one of its
 * threads (pool.ts `callerWorks`), so `threads` − 1 workers boot. Booting a worker costs ~0.1 s of
 * CPU on a small machine (a fresh V8 isolate and Node's bootstrap, then the wasm instance), so a
 * command line that will quantize starts its pool first, and the pool boots while the CLI loads
 * its modules and makes its plan; `createQuantizer` then takes it instead of starting another.
 * Only this module, the pool and the wasm loader are loaded for that: no kernels, no pipeline.
 */
import { WorkerPool } from './pool.ts';
import { loadWasmModule } from './wasm-module.ts';

let early: { threads: number; pool: Promise<WorkerPool> } | undefined;

/** Starts booting a pool of `threads` workers on the compiled wasm kernels (once). An idle pool keeps no process alive. */
export function prestartPool(threads: number): void {
  if (early) return;
  let pool: Promise<WorkerPool>;
  try {
    pool = WorkerPool.start(threads, loadWasmModule(), false, undefined, true);
  } catch (err) {
    pool = Promise.reject(err);
  }
  pool.catch(() => undefined); // whoever takes it sees the failure; nobody may ever take it
  early = { threads, pool };
}

/** The prestarted pool if it has `threads` workers (it is then no longer offered), else undefined. */
export function takePrestartedPool(threads: number): Promise<WorkerPool> | undefined {
  if (early?.threads !== threads) return undefined;
  const { pool } = early;
  early = undefined;
  return pool;
}
