import { FormatError } from '../../errors.ts';
import { BpeModel } from './bpe-model.ts';
import { checkTokenizerJson } from '../tokenizer-shape.ts';
import { buildNormalizer, type Normalizer } from './normalizers.ts';
import { buildPostProcessor, type PostProcessor } from './post-processors.ts';
import { buildPreTokenizer, type PreTokenizer } from './pre-tokenizers.ts';

type Json = Record<string, any>;

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

/**
 * A port of the HF `tokenizers` encode pipeline for BPE models: split the input on added tokens,
 * then per segment normalizer → pre-tokenizer → BPE model, then the post-processor (which adds BOS
 * for Llama-style templates). Used to compute llama.cpp's pre-tokenizer hash and to check ids.
 */
export class HfTokenizer {
  readonly model: BpeModel;
  readonly addedTokens: AddedToken[];
  private readonly normalizer: Normalizer;
  private readonly preTokenizer: PreTokenizer;
  private readonly postProcessor: PostProcessor;
  private readonly addedSplitter: RegExp | null;
  private readonly addedByContent: Map<string, AddedToken>;

  constructor(json: Json, readonly file: string) {
    if (!json || typeof json !== 'object' || !json.model) throw new FormatError('TOKENIZER_JSON', 'tokenizer.json has no "model"', { file });
    checkTokenizerJson(json, file);
    this.model = new BpeModel(json.model, file);
    this.addedTokens = ((json.added_tokens ?? []) as Json[]).map((t) => ({
      id: Number(t.id), content: String(t.content), special: t.special === true,
      normalized: t.normalized === true, lstrip: t.lstrip === true, rstrip: t.rstrip === true,
    }));
    this.addedByContent = new Map(this.addedTokens.map((t) => [t.content, t]));
    // Longest first, as HF's leftmost-longest Aho-Corasick match does.
    const contents = [...this.addedByContent.keys()].sort((a, b) => b.length - a.length);
    this.addedSplitter = contents.length ? new RegExp(contents.map(escapeRegex).join('|'), 'gu') : null;
    this.normalizer = buildNormalizer(json.normalizer, file);
    this.preTokenizer = buildPreTokenizer(json.pre_tokenizer, file);
    this.postProcessor = buildPostProcessor(json.post_processor, file, (t) => this.tokenToId(t));
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.model.vocab.get(token);
  }

  /** Like Python `tokenizer.encode(text)`: special tokens are added unless told otherwise. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const ids: number[] = [];
    for (const seg of this.splitOnAdded(text)) {
      if (typeof seg === 'number') { ids.push(seg); continue; }
      if (!seg.text) continue;
      const words = this.preTokenizer([this.normalizer(seg.text)], seg.first);
      for (const w of words) for (const id of this.model.tokenize(w)) ids.push(id);
    }
    return opts.addSpecialTokens === false ? ids : this.postProcessor(ids);
  }

  private splitOnAdded(text: string): ({ text: string; first: boolean } | number)[] {
    if (!this.addedSplitter) return [{ text, first: true }];
    const out: ({ text: string; first: boolean } | number)[] = [];
    let last = 0;
    for (const m of text.matchAll(this.addedSplitter)) {
      const tok = this.addedByContent.get(m[0])!;
      let before = text.slice(last, m.index);
      if (tok.lstrip) before = before.replace(/\s+$/u, '');
      out.push({ text: before, first: last === 0 });
      out.push(tok.id);
      last = m.index! + m[0].length;
      if (tok.rstrip) { const ws = /^\s*/u.exec(text.slice(last))![0]; last += ws.length; }
    }
    out.push({ text: text.slice(last), first: last === 0 });
    return out;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
