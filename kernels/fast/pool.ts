/**
 * A fixed set of worker threads, each holding one instance of the wasm kernels. Each worker gets
 * up to MAX_IN_FLIGHT jobs at once (so it starts while the caller is still preparing the next
 * ones and never waits on a round trip between jobs); the rest wait in a queue and go to whichever
 * worker frees up, so uneven pieces still keep every core busy.
 */
import { Worker } from 'node:worker_threads';
import type { WasmModule } from './wasm-kernels.mjs';
import type { FileJobMessage, InitMessage, JobMessage, JobResult, WorkerReply } from './protocol.ts';

const WORKER_URL = new URL('./worker.mjs', import.meta.url);
/** This module runs compiled (dist/…/pool.js) or from its TypeScript source: the reference table is beside it either way. */
const TYPESCRIPT = import.meta.url.endsWith('.ts');
const REFERENCE_URL = new URL(`../quant-table.${TYPESCRIPT ? 'ts' : 'js'}`, import.meta.url).href;

export type Job = Omit<JobMessage, 'id'> | Omit<FileJobMessage, 'id'>;

const MAX_IN_FLIGHT = 2;

interface Slot { worker: Worker; ready: boolean; inFlight: number }
interface Pending { resolve: (result: JobResult) => void; reject: (e: Error) => void }

/** `J`: the job messages of the worker script the pool runs (worker.mjs by default). */
export class WorkerPool<J extends object = Job> {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: { job: J; id: number }[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  private constructor() {}

  static async start<J extends object = Job>(threads: number, module: WasmModule, reference: boolean, workerUrl: URL = WORKER_URL): Promise<WorkerPool<J>> {
    const pool = new WorkerPool<J>();
    await Promise.all(Array.from({ length: threads }, () => pool.spawn(module, reference, workerUrl)));
    return pool;
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
        const p = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (--slot.inFlight === 0) worker.unref();
        if (p) {
          if (reply.ok) p.resolve('firstNonFinite' in reply ? reply : { firstNonFinite: -1 });
          else p.reject(new Error(reply.error));
        }
        this.pump();
      });
      worker.on('error', (e) => { this.fail(e); reject(e); });
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`kernel worker exited with code ${code}`));
      });
      worker.postMessage({ kind: 'init', module, reference, referenceUrl: REFERENCE_URL, typescript: TYPESCRIPT } satisfies InitMessage);
    });
  }

  /** A dead worker poisons the pool: every pending and later job fails loudly. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.queue.length = 0;
  }

  /** Posts queued jobs to the least-loaded ready workers, up to MAX_IN_FLIGHT each. */
  private pump(): void {
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (s.ready && (!slot || s.inFlight < slot.inFlight)) slot = s;
      if (!slot || slot.inFlight >= MAX_IN_FLIGHT) return;
      const next = this.queue.shift()!;
      if (slot.inFlight++ === 0) slot.worker.ref();
      slot.worker.postMessage({ ...next.job, id: next.id });
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
    const workers = this.slots.splice(0).map((s) => s.worker);
    this.fail(new Error('quantizer is closed'));
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
