/**
 * Quality: on stories260K, an importance matrix calibrated on one text (test/fixtures, short
 * stories written for this test) and evaluated on another (samples/stories260K/eval.txt) lowers
 * the KL divergence against the F32 model for q4_0, q4_1 and iq4_NL (eval's KL, as
 * llama-perplexity --kl-divergence computes it). The figures are printed for the report.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRefEngine } from '../kernels/forward/index.ts';
import { imatrixJob } from '../src/pipeline/imatrix.ts';
import { quantizeGguf } from '../src/pipeline/quantize.ts';
import { evalModel, type EvalSummary } from '../src/pipeline/eval.ts';
import type { PipelineEvent } from '../src/pipeline/events.ts';
import { STORIES_F32 } from './quantize-fixtures.ts';

const ROOT = join(import.meta.dirname, '..');
const CALIB = join(ROOT, 'test/fixtures/imatrix-calib-stories.txt');
const EVAL_TXT = join(ROOT, 'samples/stories260K/eval.txt');
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-imatrix-quality-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function drain<T>(gen: AsyncGenerator<PipelineEvent, T>): Promise<T> {
  for (let s = await gen.next(); ; s = await gen.next()) if (s.done) return s.value;
}

test('an imatrix lowers the KL divergence against F32 for q4_0, q4_1 and iq4_NL (stories260K, eval.txt)', async () => {
  const engine = createRefEngine();
  const imatrix = join(dir, 'stories.imatrix.gguf');
  await drain(imatrixJob({ model: STORIES_F32, output: imatrix, calibFile: CALIB, ctx: 64, engine }));
  const kl = async (ft: string, withImatrix: boolean) => {
    const out = join(dir, `${ft}-${withImatrix}.gguf`);
    await drain(quantizeGguf({ input: STORIES_F32, output: out, fileType: ft, threads: 1, force: true, validate: false, ...(withImatrix ? { imatrix } : {}) }));
    const s: EvalSummary = await drain(evalModel({ model: out, ref: STORIES_F32, textFile: EVAL_TXT, ctx: 64, engine }));
    return s.kl!.kl.mean;
  };
  const rows: string[] = [];
  for (const ft of ['q4_0', 'q4_1', 'iq4_NL']) {
    const without = await kl(ft, false);
    const withIm = await kl(ft, true);
    rows.push(`${ft}: mean KL ${without.toFixed(6)} without → ${withIm.toFixed(6)} with the imatrix (${((1 - withIm / without) * 100).toFixed(1)}% lower)`);
    assert.ok(withIm < without, `${ft}: KL with the imatrix ${withIm} is not below ${without}`);
  }
  console.log(rows.join('\n'));
});
