/**
 * A llama.cpp vocabulary built from a GGUF's `tokenizer.ggml.*` key/values, exactly as
 * `llama_vocab::impl::load` builds it: model type (SPM "llama" or BPE "gpt2"), pre-tokenizer, token
 * texts/scores/attributes, BPE merge ranks, special ids and the add_bos/add_eos/add_space_prefix
 * flags with their per-type defaults. One loader for both sources: an HF folder is first turned
 * into the same key/values convert writes (see sources.ts).
 */
import { FormatError, UnsupportedError } from '../errors.ts';
import { GgufValueType, type GgufKv } from '../gguf/value-types.ts';
import { PRE_TOKENIZERS, type PreTokenizer } from './pre-tokenizers.ts';
import { applyModelAttributes, ATTR, attrFromTokenType, fixUpAttributes, type SpecialIds } from './token-attrs.ts';

export interface Vocab {
  type: 'spm' | 'bpe';
  /** `tokenizer.ggml.pre` as written ('default' for SPM). */
  pre: string;
  /** BPE only: the pre-tokenizer regexes and flags. */
  preTokenizer: PreTokenizer | null;
  tokens: readonly string[];
  scores: Float32Array;
  attrs: Uint16Array;
  /** Text → id (the last id when two tokens share a text, as llama.cpp's token_to_id). */
  tokenToId: ReadonlyMap<string, number>;
  /** BPE merge rank by `left + '\u0000' + right`. */
  bpeRanks: ReadonlyMap<string, number>;
  special: Readonly<SpecialIds>;
  /** Ids that end generation (llama_vocab_is_eog). */
  eog: ReadonlySet<number>;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
  cleanSpaces: boolean;
  ignoreMerges: boolean;
  /** CONTROL / USER_DEFINED / UNKNOWN ids, longest text (in UTF-8 bytes) first: the special-token partition order. */
  specialTokens: Int32Array;
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

function kvMap(kvs: readonly GgufKv[]): Map<string, GgufKv> {
  return new Map(kvs.map((kv) => [kv.key, kv]));
}

function getString(kvs: Map<string, GgufKv>, key: string): string | undefined {
  const kv = kvs.get(key);
  if (!kv) return undefined;
  if (kv.type !== GgufValueType.STRING) throw new FormatError('TOKENIZER_KV', `${key} must be a string`, {});
  return kv.value as string;
}

function getUint(kvs: Map<string, GgufKv>, key: string): number | undefined {
  const kv = kvs.get(key);
  if (!kv) return undefined;
  if (kv.type === GgufValueType.ARRAY || typeof kv.value === 'string' || typeof kv.value === 'boolean') {
    throw new FormatError('TOKENIZER_KV', `${key} must be an integer`, {});
  }
  return Number(kv.value);
}

function getBool(kvs: Map<string, GgufKv>, key: string): boolean | undefined {
  const kv = kvs.get(key);
  if (!kv) return undefined;
  if (kv.type !== GgufValueType.BOOL) throw new FormatError('TOKENIZER_KV', `${key} must be a bool`, {});
  return kv.value as boolean;
}

function getArray(kvs: Map<string, GgufKv>, key: string, elem: GgufValueType[]): ArrayLike<unknown> | undefined {
  const kv = kvs.get(key);
  if (!kv) return undefined;
  if (kv.type !== GgufValueType.ARRAY || !elem.includes(kv.elemType)) {
    throw new FormatError('TOKENIZER_KV', `${key} must be an array of ${elem.map((e) => GgufValueType[e]).join(' or ')}`, {});
  }
  return kv.value as ArrayLike<unknown>;
}

const SPECIAL_KEYS: readonly [keyof SpecialIds, string][] = [
  ['bos', 'bos_token_id'], ['eos', 'eos_token_id'], ['eot', 'eot_token_id'], ['eom', 'eom_token_id'],
  ['unk', 'unknown_token_id'], ['sep', 'seperator_token_id'], ['pad', 'padding_token_id'], ['mask', 'mask_token_id'],
  ['fimPre', 'fim_pre_token_id'], ['fimSuf', 'fim_suf_token_id'], ['fimMid', 'fim_mid_token_id'],
  ['fimPad', 'fim_pad_token_id'], ['fimRep', 'fim_rep_token_id'], ['fimSep', 'fim_sep_token_id'],
  ['fimPre', 'prefix_token_id'], ['fimSuf', 'suffix_token_id'], ['fimMid', 'middle_token_id'],
];

/** `llama_vocab::impl::load` over key/values (a GGUF's, or the ones convert would write). */
export function loadVocab(kvList: readonly GgufKv[]): Vocab {
  const kvs = kvMap(kvList);
  const model = getString(kvs, 'tokenizer.ggml.model');
  if (model === undefined) throw new FormatError('TOKENIZER_KV', 'tokenizer.ggml.model is missing: this GGUF has no vocabulary', {});
  const preName = getString(kvs, 'tokenizer.ggml.pre') ?? '';
  const ids: SpecialIds = {
    bos: null, eos: null, eot: null, eom: null, unk: null, sep: null, pad: null, mask: null,
    fimPre: null, fimSuf: null, fimMid: null, fimPad: null, fimRep: null, fimSep: null,
  };
  let type: Vocab['type'];
  let preTokenizer: PreTokenizer | null = null;
  let addBos = false;
  let addEos = false;
  let addSpacePrefix = false;
  let cleanSpaces = false;
  const bpeRanks = new Map<string, number>();
  if (model === 'llama') {
    type = 'spm';
    Object.assign(ids, { bos: 1, eos: 2, unk: 0 });
    addSpacePrefix = true;
    addBos = true;
  } else if (model === 'gpt2') {
    type = 'bpe';
    const merges = getArray(kvs, 'tokenizer.ggml.merges', [GgufValueType.STRING]);
    if (!merges) throw new FormatError('TOKENIZER_KV', 'tokenizer.ggml.merges is missing (needed by a gpt2 BPE vocabulary)', {});
    for (let i = 0; i < merges.length; i++) {
      const word = merges[i] as string;
      const pos = word.indexOf(' ', 1);
      const key = pos < 0 ? '\u0000' : word.slice(0, pos) + '\u0000' + word.slice(pos + 1);
      if (!bpeRanks.has(key)) bpeRanks.set(key, i); // std::map::emplace keeps the first
    }
    Object.assign(ids, { bos: 11, eos: 11 });
    const name = preName === '' ? 'default' : preName;
    preTokenizer = PRE_TOKENIZERS[name] ?? null;
    if (!preTokenizer) throw new UnsupportedError('UNKNOWN_PRE_TOKENIZER', `tokenizer.ggml.pre '${name}' is not a pre-tokenizer we implement`, {});
    cleanSpaces = preTokenizer.cleanSpaces;
    addBos = preTokenizer.addBos;
  } else {
    throw new UnsupportedError('UNSUPPORTED_TOKENIZER', `tokenizer.ggml.model '${model}' is not supported (only llama and gpt2)`, {});
  }
  addSpacePrefix = getBool(kvs, 'tokenizer.ggml.add_space_prefix') ?? addSpacePrefix;

  const tokenList = getArray(kvs, 'tokenizer.ggml.tokens', [GgufValueType.STRING]);
  if (!tokenList) throw new FormatError('TOKENIZER_KV', 'tokenizer.ggml.tokens is missing', {});
  const n = tokenList.length;
  const scoresIn = getArray(kvs, 'tokenizer.ggml.scores', [GgufValueType.FLOAT32, GgufValueType.INT32]);
  const typesIn = getArray(kvs, 'tokenizer.ggml.token_type', [GgufValueType.INT32]);
  if (scoresIn && scoresIn.length < n) throw new FormatError('TOKENIZER_KV', `tokenizer.ggml.scores has ${scoresIn.length} entries for ${n} tokens`, {});
  if (typesIn && typesIn.length < n) throw new FormatError('TOKENIZER_KV', `tokenizer.ggml.token_type has ${typesIn.length} entries for ${n} tokens`, {});
  const tokens: string[] = new Array(n);
  const scores = new Float32Array(n);
  const attrs = new Uint16Array(n);
  const tokenToId = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let word = tokenList[i] as string;
    if (word === '') word = `[EMPTY_${i}]`;
    tokens[i] = word;
    tokenToId.set(word, i);
    scores[i] = scoresIn ? Number(scoresIn[i]) : 0;
    attrs[i] = typesIn ? attrFromTokenType(Number(typesIn[i])) : ATTR.NORMAL;
  }

  for (const [role, key] of SPECIAL_KEYS) {
    const def = ids[role];
    if (def !== null && def >= n) ids[role] = null;
    const v = getUint(kvs, `tokenizer.ggml.${key}`);
    if (v !== undefined && v < n) ids[role] = v;
  }
  addBos = getBool(kvs, 'tokenizer.ggml.add_bos_token') ?? addBos;
  addEos = getBool(kvs, 'tokenizer.ggml.add_eos_token') ?? addEos;

  const eog = fixUpAttributes(tokens, tokenToId, attrs, ids);
  const special: number[] = [];
  for (let id = 0; id < n; id++) if (attrs[id]! & (ATTR.CONTROL | ATTR.USER_DEFINED | ATTR.UNKNOWN)) special.push(id);
  const bytes = special.map((id) => utf8Length(tokens[id]!));
  const order = special.map((_, i) => i).sort((a, b) => bytes[b]! - bytes[a]! || a - b);
  const specialTokens = Int32Array.from(order, (i) => special[i]!);
  applyModelAttributes(getString(kvs, 'general.name') ?? '', tokenToId, attrs, specialTokens);

  return {
    type, pre: preName === '' ? 'default' : preName, preTokenizer, tokens, scores, attrs, tokenToId, bpeRanks, special: ids, eog,
    addBos, addEos, addSpacePrefix, cleanSpaces, ignoreMerges: preTokenizer?.ignoreMerges ?? false, specialTokens,
  };
}
