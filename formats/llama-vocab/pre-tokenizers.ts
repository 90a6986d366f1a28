/**
 * llama.cpp's BPE pre-tokenizers, as data: `tokenizer.ggml.pre` name → the regex list its
 * `llm_tokenizer_bpe` constructor applies, and the vocab flags `llama_vocab::impl::load` sets for that
 * name (clean_spaces, ignore_merges, add_bos). Strings are copied from llama-vocab.cpp (our copy's
 * pinned commit); names whose tokenizer needs code we have not ported (qwen35, kimi-k2, gemma4,
 * whitespace, chatglm, …) are absent, so loading them is refused rather than guessed.
 */

export interface PreTokenizer {
  /** Regexes applied in turn by unicode_regex_split. */
  regexes: readonly string[];
  cleanSpaces: boolean;
  ignoreMerges: boolean;
  /** Forces add_bos before tokenizer.ggml.add_bos_token is read. */
  addBos: boolean;
}

const REGEXES = {
  // BAILINGMOE
  BAILINGMOE: [
    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
  ],
  // BLOOM, GPT3_FINNISH, PORO
  BLOOM: [
    " ?[^(\\s|.,!?…。，、।۔،)]+",
  ],
  // CHAMELEON
  CHAMELEON: [
    "<sentinel:[0-9]+>",
    "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
    "([\\t\\n]|    |  )",
    "\\p{N}",
    "[\\p{P}!-/:-@\\[-`{-~]",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
  ],
  // CODESHELL, COMMAND_R, EXAONE, MELLUM2, MINERVA, REFACT, SMOLLM, STARCODER
  STARCODER: [
    "\\p{N}",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
  ],
  // DBRX, LLAMA3, SMAUG
  LLAMA3: [
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // DEEPSEEK3_LLM, HUNYUAN_DENSE, HY_V4, JOYAI_LLM
  DEEPSEEK3_LLM: [
    "\\p{N}{1,3}",
    "[一-龥぀-ゟ゠-ヿ]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
  ],
  // DEEPSEEK_CODER
  DEEPSEEK_CODER: [
    "[\r\n]",
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
    "[一-龥ࠀ-一가-퟿]+",
    "\\p{N}",
  ],
  // DEEPSEEK_LLM
  DEEPSEEK_LLM: [
    "[\r\n]",
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    "\\s+$",
    "[一-龥ࠀ-一가-퟿]+",
    "\\p{N}+",
  ],
  // DEFAULT
  DEFAULT: [
    "[\\p{P}\\$\\+<=>\\^~\\|]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "\\p{N}+",
    "[0-9][0-9][0-9]",
  ],
  // EXAONE_MOE
  EXAONE_MOE: [
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
  ],
  // FALCON
  FALCON: [
    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
    "[0-9][0-9][0-9]",
  ],
  // GPT2, GRANITE_DOCLING, JAIS, MPT, OLMO, TRILLION
  GPT2: [
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
  ],
  // GPT4O, MINIMAX_M2
  GPT4O: [
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // GRANITE_EMB_MULTI
  GRANITE_EMB_MULTI: [
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // GROK_2, HUNYUAN, QWEN2, SOLAR_OPEN, STABLELM2
  QWEN2: [
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // JAIS2
  JAIS2: [
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}",
  ],
  // LAGUNA
  LAGUNA: [
    "[^\\n]+|[\\n]+",
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // MINICPM5
  MINICPM5: [
    "\\p{N}{1,3}",
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // SEED_CODER
  SEED_CODER: [
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // SPARK2_5
  SPARK2_5: [
    "\\p{N}{1,3}",
    "[一-龥぀-ゟ゠-ヿ]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
    "\\p{N}",
  ],
  // SUPERBPE
  SUPERBPE: [
    "\\p{N}+",
    "(?=(\\d{3})+(?!\\d))",
  ],
  // TEKKEN
  TEKKEN: [
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // UFAKZEKA
  UFAKZEKA: [
    "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  // VIKING
  VIKING: [
    " ?[^(\\s|.,!?…。，、।۔،)]+",
    "\\p{N}",
  ],
  // YOUTU
  YOUTU: [
    "[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+",
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
} as const satisfies Record<string, readonly string[]>;

type Flags = 'clean' | 'ignoreMerges' | 'addBos';
const row = (regexes: readonly string[], ...flags: Flags[]): PreTokenizer => ({
  regexes, cleanSpaces: flags.includes('clean'), ignoreMerges: flags.includes('ignoreMerges'), addBos: flags.includes('addBos'),
});

/** `tokenizer.ggml.pre` → pre-tokenizer (an absent or empty name means 'default', with a warning in llama.cpp). */
export const PRE_TOKENIZERS: Readonly<Record<string, PreTokenizer>> = {
  "default": row(REGEXES.DEFAULT, 'clean'),
  "minicpm5": row(REGEXES.MINICPM5, 'clean', 'ignoreMerges'),
  "llama3": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "llama-v3": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "llama-bpe": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "falcon3": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "falcon-h1": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "pixtral": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "midm-2.0": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "lfm2": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "jina-v5-nano": row(REGEXES.LLAMA3, 'clean', 'ignoreMerges', 'addBos'),
  "deepseek-llm": row(REGEXES.DEEPSEEK_LLM),
  "deepseek-coder": row(REGEXES.DEEPSEEK_CODER),
  "deepseek-v3": row(REGEXES.DEEPSEEK3_LLM),
  "spark2_5": row(REGEXES.SPARK2_5),
  "youtu": row(REGEXES.YOUTU, 'ignoreMerges'),
  "falcon": row(REGEXES.FALCON, 'clean'),
  "mpt": row(REGEXES.GPT2, 'clean'),
  "starcoder": row(REGEXES.STARCODER, 'clean'),
  "gpt-2": row(REGEXES.GPT2, 'clean'),
  "phi-2": row(REGEXES.GPT2, 'clean'),
  "jina-es": row(REGEXES.GPT2, 'clean'),
  "jina-de": row(REGEXES.GPT2, 'clean'),
  "gigachat": row(REGEXES.GPT2, 'clean'),
  "jina-v2-es": row(REGEXES.GPT2, 'clean'),
  "jina-v2-de": row(REGEXES.GPT2, 'clean'),
  "a.x-4.0": row(REGEXES.GPT2, 'clean'),
  "mellum": row(REGEXES.GPT2, 'clean'),
  "modern-bert": row(REGEXES.GPT2, 'clean'),
  "jais-2": row(REGEXES.JAIS2, 'clean'),
  "refact": row(REGEXES.STARCODER, 'clean'),
  "command-r": row(REGEXES.STARCODER),
  "qwen2": row(REGEXES.QWEN2),
  "deepseek-r1-qwen": row(REGEXES.QWEN2),
  "kormo": row(REGEXES.QWEN2),
  "f2llmv2": row(REGEXES.QWEN2),
  "stablelm2": row(REGEXES.QWEN2, 'clean'),
  "olmo": row(REGEXES.GPT2, 'clean'),
  "dbrx": row(REGEXES.LLAMA3, 'clean'),
  "smaug-bpe": row(REGEXES.LLAMA3, 'clean'),
  "poro-chat": row(REGEXES.BLOOM),
  "viking": row(REGEXES.VIKING),
  "jais": row(REGEXES.GPT2, 'clean'),
  "tekken": row(REGEXES.TEKKEN, 'ignoreMerges', 'addBos'),
  "smollm": row(REGEXES.STARCODER),
  "codeshell": row(REGEXES.STARCODER, 'clean'),
  "bloom": row(REGEXES.BLOOM, 'clean'),
  "gpt3-finnish": row(REGEXES.BLOOM, 'clean'),
  "exaone": row(REGEXES.STARCODER, 'clean'),
  "exaone4": row(REGEXES.GPT2, 'clean'),
  "exaone-moe": row(REGEXES.EXAONE_MOE, 'clean'),
  "chameleon": row(REGEXES.CHAMELEON, 'addBos'),
  "minerva-7b": row(REGEXES.STARCODER, 'clean'),
  "megrez": row(REGEXES.QWEN2, 'clean'),
  "gpt-4o": row(REGEXES.GPT4O),
  "llama4": row(REGEXES.GPT4O),
  "kanana2": row(REGEXES.GPT4O),
  "talkie": row(REGEXES.GPT4O),
  "granite-embed-multi-97m": row(REGEXES.GRANITE_EMB_MULTI, 'ignoreMerges'),
  "superbpe": row(REGEXES.SUPERBPE),
  "trillion": row(REGEXES.GPT2),
  "granite-docling": row(REGEXES.GPT2),
  "bailingmoe": row(REGEXES.BAILINGMOE),
  "bailingmoe2": row(REGEXES.BAILINGMOE),
  "llada-moe": row(REGEXES.BAILINGMOE),
  "seed-coder": row(REGEXES.SEED_CODER),
  "hunyuan": row(REGEXES.QWEN2),
  "hunyuan-dense": row(REGEXES.DEEPSEEK3_LLM),
  "hy_v4": row(REGEXES.DEEPSEEK3_LLM),
  "joyai-llm": row(REGEXES.DEEPSEEK3_LLM),
  "ufakzeka": row(REGEXES.UFAKZEKA),
  "grok-2": row(REGEXES.QWEN2),
  "laguna": row(REGEXES.LAGUNA),
  "minimax-m2": row(REGEXES.GPT4O),
  "solar-open": row(REGEXES.QWEN2),
  "mellum2": row(REGEXES.STARCODER, 'clean'),
};
