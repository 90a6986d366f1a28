/**
 * The restructured AWQ search (one forward per sub-batch; the qkv candidates re-run only the
 * attention half, o only o_proj, gate/up only the MLP half, down only down_proj, all on cached
 * inputs; the clip search vectorised) makes the same choices as the per-candidate block forwards
 * it replaced: on every golden configuration (test/support/awq-golden.ts — GQA and multi-head,
 * 2/3/4 bits, g32/64/128, one and several sub-batches, groups switched off, duo off, a coarser grid)
 * the ratios, the scale-search losses, the codes, fp16 scales and zeros, the scaled and clipped
 * weights and the rescaled norms are identical, and the clip losses agree to 1e-9 relative (the
 * clip error is summed in another order; the choice it drives is pinned by the weight digests).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFastEngine } from '../kernels/fast/forward-engine.ts';
import type { MatmulEngine } from '../kernels/forward/index.ts';
import { GOLDEN_CONFIGS, runGolden, type GoldenLayer } from './support/awq-golden.ts';

const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'awq-golden.json'), 'utf8')) as Record<string, GoldenLayer[]>;
let engine: MatmulEngine;
before(async () => { engine = await createFastEngine({ threads: 2 }); });
after(async () => { await engine?.close(); });

for (const cfg of GOLDEN_CONFIGS) {
  test(`AWQ golden: ${cfg.name}`, async () => {
    const want = golden[cfg.name]!;
    const got = await runGolden(cfg, engine);
    assert.equal(got.length, want.length);
    for (const [i, g] of got.entries()) {
      const w = want[i]!;
      assert.deepEqual(g.groups, w.groups, `layer ${g.layer}: scale groups`);
      assert.deepEqual(g.vectors, w.vectors, `layer ${g.layer}: rescaled vectors`);
      assert.deepEqual(g.modules.map(({ loss: _, ...m }) => m), w.modules.map(({ loss: _, ...m }) => m), `layer ${g.layer}: codes and clipped weights`);
      for (const [j, m] of g.modules.entries()) {
        const ref = w.modules[j]!.loss;
        assert.ok(Math.abs(m.loss - ref) <= 1e-9 * Math.abs(ref), `layer ${g.layer} ${m.module}: clip loss ${m.loss} vs ${ref}`);
      }
    }
  });
}
