/**
 * A fixed set of worker threads, each holding one instance of the wasm kernels. Each worker gets
 * up to MAX_IN_FLIGHT jobs at once (so it starts while the caller is still preparing the next
 * ones and never waits on a round trip between jobs); the rest wait in a queue and go to whichever
 * worker frees up, so uneven pieces still keep every core busy.
 *
 * With `callerWorks`, the calling thread is one of the threads: it runs jobs itself (one at a
 * time, between its other tasks) and only threads − 1 workers are spawned. A headless CLI's main
 * thread mostly waits while the workers compute, and a worker costs ~0.1 s of CPU to boot, so this
 * saves a boot and starts work before any worker is up. Not for interactive callers: the thread
 * is busy for a job's length.
 */
import { Worker } from 'node:worker_threads';
import type { WasmModule } from './wasm-kernels.mjs';
import type { JobRunner } from './job-runner.mjs';
import type { FileJobMessage, InitMessage, JobMessage, JobResult, WorkerReply } from './protocol.ts';

const WORKER_URL = new URL('./worker.mjs', import.meta.url);
/** This module runs compiled (dist/…/pool.js) or from its TypeScript source: the reference table is beside it either way. */
const TYPESCRIPT = import.meta.url.endsWith('.ts');
const REFERENCE_URL = new URL(`../quant-table.${TYPESCRIPT ? 'ts' : 'js'}`, import.meta.url).href;

export type Job = Omit<JobMessage, 'id'> | Omit<FileJobMessage, 'id'>;

const MAX_IN_FLIGHT = 2;

/** A worker, or (`runner`) the calling thread itself. */
interface Slot { worker?: Worker; runner?: JobRunner; ready: boolean; inFlight: number }
interface Pending { resolve: (result: JobResult) => void; reject: (e: Error) => void }

/** `J`: the job messages of the worker script the pool runs (worker.mjs by default). */
export class WorkerPool<J extends object = Job> {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: { job: J; id: number }[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  private constructor() {}

  /** `callerWorks` (the kernel worker script only): this thread is one of the `threads`; the pool is ready at once and workers join as they boot. */
  static async start<J extends object = Job>(threads: number, module: WasmModule, reference: boolean, workerUrl: URL = WORKER_URL, callerWorks = false): Promise<WorkerPool<J>> {
    const pool = new WorkerPool<J>();
    if (!callerWorks) {
      await Promise.all(Array.from({ length: threads }, () => pool.spawn(module, reference, workerUrl)));
      return pool;
    }
    const { createJobRunner } = await import('./job-runner.mjs');
    const runner = createJobRunner('kernel pool (calling thread)');
    // This thread already runs the pool's own build (compiled, or TypeScript under tsx): no loader to register.
    runner.init({ ...pool.initMessage(module, reference), typescript: false });
    pool.slots.push({ runner, ready: true, inFlight: 0 });
    // Nothing waits for these workers (this thread can do all the work), so a booting one must not
    // hold the process either: a command that fails or finishes first exits at once.
    for (let i = 1; i < threads; i++) {
      pool.spawn(module, reference, workerUrl).catch(() => undefined); // a failed boot poisons the pool (fail)
      pool.slots.at(-1)!.worker!.unref();
    }
    return pool;
  }

  private initMessage(module: WasmModule, reference: boolean): InitMessage {
    return { kind: 'init', module, reference, referenceUrl: REFERENCE_URL, typescript: TYPESCRIPT };
  }

  get size(): number {
    return this.slots.length;
  }

  private spawn(module: WasmModule, reference: boolean, workerUrl: URL): Promise<void> {
    const worker = new Worker(workerUrl);
    const slot: Slot = { worker, ready: false, inFlight: 0 };
    this.slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.on('message', (reply: WorkerReply) => {
        // An idle worker does not keep the process alive (a forgotten close() cannot hang the
        // CLI); a busy one does, so an awaited job always finishes.
        if (reply.id === -1) { slot.ready = true; worker.unref(); resolve(); this.pump(); return; }
        if (--slot.inFlight === 0) worker.unref();
        this.settle(reply);
      });
      worker.on('error', (e) => { this.fail(e); reject(e); });
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`kernel worker exited with code ${code}`));
      });
      worker.postMessage(this.initMessage(module, reference));
    });
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (p) {
      if (reply.ok) p.resolve('firstNonFinite' in reply ? reply : { firstNonFinite: -1 });
      else p.reject(new Error(reply.error));
    }
    this.pump();
  }

  /** The calling thread's job: after the current task (so runAll finishes queueing first), then the next one. */
  private runHere(slot: Slot, job: J, id: number): void {
    slot.inFlight++;
    setImmediate(() => {
      void slot.runner!.handle({ ...job, id } as unknown as Parameters<JobRunner['handle']>[0]).then((reply) => {
        slot.inFlight--;
        if (this.failure) return;
        this.settle(reply);
      });
    });
  }

  /** A dead worker poisons the pool: every pending and later job fails loudly. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.queue.length = 0;
  }

  /**
   * Posts queued jobs to the least-loaded ready workers, up to MAX_IN_FLIGHT each; then, if this
   * thread works too and is free, it takes the next one (workers first: a job here blocks posting).
   */
  private pump(): void {
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (s.worker && s.ready && (!slot || s.inFlight < slot.inFlight)) slot = s;
      if (!slot || slot.inFlight >= MAX_IN_FLIGHT) break;
      const next = this.queue.shift()!;
      if (slot.inFlight++ === 0) slot.worker!.ref();
      slot.worker!.postMessage({ ...next.job, id: next.id });
    }
    const here = this.slots.find((s) => s.runner);
    if (here && here.inFlight === 0 && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.runHere(here, next.job, next.id);
    }
  }

  /**
   * Runs all jobs across the workers; resolves, in job order, with each one's result.
   * `prepare(job)` runs just before a job is handed out (e.g. to stage its input), so workers
   * start on the first jobs while later ones are still being prepared.
   */
  runAll(jobs: J[], prepare?: (job: J) => void): Promise<JobResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    const done = jobs.map((job) => {
      prepare?.(job);
      const p = new Promise<JobResult>((resolve, reject) => {
        const id = this.nextId++;
        this.pending.set(id, { resolve, reject });
        this.queue.push({ job, id });
      });
      this.pump();
      return p;
    });
    return Promise.all(done);
  }

  async close(): Promise<void> {
    const workers = this.slots.splice(0).flatMap((s) => (s.worker ? [s.worker] : []));
    this.fail(new Error('quantizer is closed'));
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
