import { FormatError } from '../errors.ts';

type Json = Record<string, any>;

/**
 * What transformers' AutoTokenizer (4.57, the converter's pinned version) does to tokenizer.json's
 * post-processor when it loads a folder, which decides the ids `tokenizer.encode` returns and so
 * the pre-tokenizer hash. Only the fast classes with an `update_post_processor` rebuild it, always,
 * from tokenizer_config's add_bos_token / add_eos_token (or their class defaults) as
 * TemplateProcessing "bos:0 $A:0 eos:0"; every other class (PreTrainedTokenizerFast,
 * Qwen2TokenizerFast, GPT2TokenizerFast…) keeps tokenizer.json's post-processor and ignores the flags.
 */
interface RebuildingClass { addBos: boolean; addEos: boolean; bos: string; eos: string }

const REBUILDING_CLASSES: Readonly<Record<string, RebuildingClass>> = {
  LlamaTokenizerFast: { addBos: true, addEos: false, bos: '<s>', eos: '</s>' },
  CodeLlamaTokenizerFast: { addBos: true, addEos: false, bos: '<s>', eos: '</s>' },
  GemmaTokenizerFast: { addBos: true, addEos: false, bos: '<bos>', eos: '<eos>' },
  CohereTokenizerFast: { addBos: true, addEos: false, bos: '<BOS_TOKEN>', eos: '<|END_OF_TURN_TOKEN|>' },
  GPTNeoXTokenizerFast: { addBos: false, addEos: false, bos: '<|endoftext|>', eos: '<|endoftext|>' },
};

/** config.json model_type → AutoTokenizer's fast class when tokenizer_config names none (TOKENIZER_MAPPING). */
const CLASS_BY_MODEL_TYPE: Readonly<Record<string, string>> = {
  llama: 'LlamaTokenizerFast', mistral: 'LlamaTokenizerFast', mixtral: 'LlamaTokenizerFast', phi3: 'LlamaTokenizerFast',
  deepseek_v2: 'LlamaTokenizerFast', deepseek_v3: 'LlamaTokenizerFast', code_llama: 'CodeLlamaTokenizerFast',
  gemma: 'GemmaTokenizerFast', gemma2: 'GemmaTokenizerFast', gemma3: 'GemmaTokenizerFast', gemma3_text: 'GemmaTokenizerFast',
  cohere: 'CohereTokenizerFast', gpt_neox: 'GPTNeoXTokenizerFast',
  qwen2: 'Qwen2TokenizerFast', qwen3: 'Qwen2TokenizerFast', gpt2: 'GPT2TokenizerFast',
};

/** The fast class AutoTokenizer instantiates: tokenizer_config's tokenizer_class (+"Fast"), else by model_type. */
export function fastTokenizerClass(tokenizerConfig: Json | null, modelType: string | undefined): string | undefined {
  const named = tokenizerConfig?.tokenizer_class;
  if (typeof named === 'string') return named.endsWith('Fast') ? named : `${named}Fast`;
  return modelType ? CLASS_BY_MODEL_TYPE[modelType] : undefined;
}

const tokenContent = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as Json).content === 'string' ? (v as Json).content : undefined;

/**
 * tokenizer.json as the HF tokenizer the converter loads will run it: for a class that rebuilds its
 * post-processor, the post-processor replaced by the TemplateProcessing `update_post_processor` makes.
 */
export function asLoadedByTransformers(tokenizerJson: Json, tokenizerConfig: Json | null, modelType: string | undefined): Json {
  const cls = REBUILDING_CLASSES[fastTokenizerClass(tokenizerConfig, modelType) ?? ''];
  if (!cls) return tokenizerJson;
  const flag = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);
  const addBos = flag(tokenizerConfig?.add_bos_token, cls.addBos);
  const addEos = flag(tokenizerConfig?.add_eos_token, cls.addEos);
  const bos = tokenizerConfig && 'bos_token' in tokenizerConfig ? tokenContent(tokenizerConfig.bos_token) : cls.bos;
  const eos = tokenizerConfig && 'eos_token' in tokenizerConfig ? tokenContent(tokenizerConfig.eos_token) : cls.eos;
  const idOf = (t: string) => ((tokenizerJson.added_tokens ?? []) as Json[]).find((a) => a.content === t)?.id ?? tokenizerJson.model?.vocab?.[t];
  const single: Json[] = [];
  const special: Record<string, { id: string; ids: number[]; tokens: string[] }> = {};
  const piece = (t: string | undefined, what: string) => {
    const id = t === undefined ? undefined : idOf(t);
    // transformers raises "add_bos_token = True but bos_token = None"; an unknown token has no id to add.
    if (t === undefined || typeof id !== 'number') throw new FormatError('TOKENIZER_CONFIG', `tokenizer_config.json: ${what} is set but the ${what.replace('add_', '')} is not a token of tokenizer.json`);
    single.push({ SpecialToken: { id: t, type_id: 0 } });
    special[t] = { id: t, ids: [id], tokens: [t] };
  };
  if (addBos) piece(bos, 'add_bos_token');
  single.push({ Sequence: { id: 'A', type_id: 0 } });
  if (addEos) piece(eos, 'add_eos_token');
  return { ...tokenizerJson, post_processor: { type: 'TemplateProcessing', single, special_tokens: special } };
}
