/** Runs fuzz cases [from, to) of a seeded run, reporting each before and after (see fuzz-runner.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { makeTargets, runCase } from './fuzz-targets.ts';

const { work, seed, from, to } = workerData as { work: string; seed: number; from: number; to: number };
const targets = await makeTargets(work);
for (let i = from; i < to; i++) {
  parentPort!.postMessage({ type: 'start', i });
  const { target, outcome } = await runCase(targets, seed, i);
  parentPort!.postMessage({ type: 'case', i, target, outcome });
}
parentPort!.postMessage({ type: 'end' });
