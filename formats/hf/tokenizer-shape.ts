/**
 * Shape checks for the tokenizer JSON files, run once when they are read: everything downstream
 * (the vocab builders, SpecialVocab, the JS tokenizer that computes the pre-tokenizer hash) may then
 * rely on the types it reads. A wrong shape is a FormatError (exit 4) naming the file and the field,
 * never a TypeError from deep inside the converter. Values are only checked for type, not meaning:
 * which ids and tokens make a consistent vocabulary is decided where the vocabulary is built.
 */
import { FormatError, untrusted } from '../errors.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function bad(file: string, field: string, want: string, got: unknown): FormatError {
  return new FormatError('TOKENIZER_FIELD', `${file}: field "${untrusted(field)}" must be ${want}, got ${describe(got)}`, { file, field });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string "${untrusted(v, 40)}"`;
  return `${typeof v} ${untrusted(String(v), 40)}`;
}

/** `added_tokens` of tokenizer.json: a list of {id, content, …}. */
function checkAddedTokens(v: unknown, file: string, field: string): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) throw bad(file, field, 'a list of tokens', v);
  v.forEach((t, i) => {
    if (!isObject(t)) throw bad(file, `${field}[${i}]`, 'an object with "id" and "content"', t);
    if (!isId(t.id)) throw bad(file, `${field}[${i}].id`, 'a non-negative integer', t.id);
    if (typeof t.content !== 'string') throw bad(file, `${field}[${i}].content`, 'a string', t.content);
  });
}

/** The list a Sequence component holds, by component kind. */
const SEQUENCE_FIELD: Record<string, string> = { normalizer: 'normalizers', pre_tokenizer: 'pretokenizers', post_processor: 'processors', decoder: 'decoders' };

/** A pipeline component (normalizer, pre_tokenizer, post_processor, decoder): null or {type, …}, Sequences recursively. */
function checkComponent(v: unknown, file: string, field: string, kind: string, depth = 0): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) throw bad(file, field, 'an object or null', v);
  if (typeof v.type !== 'string') throw bad(file, `${field}.type`, 'a string', v.type);
  if (v.type !== 'Sequence') return;
  const listField = SEQUENCE_FIELD[kind]!;
  const list = v[listField];
  if (!Array.isArray(list)) throw bad(file, `${field}.${listField}`, 'a list', list);
  if (depth > 16) throw bad(file, field, 'nested at most 16 Sequences deep', v);
  list.forEach((c, i) => {
    if (c === null) throw bad(file, `${field}.${listField}[${i}]`, 'an object', c);
    checkComponent(c, file, `${field}.${listField}[${i}]`, kind, depth + 1);
  });
}

/** tokenizer.json: model {type, vocab, merges, …}, added_tokens and the pipeline components. */
export function checkTokenizerJson(json: Json, file: string): void {
  const model = json.model;
  if (model !== undefined) {
    if (!isObject(model)) throw bad(file, 'model', 'an object', model);
    if (model.type !== undefined && typeof model.type !== 'string') throw bad(file, 'model.type', 'a string', model.type);
    if (model.type === 'BPE') {
      if (!isObject(model.vocab)) throw bad(file, 'model.vocab', 'an object mapping tokens to ids', model.vocab);
      for (const [token, id] of Object.entries(model.vocab)) {
        if (!isId(id)) throw bad(file, `model.vocab["${untrusted(token, 40)}"]`, 'a non-negative integer id', id);
      }
    }
    const merges = model.merges;
    if (merges !== undefined && merges !== null) {
      if (!Array.isArray(merges)) throw bad(file, 'model.merges', 'a list', merges);
      merges.forEach((m, i) => {
        const ok = typeof m === 'string' || (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string');
        if (!ok) throw bad(file, `model.merges[${i}]`, 'a "left right" string or a pair of strings', m);
      });
    }
    for (const key of ['unk_token', 'continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      const v = model[key];
      if (v !== undefined && v !== null && typeof v !== 'string') throw bad(file, `model.${key}`, 'a string or null', v);
    }
  }
  checkAddedTokens(json.added_tokens, file, 'added_tokens');
  for (const kind of Object.keys(SEQUENCE_FIELD)) checkComponent(json[kind], file, kind, kind);
}

/** tokenizer_config.json: added_tokens_decoder entries, special-token entries and chat_template. */
export function checkTokenizerConfig(json: Json, file: string): void {
  const decoder = json.added_tokens_decoder;
  if (decoder !== undefined && decoder !== null) {
    if (!isObject(decoder)) throw bad(file, 'added_tokens_decoder', 'an object mapping ids to tokens', decoder);
    for (const [key, entry] of Object.entries(decoder)) {
      if (!/^\d+$/.test(key) || !Number.isSafeInteger(Number(key))) throw bad(file, `added_tokens_decoder["${untrusted(key, 40)}"]`, 'keyed by a token id', key);
      if (!isObject(entry) || typeof entry.content !== 'string') throw bad(file, `added_tokens_decoder["${key}"]`, 'an object with a string "content"', entry);
    }
  }
  for (const [key, v] of Object.entries(json)) {
    if (!/^[a-z]+_token$/.test(key) || v === null || v === undefined || typeof v === 'string') continue;
    if (!isObject(v) || (v.content !== undefined && typeof v.content !== 'string')) throw bad(file, key, 'a string or an object with a string "content"', v);
  }
  checkChatTemplate(json.chat_template, file);
}

/** `chat_template` of tokenizer_config.json or chat_template.json: a string or named templates. */
export function checkChatTemplate(template: unknown, file: string): void {
  if (template === undefined || template === null || typeof template === 'string') return;
  if (!Array.isArray(template)) throw bad(file, 'chat_template', 'a string or a list of {name, template}', template);
  template.forEach((t, i) => { if (!isObject(t)) throw bad(file, `chat_template[${i}]`, 'an object with "name" and "template"', t); });
}

/** added_tokens.json: token → id. */
export function checkAddedTokensJson(json: Json, file: string): void {
  for (const [token, id] of Object.entries(json)) {
    if (!isId(id)) throw bad(file, `"${untrusted(token, 40)}"`, 'a non-negative integer id', id);
  }
}
