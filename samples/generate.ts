/**
 * `npm run samples` (also run by `pretest`): generate the tiny HF-format sample models into
 * samples/generated/, or do nothing when they are already current. Needs no network.
 */
import { ensureSamples, SAMPLE_SPECS } from './lib/index.ts';
import { ensureFamily, FAMILIES } from './lib/families.ts';

const started = performance.now();
const root = await ensureSamples();
for (const family of FAMILIES) await ensureFamily(family);
const ms = Math.round(performance.now() - started);
console.log(`samples: ${SAMPLE_SPECS.length} models in ${root}, ${FAMILIES.length} family fixtures (${ms} ms)`);
