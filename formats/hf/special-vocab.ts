import { join } from 'node:path';
import { FormatError } from '../errors.ts';
import { arr, bool, GgufValueType, str, u32 } from '../gguf/value-types.ts';
import type { KvList } from './kv-list.ts';
import type { TokenizerFiles } from './tokenizer-files.ts';

type Json = Record<string, any>;

/** GGUF key of each special-token kind gguf-py has a writer method for (cls has none). */
const ID_KEYS: Record<string, string> = {
  bos: 'tokenizer.ggml.bos_token_id',
  eos: 'tokenizer.ggml.eos_token_id',
  unk: 'tokenizer.ggml.unknown_token_id',
  sep: 'tokenizer.ggml.seperator_token_id', // sic: llama.cpp's key
  pad: 'tokenizer.ggml.padding_token_id',
  mask: 'tokenizer.ggml.mask_token_id',
  eot: 'tokenizer.ggml.eot_token_id',
  eom: 'tokenizer.ggml.eom_token_id',
};
const ADD_KEYS: Record<string, string> = {
  bos: 'tokenizer.ggml.add_bos_token',
  eos: 'tokenizer.ggml.add_eos_token',
  sep: 'tokenizer.ggml.add_sep_token',
};

/**
 * gguf-py's `SpecialVocab`: special-token ids, add_*_token flags, chat template and (for BPE)
 * merges, gathered from tokenizer.json, tokenizer_config.json and config.json in the order and with
 * the precedence convert uses. Its quirks are kept on purpose (e.g. a template's leading token only
 * counts as BOS when it equals tokenizer_config's bos_token string), since they decide the bytes.
 */
export class SpecialVocab {
  merges: string[] = [];
  readonly ids = new Map<string, number>();
  readonly add = new Map<string, boolean>();
  chatTemplate: string | Json[] | null = null;
  private types = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'];

  constructor(files: TokenizerFiles, opts: { loadMerges: boolean; nVocab?: number }) {
    this.loadFromTokenizerJson(files, opts);
    this.loadFromConfig(files.config, opts.nVocab, join(files.dir, 'config.json'));
  }

  /** Append the KVs in gguf-py's `SpecialVocab.add_to_gguf` order. */
  addTo(kv: KvList): void {
    if (this.merges.length) kv.set('tokenizer.ggml.merges', arr(GgufValueType.STRING, this.merges));
    for (const [typ, id] of this.ids) if (ID_KEYS[typ]) kv.set(ID_KEYS[typ], u32(id));
    for (const [typ, v] of this.add) if (ADD_KEYS[typ]) kv.set(ADD_KEYS[typ], bool(v));
    if (this.chatTemplate !== null) addChatTemplate(kv, this.chatTemplate);
  }

  /** `file` is where the id came from, for the error (ids are written as UINT32). */
  setId(typ: string, id: unknown, nVocab?: number, file?: string): void {
    if (typeof id !== 'number' || !Number.isInteger(id)) return;
    if (id < 0 || id > 0xffffffff) throw new FormatError('SPECIAL_TOKEN', `invalid id ${id} for special token type ${typ}`, { file, field: `${typ}_token_id` });
    if (nVocab !== undefined && id >= nVocab) return; // convert warns and skips
    if (!this.ids.has(typ)) this.ids.set(typ, id);
  }

  private loadFromTokenizerJson(files: TokenizerFiles, opts: { loadMerges: boolean; nVocab?: number }): void {
    const tok = files.tokenizerJson;
    const tc = files.tokenizerConfig ? { ...files.tokenizerConfig } : null;
    const addedTokens: Json[] = tok ? (tok.added_tokens ?? []) : [];
    if (tok && opts.loadMerges) this.merges = mergesOf(tok, files.tokenizerJsonPath);
    if (tok) {
      const truthy = (v: unknown) => !!v && !(typeof v === 'object' && Object.keys(v as object).length === 0);
      const hasTc = truthy(tc);
      let bos = tc?.bos_token;
      let cls = tc?.cls_token;
      let eos = tc?.eos_token;
      let sep = tc?.sep_token;
      if (!truthy(bos) && truthy(cls) && hasTc) tc!.bos_token = bos = cls;
      if (!truthy(eos) && truthy(sep) && hasTc) tc!.eos_token = eos = sep;
      const post = tok.post_processor;
      for (const proc of (post ? (post.processors ?? [post]) : []) as Json[]) {
        if (proc.type === 'RobertaProcessing') {
          this.add.set('bos', true); this.add.set('eos', true); this.add.set('sep', true);
          if (!truthy(cls) && hasTc) tc!.cls_token = cls = (proc.cls ?? [bos])[0];
          if (!truthy(sep) && hasTc) tc!.sep_token = sep = (proc.sep ?? [eos])[0];
          continue;
        }
        if (proc.type !== 'TemplateProcessing') continue;
        const single: Json[] = proc.single ?? [];
        let pair: Json[] = proc.pair ?? [];
        const specialId = (p: Json | undefined) => p?.SpecialToken?.id as string | undefined;
        let first: string | undefined;
        let last: string | undefined;
        if (single.length > 1) {
          first = specialId(single[0]);
          if (first) {
            if (!hasTc) bos = first;
            this.add.set('bos', first === bos || first === cls);
          }
          last = specialId(single[single.length - 1]);
          if (last) {
            if (!hasTc) eos = last;
            else if (last !== eos) {
              // A trailing token other than EOS: the old EOS becomes EOT (or EOM).
              if (!this.types.includes('eot')) { this.types.push('eot'); tc!.eot_token = eos; }
              else if (!this.types.includes('eom')) { this.types.push('eom'); tc!.eom_token = eos; }
              tc!.eos_token = eos = last;
            }
            this.add.set('eos', last === eos);
          }
        }
        if (pair.length) {
          const start = first && specialId(pair[0]) === first ? 1 : 0;
          const stop = last && specialId(pair[pair.length - 1]) === last ? pair.length - 1 : pair.length;
          pair = pair.slice(start, stop);
          if (pair.length) {
            const a = pair[0]?.Sequence?.id;
            const b = pair[pair.length - 1]?.Sequence?.id;
            const middle = pair.slice(1, -1);
            if (a === 'A' && b === 'B' && middle.length) {
              let addSep = false;
              const e0 = specialId(middle[0]);
              if (e0 && (e0 === sep || e0 === eos) && !last) addSep = true;
              if (middle.length === 2) {
                const e1 = specialId(middle[1]);
                if (e1 && (e1 === sep || e1 === eos)) addSep = true;
              }
              this.add.set('sep', addSep);
              if (addSep && !truthy(sep) && hasTc) tc!.sep_token = eos;
            }
          }
        }
      }
    }
    if (!tc || Object.keys(tc).length === 0) return;
    const template = 'chat_template' in tc ? tc.chat_template : files.chatTemplateFallback;
    if (typeof template === 'string' || Array.isArray(template)) this.chatTemplate = template;
    for (const typ of this.types) {
      const addEntry = tc[`add_${typ}_token`];
      if (typeof addEntry === 'boolean') this.add.set(typ, addEntry);
      const entry = tc[`${typ}_token`];
      const content = typeof entry === 'string' ? entry : typeof entry?.content === 'string' ? entry.content : undefined;
      if (content === undefined) continue;
      const hit = addedTokens.find((t) => t.content === content);
      this.setId(typ, hit?.id, opts.nVocab, files.tokenizerJsonPath);
    }
  }

  private loadFromConfig(config: Json, nVocab: number | undefined, file: string): void {
    for (const typ of this.types) {
      let id = config[`${typ}_token_id`];
      if ((id === undefined || id === null) && config.text_config) id = config.text_config[`${typ}_token_id`];
      this.setId(typ, id, nVocab, file);
    }
  }
}

/** tokenizer.json merges as GGUF strings "left right"; list-of-pairs parts get ' ' → 'Ġ' first. */
function mergesOf(tok: Json, file: string): string[] {
  const merges = tok.model?.merges;
  if (!Array.isArray(merges) || merges.length === 0) return [];
  if (typeof merges[0] === 'string') return merges as string[];
  if (Array.isArray(merges[0]) && merges[0].length === 2 && typeof merges[0][0] === 'string') {
    return (merges as [string, string][]).map((pair) => pair.map((p) => p.replaceAll(' ', '\u0120')).join(' '));
  }
  throw new FormatError('TOKENIZER_MERGES', 'unknown tokenizer merges format', { file });
}

/** gguf-py `add_chat_template`: a string, or named templates (default → the main key). */
function addChatTemplate(kv: KvList, value: string | Json[]): void {
  if (typeof value === 'string') { kv.set('tokenizer.chat_template', str(value)); return; }
  let fallback: string | undefined;
  const names: string[] = [];
  for (const choice of value) {
    const name = String(choice.name ?? '').replace(/[^A-Za-z0-9]/g, '_');
    const template = choice.template;
    if (!name || typeof template !== 'string') continue;
    if (name === 'default') fallback = template;
    else if (!names.includes(name)) {
      names.push(name);
      kv.set(`tokenizer.chat_template.${name}`, str(template));
    }
  }
  if (names.length) kv.set('tokenizer.chat_templates', arr(GgufValueType.STRING, names));
  if (fallback !== undefined) kv.set('tokenizer.chat_template', str(fallback));
}
