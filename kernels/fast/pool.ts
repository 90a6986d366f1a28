/**
 * A fixed set of worker threads, each holding one instance of the wasm kernels. Jobs are pulled
 * from a queue as workers free up, so uneven pieces still keep every core busy.
 */
import { Worker } from 'node:worker_threads';
import type { WasmModule } from './wasm-kernels.mjs';
import type { InitMessage, JobMessage, WorkerReply } from './protocol.ts';

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

export type Job = Omit<JobMessage, 'id'>;

interface Slot { worker: Worker; busy: boolean }
interface Pending { resolve: (firstNonFinite: number) => void; reject: (e: Error) => void }

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: { job: Job; id: number }[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  private constructor() {}

  static async start(threads: number, module: WasmModule, reference: boolean): Promise<WorkerPool> {
    const pool = new WorkerPool();
    await Promise.all(Array.from({ length: threads }, () => pool.spawn(module, reference)));
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  private spawn(module: WasmModule, reference: boolean): Promise<void> {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, busy: true };
    this.slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.on('message', (reply: WorkerReply) => {
        // An idle worker does not keep the process alive (a forgotten close() cannot hang the
        // CLI); a busy one does, so an awaited job always finishes.
        if (reply.id === -1) { slot.busy = false; worker.unref(); resolve(); this.pump(); return; }
        const p = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        slot.busy = false;
        worker.unref();
        if (p) {
          if (reply.ok) p.resolve('firstNonFinite' in reply ? reply.firstNonFinite : -1);
          else p.reject(new Error(reply.error));
        }
        this.pump();
      });
      worker.on('error', (e) => { this.fail(e); reject(e); });
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`kernel worker exited with code ${code}`));
      });
      worker.postMessage({ kind: 'init', module, reference } satisfies InitMessage);
    });
  }

  /** A dead worker poisons the pool: every pending and later job fails loudly. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.queue.length = 0;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      slot.busy = true;
      slot.worker.ref();
      slot.worker.postMessage({ ...next.job, id: next.id } satisfies JobMessage);
    }
  }

  /** Runs all jobs across the workers; resolves, in job order, with each one's `firstNonFinite`. */
  runAll(jobs: Job[]): Promise<number[]> {
    if (this.failure) return Promise.reject(this.failure);
    const done = jobs.map((job) => new Promise<number>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.queue.push({ job, id });
    }));
    this.pump();
    return Promise.all(done);
  }

  async close(): Promise<void> {
    const workers = this.slots.splice(0).map((s) => s.worker);
    this.fail(new Error('quantizer is closed'));
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
