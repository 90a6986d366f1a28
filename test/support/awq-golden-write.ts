/** Writes test/fixtures/awq-golden.json from the current AWQ implementation (see awq-golden.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFastEngine } from '../../kernels/fast/forward-engine.ts';
import { GOLDEN_CONFIGS, runGolden } from './awq-golden.ts';

const engine = await createFastEngine({ threads: 2 });
const out: Record<string, unknown> = {};
for (const cfg of GOLDEN_CONFIGS) {
  const t0 = performance.now();
  out[cfg.name] = await runGolden(cfg, engine);
  console.log(`${cfg.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
await engine.close();
writeFileSync(join(import.meta.dirname, '..', 'fixtures', 'awq-golden.json'), `${JSON.stringify(out, null, 1)}\n`);
