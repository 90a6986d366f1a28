import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { parseHubSource } from '../src/hub/source.ts';
import { globToRegExp, selectFiles } from '../src/hub/file-selection.ts';
import { assertSafeRepoPath } from '../src/hub/safe-path.ts';
import { hubCacheDir, hubEndpoint, hubOffline, hubToken } from '../src/hub/env.ts';
import { TransferMeter } from '../src/hub/progress.ts';
import { gitBlobSha1 } from '../src/hub/blob-hash.ts';
import { ForgeError } from '../formats/errors.ts';

const usage = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ForgeError && e.kind === 'usage' && e.code === 'BAD_HUB_SOURCE' && re.test(e.message));

test('parseHubSource: repo, revision and file forms', () => {
  assert.equal(parseHubSource('./models/llama'), null);
  assert.equal(parseHubSource('/abs/path'), null);
  assert.deepEqual(parseHubSource('hf:TinyLlama/TinyLlama-1.1B-Chat-v1.0'), { repo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0' });
  assert.deepEqual(parseHubSource('hf:org/name@main'), { repo: 'org/name', revision: 'main' });
  assert.deepEqual(parseHubSource('hf:org/name@v1.2'), { repo: 'org/name', revision: 'v1.2' });
  const sha = 'a'.repeat(40);
  assert.deepEqual(parseHubSource(`hf:org/name@${sha}`), { repo: 'org/name', revision: sha });
  assert.deepEqual(parseHubSource('hf:org/name@refs/pr/12'), { repo: 'org/name', revision: 'refs/pr/12' });
  assert.deepEqual(parseHubSource('hf:org/name/model.gguf'), { repo: 'org/name', path: 'model.gguf' });
  assert.deepEqual(parseHubSource('hf:org/name@dev/sub/dir/model-Q4_K_M.gguf'), { repo: 'org/name', revision: 'dev', path: 'sub/dir/model-Q4_K_M.gguf' });
  assert.deepEqual(parseHubSource('hf://org/name'), { repo: 'org/name' });
});

test('parseHubSource: malformed sources are UsageErrors naming the source', () => {
  usage(() => parseHubSource('hf:'), /'hf:'/);
  usage(() => parseHubSource('hf:name-only'), /hf:name-only/);
  usage(() => parseHubSource('hf:org/name@'), /hf:org\/name@/);
  usage(() => parseHubSource('hf:org/na me'), /invalid Hugging Face repo id 'org\/na me'/);
  usage(() => parseHubSource('hf:org--x/name'), /no '--'/);
  usage(() => parseHubSource('hf:org/..'), /hf:org\/\.\./);
  usage(() => parseHubSource('hf:org/name.git'), /name\.git/);
  usage(() => parseHubSource('hf:-org/name'), /-org/);
  usage(() => parseHubSource('hf:org/name@../../etc'), /hf:org\/name@/);
  usage(() => parseHubSource('hf:org/name/../../x.gguf'), /invalid file path/);
  usage(() => parseHubSource('hf:org/name/a//b.gguf'), /invalid file path/);
  usage(() => parseHubSource(`hf:org/${'n'.repeat(100)}`), /invalid Hugging Face repo id/);
});

test('file selection: what conversion needs by default, the rest only with --include (fnmatch rules)', () => {
  const repo = [
    'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'tokenizer.model',
    'special_tokens_map.json', 'chat_template.jinja', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors',
    'model.safetensors.index.json', 'pytorch_model.bin', 'model.onnx', 'model.gguf', 'README.md', '.gitattributes',
    'onnx/model.safetensors', 'original/consolidated.00.pth', 'merges.txt', 'vocab.json',
  ].map((p) => ({ path: p }));
  const names = (inc?: string[]) => selectFiles(repo, inc).map((f) => f.path).sort();
  assert.deepEqual(names(), [
    'chat_template.jinja', 'config.json', 'generation_config.json', 'merges.txt', 'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'special_tokens_map.json', 'tokenizer.json',
    'tokenizer.model', 'tokenizer_config.json', 'vocab.json',
  ]);
  assert.ok(names(['*.gguf']).includes('model.gguf'));
  assert.ok(names(['original/']).includes('original/consolidated.00.pth'));
  assert.ok(names(['*.safetensors']).includes('onnx/model.safetensors'), 'fnmatch: * crosses /');
  assert.ok(!names(['model.?nnx']).includes('model.gguf'));
  assert.ok(names(['model.?nnx']).includes('model.onnx'));
  assert.ok(names(['[p]ytorch_*']).includes('pytorch_model.bin'));
  assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('axb'), 'regex characters are literal');
});

test('repo paths that could escape the snapshot are refused', () => {
  for (const ok of ['model.safetensors', 'sub/dir/x.json', 'a..b.txt']) assertSafeRepoPath('o/r', ok);
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\..\\x', '', 'a//b', './x', 'a/.', 'x\0y']) {
    assert.throws(() => assertSafeRepoPath('o/r', bad), (e: unknown) => e instanceof ForgeError && e.kind === 'format' && e.code === 'UNSAFE_PATH' && e.message.includes('o/r'), JSON.stringify(bad));
  }
});

test('environment: cache dir, endpoint, token and offline follow huggingface_hub', () => {
  const home = os.homedir();
  assert.equal(hubCacheDir(undefined, {}), path.join(home, '.cache', 'huggingface', 'hub'));
  assert.equal(hubCacheDir(undefined, { XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  assert.equal(hubCacheDir(undefined, { HF_HOME: '/h', XDG_CACHE_HOME: '/x' }), '/h/hub');
  assert.equal(hubCacheDir(undefined, { HF_HUB_CACHE: '/c', HF_HOME: '/h' }), '/c');
  assert.equal(hubCacheDir('/flag', { HF_HUB_CACHE: '/c' }), '/flag');
  assert.equal(hubEndpoint(undefined, {}), 'https://huggingface.co');
  assert.equal(hubEndpoint(undefined, { HF_ENDPOINT: 'https://mirror.example/' }), 'https://mirror.example');
  assert.equal(hubToken(undefined, { HF_TOKEN: 'a' }), 'a');
  assert.equal(hubToken('b', { HF_TOKEN: 'a' }), 'b');
  assert.equal(hubToken(undefined, {}), undefined);
  for (const v of ['1', 'true', 'YES', 'on']) assert.equal(hubOffline(undefined, { HF_HUB_OFFLINE: v }), true);
  for (const v of ['0', '', 'no']) assert.equal(hubOffline(undefined, { HF_HUB_OFFLINE: v }), false);
  assert.equal(hubOffline(false, { HF_HUB_OFFLINE: '1' }), false);
});

test('transfer meter: done/total, smoothed rate and ETA; resumed bytes do not inflate the rate', () => {
  let now = 0;
  const m = new TransferMeter(10_000, () => now);
  m.skip(4_000); // resumed from a partial file
  assert.deepEqual(m.snapshot(), { bytesDone: 4_000, bytesTotal: 10_000, rate: 0, etaSeconds: null });
  now = 500;
  m.add(1_000); // 1000 B in 0.5 s
  let s = m.snapshot();
  assert.equal(s.rate, 2_000);
  assert.equal(s.etaSeconds, 5_000 / 2_000);
  now = 1_000;
  m.add(2_000); // 4000 B/s sample, smoothed
  s = m.snapshot();
  assert.equal(s.rate, 0.7 * 2_000 + 0.3 * 4_000);
  assert.equal(s.bytesDone, 7_000);
  assert.ok(Math.abs(s.etaSeconds! - 3_000 / s.rate) < 1e-9);
  m.add(3_000);
  assert.equal(m.snapshot().etaSeconds, 0);
});

test('git blob id matches git hash-object', () => {
  // `printf 'hello\n' | git hash-object --stdin`
  assert.equal(gitBlobSha1(Buffer.from('hello\n')), 'ce013625030ba8dba906f756967f9e9ca394464a');
});
