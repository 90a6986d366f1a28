/**
 * `npm run samples` (also run by `pretest`): generate the tiny HF-format sample models into
 * samples/generated/, or do nothing when they are already current. Needs no network.
 */
import { ensureSamples, SAMPLE_SPECS } from './lib/index.ts';

const started = performance.now();
const root = await ensureSamples();
const ms = Math.round(performance.now() - started);
console.log(`samples: ${SAMPLE_SPECS.length} models in ${root} (${ms} ms)`);
