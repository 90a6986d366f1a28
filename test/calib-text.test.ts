import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCalibDocuments, calibrationSet, shuffledIndices } from '../src/pipeline/calib-text.ts';
import { loadEvalText } from '../src/pipeline/eval-text.ts';
import { ForgeError } from '../formats/errors.ts';

// A byte tokenizer: enough to check the sampling logic without a model.
const bytes = async (t: string) => Int32Array.from(Buffer.from(t, 'utf8'));

test('default calibration corpus: State of the Union speeches, disjoint from the default eval text', async () => {
  const corpus = await loadCalibDocuments();
  assert.ok(corpus.docs.length > 200, `${corpus.docs.length} documents`);
  assert.match(corpus.source, /State of the Union/);
  const evalText = (await loadEvalText()).text;
  // No calibration document shares even a 200-character passage with the eval text.
  const probe = evalText.slice(5000, 5200);
  assert.ok(!corpus.docs.some((d) => d.includes(probe)));
  assert.ok(!evalText.includes(corpus.docs[0]!.slice(1000, 1200)));
});

test('sampling is deterministic under a seed, different under another, with BOS at each sample start', async () => {
  const corpus = await loadCalibDocuments();
  const opts = { samples: 8, seqlen: 64, seed: 42, tokenize: bytes, bos: 1 };
  const a = await calibrationSet(corpus, opts);
  const b = await calibrationSet(corpus, opts);
  const c = await calibrationSet(corpus, { ...opts, seed: 7 });
  assert.equal(a.nSeq, 8);
  assert.equal(a.nTok, 64);
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  for (let s = 0; s < a.nSeq; s++) assert.equal(a.tokens[s * 64], 1);
  assert.deepEqual(shuffledIndices(5, 3).sort(), [0, 1, 2, 3, 4]);
});

test('--calib: plain text is one document, JSONL gives one per line; bad input is a typed error naming the file and line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'calib-'));
  try {
    const txt = join(dir, 'c.txt');
    await writeFile(txt, 'hello world '.repeat(50));
    assert.deepEqual((await loadCalibDocuments(txt)).docs.length, 1);
    const jl = join(dir, 'c.jsonl');
    await writeFile(jl, '{"text": "one"}\n\n{"text": "two", "id": 3}\n');
    assert.deepEqual((await loadCalibDocuments(jl)).docs, ['one', 'two']);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text": "one"}\n{"content": "two"}\n');
    await assert.rejects(loadCalibDocuments(bad), (e: ForgeError) => e.code === 'CALIB_FORMAT' && /bad\.jsonl: line 2 has no string "text"/.test(e.message));
    const notJson = join(dir, 'x.jsonl');
    await writeFile(notJson, '{"text": "one"}\n{oops\n');
    await assert.rejects(loadCalibDocuments(notJson), (e: ForgeError) => e.code === 'CALIB_FORMAT' && /line 2 is not JSON/.test(e.message));
    const short = await loadCalibDocuments(txt);
    await assert.rejects(calibrationSet(short, { samples: 4, seqlen: 4096, seed: 0, tokenize: bytes, bos: -1 }), (e: ForgeError) => e.code === 'CALIB_TOO_SHORT' && e.message.includes(txt));
    const few = await calibrationSet(short, { samples: 100, seqlen: 100, seed: 0, tokenize: bytes, bos: -1 });
    assert.equal(few.nSeq, 6); // 600 bytes of text: six samples of 100, fewer than the 100 asked for
    await assert.rejects(loadCalibDocuments(join(dir, 'missing.txt')), (e: ForgeError) => e.kind === 'io' && e.message.includes('missing.txt'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
