/**
 * Issue 13 (--show-statistics): llama-imatrix's per-tensor statistics of an imatrix file, checked
 * against an independent float64 computation written here from the definitions (tools/imatrix
 * compute_statistics / compute_cossim / show_statistics): per-token mean x² per column of every
 * expert that saw tokens; Σ, min, max, μ, σ, % active (> 1e-5), N, entropy of v/Σ in bits,
 * entropy / log2 N, ZD (share more than one σ above μ), cosine of the raw sums with the same tensor
 * one block earlier; and the element-weighted per-layer means. Then the CLI's text and --json, and
 * `inspect`'s copy of the same figures.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImatrixDat, writeImatrixGguf } from '../formats/imatrix/write-imatrix.ts';
import { readImatrix } from '../formats/imatrix/read-imatrix.ts';
import type { Imatrix } from '../formats/imatrix/imatrix.ts';
import { imatrixStatistics, type TensorStatistics } from '../src/inspect/imatrix-stats.ts';
import { runCli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-imatrix-stats-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    // Some exact zeros and some tiny values, so "% active" is not always 100.
    return u < 0.1 ? 0 : u < 0.15 ? Math.fround(u * 1e-9) : Math.fround(u * u * scale);
  });
}

const SAMPLE: Imatrix = {
  entries: new Map([
    ['blk.0.attn_q.weight', { sums: values(64, 1, 500), counts: [100] }],
    ['blk.1.attn_q.weight', { sums: values(64, 2, 900), counts: [200] }],
    ['blk.2.attn_q.weight', { sums: values(32, 3, 900), counts: [200] }],
    ['blk.0.ffn_down.weight', { sums: values(96, 4, 5e4), counts: [100] }],
    ['blk.1.ffn_down.weight', { sums: values(96, 5, 3e4), counts: [200] }],
    ['blk.0.ffn_up_exps.weight', { sums: values(3 * 32, 6, 80), counts: [5, 7, 9] }],
    // Expert 1 saw no tokens: its row is left out.
    ['blk.1.ffn_up_exps.weight', { sums: values(3 * 32, 7, 80), counts: [10, 0, 30] }],
    ['output.weight', { sums: values(64, 8, 40), counts: [300] }],
    // No tokens at all: skipped.
    ['blk.2.attn_k.weight', { sums: new Float32Array(64), counts: [0] }],
  ]),
  datasets: ['calib.txt'], chunkCount: 1, chunkSize: 512, legacy: false,
};

/** The definitions, in float64, from scratch. */
function expected(m: Imatrix): Map<string, Omit<TensorStatistics, 'layer' | 'tensor'>> {
  const out = new Map<string, Omit<TensorStatistics, 'layer' | 'tensor'>>();
  for (const [name, e] of m.entries) {
    const cols = e.sums.length / e.counts.length;
    const v: number[] = [];
    e.counts.forEach((c, x) => { if (c > 0) for (let j = 0; j < cols; j++) v.push(e.sums[x * cols + j]! / c); });
    if (v.length === 0) continue;
    const n = v.length;
    const sum = v.reduce((a, b) => a + b, 0);
    const mean = sum / n;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const entropy = -v.reduce((a, b) => (b > 0 ? a + (b / sum) * Math.log2(b / sum) : a), 0);
    const prev = name.replace(/blk\.(\d+)\./, (_, d: string) => `blk.${Number(d) - 1}.`);
    const p = prev !== name ? m.entries.get(prev) : undefined;
    let cos = 0;
    if (p && p.sums.length === e.sums.length && p.counts.some((c) => c > 0)) {
      let dot = 0, na = 0, nb = 0;
      for (let i = 0; i < e.sums.length; i++) { dot += e.sums[i]! * p.sums[i]!; na += e.sums[i]! ** 2; nb += p.sums[i]! ** 2; }
      cos = dot / Math.sqrt(na * nb);
    }
    out.set(name, {
      name, sumSq: sum, min: Math.min(...v), max: Math.max(...v), mean, stddev: sd, active: v.filter((x) => x > 1e-5).length / n, elements: n,
      entropy, entropyNorm: (100 * entropy) / Math.log2(n), zd: v.filter((x) => (x - mean) / sd > 1).length / n, cosSim: cos,
    });
  }
  return out;
}

const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 2e-5 * Math.abs(want) + 1e-9, `${what}: ${got} vs ${want}`);

function checkAgainst(stats: ReturnType<typeof imatrixStatistics>, m: Imatrix): void {
  const want = expected(m);
  assert.deepEqual(stats.skipped, ['blk.2.attn_k.weight']);
  assert.equal(stats.tensors.length, want.size);
  for (const t of stats.tensors) {
    const w = want.get(t.name)!;
    for (const k of ['sumSq', 'min', 'max', 'mean', 'stddev', 'active', 'entropy', 'entropyNorm', 'zd', 'cosSim'] as const) close(t[k], w[k], `${t.name} ${k}`);
    assert.equal(t.elements, w.elements, `${t.name} N`);
  }
  // Sorted as upstream prints: by the short name, then by Σ(Act²) descending.
  const keys = stats.tensors.map((t) => [t.tensor, t.sumSq] as const);
  for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]![0] < keys[i]![0] || (keys[i - 1]![0] === keys[i]![0] && keys[i - 1]![1] >= keys[i]![1]), `order at ${i}`);
  // Per layer: element-weighted means over each block's tensors (output.weight belongs to none).
  for (const l of stats.layers) {
    const ts = [...want.values()].filter((t) => t.name.startsWith(`blk.${l.layer}.`));
    const n = ts.reduce((a, t) => a + t.elements, 0);
    close(l.meanSumSq, ts.reduce((a, t) => a + t.elements * t.sumSq, 0) / n, `layer ${l.layer} μΣ`);
    close(l.meanZd, ts.reduce((a, t) => a + t.elements * t.zd, 0) / n, `layer ${l.layer} μZD`);
    close(l.meanCosSim, ts.reduce((a, t) => a + t.elements * t.cosSim, 0) / n, `layer ${l.layer} μCosSim`);
  }
  assert.deepEqual(stats.layers.map((l) => l.layer), [0, 1, 2]);
}

test('statistics equal an independent float64 computation from the definitions (dense, MoE with an idle expert, output, no-token entry)', () => {
  const s = imatrixStatistics(SAMPLE);
  checkAgainst(s, SAMPLE);
  const byName = new Map(s.tensors.map((t) => [t.name, t]));
  // The cases the definitions single out.
  assert.equal(byName.get('blk.1.ffn_up_exps.weight')!.elements, 64, 'the idle expert is left out');
  assert.equal(byName.get('blk.0.attn_q.weight')!.cosSim, 0, 'block 0 has no previous block');
  assert.equal(byName.get('blk.2.attn_q.weight')!.cosSim, 0, 'a previous tensor of another size is not compared');
  assert.ok(byName.get('blk.1.attn_q.weight')!.cosSim > 0);
  assert.deepEqual([byName.get('output.weight')!.layer, byName.get('output.weight')!.tensor], ['-', 'output']);
  assert.deepEqual([byName.get('blk.1.ffn_down.weight')!.layer, byName.get('blk.1.ffn_down.weight')!.tensor], ['1', 'ffn_down']);
  assert.ok(byName.get('blk.0.attn_q.weight')!.active < 1, 'zeros and tiny values are inactive');
});

test('a .dat file of the same matrix gives the same statistics (its sums are per-token means times ncall)', async () => {
  const dat = join(dir, 's.imatrix.dat');
  await writeImatrixDat(dat, SAMPLE);
  const m = await readImatrix(dat);
  const s = imatrixStatistics(m);
  const g = imatrixStatistics(SAMPLE);
  // The .dat form drops no-token entries and stores 1 for an idle expert (upstream writes it so).
  assert.deepEqual(s.skipped, []);
  for (const t of g.tensors.filter((x) => x.name !== 'blk.1.ffn_up_exps.weight')) {
    const d = s.tensors.find((x) => x.name === t.name)!;
    for (const k of ['sumSq', 'min', 'max', 'mean', 'stddev', 'entropy', 'zd'] as const) close(d[k], t[k], `.dat ${t.name} ${k}`);
  }
});

test('CLI: imatrix --in-file X --show-statistics prints the tables, --json the figures; inspect carries the same figures', async () => {
  const file = join(dir, 's.imatrix.gguf');
  await writeImatrixGguf(file, SAMPLE);
  const text = runCli(['imatrix', '--in-file', file, '--show-statistics']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /Computing statistics for .*s\.imatrix\.gguf \(8 tensors\)/);
  assert.match(text.stdout, /Σ\(Act²\)\t.*Min.*Max.*μ.*σ.*% Active\tN\t.*Entropy\tE \(norm\)\tZD\t.*CosSim/);
  const s = imatrixStatistics(SAMPLE);
  const q1 = s.tensors.find((t) => t.name === 'blk.1.attn_q.weight')!;
  const row = text.stdout.split('\n').find((l) => l.startsWith('    1\tattn_q'))!;
  assert.ok(row, text.stdout);
  const cells = row.split('\t').map((c) => c.trim());
  assert.deepEqual(cells, ['1', 'attn_q', q1.sumSq.toFixed(2), q1.min.toFixed(4), q1.max.toFixed(4), q1.mean.toFixed(2), q1.stddev.toFixed(2), `${(q1.active * 100).toFixed(2)}%`, '64', q1.entropy.toFixed(4), `${q1.entropyNorm.toFixed(2)}%`, `${(100 * q1.zd).toFixed(2)}%`, q1.cosSim.toFixed(4)]);
  assert.match(text.stdout, /Computing weighted average statistics per layer \(3 layers\)/);
  assert.match(text.stdout, /No tokens \(skipped\): blk\.2\.attn_k\.weight/);

  const json = runCli(['imatrix', '--in-file', file, '--show-statistics', '--json']);
  assert.equal(json.status, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { ok: boolean; result: { kind: string; file: string; format: string; tensors: TensorStatistics[]; layers: unknown[]; skipped: string[] } };
  assert.deepEqual([doc.ok, doc.result.kind, doc.result.file, doc.result.format], [true, 'imatrix-statistics', file, 'gguf']);
  assert.deepEqual(Object.keys(doc.result.tensors[0]!).sort(), ['active', 'cosSim', 'elements', 'entropy', 'entropyNorm', 'layer', 'max', 'mean', 'min', 'name', 'stddev', 'sumSq', 'tensor', 'zd']);
  assert.deepEqual(doc.result.tensors, s.tensors);
  assert.deepEqual(doc.result.layers, s.layers);
  assert.deepEqual(doc.result.skipped, s.skipped);

  const ins = runCli(['inspect', file, '--json']);
  assert.equal(ins.status, 0, ins.stderr);
  assert.deepEqual((JSON.parse(ins.stdout) as { result: { statistics: unknown } }).result.statistics, { tensors: s.tensors, layers: s.layers, skipped: s.skipped });
  assert.match(runCli(['inspect', file]).stdout, /weighted average statistics per layer[\s\S]*--show-statistics/);

  // Upstream's rule: one file, no model.
  const two = runCli(['imatrix', '--in-file', file, '--in-file', file, '--show-statistics']);
  assert.notEqual(two.status, 0);
  assert.match(two.stderr, /exactly one --in-file/);
});
