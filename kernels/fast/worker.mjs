// A pool worker: runs the jobs the pool posts (job-runner.mjs) and posts each reply back.
import { parentPort } from 'node:worker_threads';
import { createJobRunner } from './job-runner.mjs';

if (!parentPort) throw new Error('kernels/fast/worker.mjs must run as a worker thread');
const port = parentPort;
const runner = createJobRunner('kernel worker');

port.on('message', async (msg) => {
  if (msg.kind === 'init') {
    runner.init(msg);
    port.postMessage({ id: -1, ok: true, ready: true });
    return;
  }
  port.postMessage(await runner.handle(msg));
});
