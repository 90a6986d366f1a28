/**
 * Token attributes (llama.h `llama_token_attr`) and the fix-ups `llama_vocab::impl::load` applies
 * after reading `tokenizer.ggml.token_type`: tokens llama.cpp recognizes by text (EOT, FIM, EOG
 * markers) become CONTROL, CONTROL tokens named "unused" become UNUSED, and Phi-3 models get
 * RSTRIP on their special tokens. These attributes decide which tokens `parse_special` splits out
 * and what token_to_piece prints.
 */
export const ATTR = {
  UNDEFINED: 0, UNKNOWN: 1 << 0, UNUSED: 1 << 1, NORMAL: 1 << 2, CONTROL: 1 << 3, USER_DEFINED: 1 << 4,
  BYTE: 1 << 5, NORMALIZED: 1 << 6, LSTRIP: 1 << 7, RSTRIP: 1 << 8, SINGLE_WORD: 1 << 9,
} as const;

/** `tokenizer.ggml.token_type` value (llama_token_type) → attribute. */
export function attrFromTokenType(type: number): number {
  switch (type) {
    case 2: return ATTR.UNKNOWN;
    case 5: return ATTR.UNUSED;
    case 1: return ATTR.NORMAL;
    case 3: return ATTR.CONTROL;
    case 4: return ATTR.USER_DEFINED;
    case 6: return ATTR.BYTE;
    default: return ATTR.UNDEFINED;
  }
}

/** Special ids read from `tokenizer.ggml.*_token_id`; null when absent. */
export interface SpecialIds {
  bos: number | null; eos: number | null; eot: number | null; eom: number | null; unk: number | null;
  sep: number | null; pad: number | null; mask: number | null;
  fimPre: number | null; fimSuf: number | null; fimMid: number | null; fimPad: number | null; fimRep: number | null; fimSep: number | null;
}

/** Texts llama.cpp auto-detects when the GGUF does not name the token (first match in vocab order wins). */
const DETECT: readonly [keyof SpecialIds, readonly string[]][] = [
  ['eot', ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<EOT>', '_<EOT>', '[EOT]', '<｜end▁of▁sentence｜>', '<end_of_utterance>']],
  ['eom', ['<|eom_id|>']],
  ['fimPre', ['<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>', '<|code_prefix|>', '<|prefix|>']],
  ['fimSuf', ['<|fim_suffix|>', '<fim-suffix>', '<fim_suffix>', '<｜fim▁hole｜>', '<SUF>', '▁<SUF>', '<|code_suffix|>', '<|suffix|>']],
  ['fimMid', ['<|fim_middle|>', '<fim-middle>', '<fim_middle>', '<｜fim▁end｜>', '<MID>', '▁<MID>', '<|code_middle|>', '<|middle|>']],
  ['fimPad', ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]']],
  ['fimRep', ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>']],
  ['fimSep', ['<|file_sep|>']],
];

const EOG_TEXTS = new Set([
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>', '<|calls|>', '<end_of_turn>', '<|endoftext|>',
  '</s>', '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]', '<|end_of_text|>', '<end_of_utterance>', '<eos>', '<turn|>',
  '<|tool_response>', '<｜end▁of▁sentence｜>', '[e~[',
]);

/** gpt-oss: always rendered, so made USER_DEFINED. */
const ALWAYS_RENDERED = new Set(['<|channel|>', '<|message|>', '<|start|>', '<|constrain|>']);

/**
 * Apply load()'s attribute fix-ups in place; fills auto-detected ids into `ids`; returns the EOG set.
 * (llama.cpp iterates an unordered_map; a vocab with two candidates for one role is ambiguous
 * there too. We take the first in vocab order.)
 */
export function fixUpAttributes(tokens: readonly string[], tokenToId: ReadonlyMap<string, number>, attrs: Uint16Array, ids: SpecialIds): Set<number> {
  for (const [role, texts] of DETECT) {
    if (ids[role] !== null) continue;
    for (const [text, id] of tokenToId) {
      if (!texts.includes(text)) continue;
      ids[role] = id;
      attrs[id]! |= ATTR.CONTROL;
      break;
    }
  }
  for (let id = 0; id < tokens.length; id++) {
    if (attrs[id]! & ATTR.CONTROL && tokens[id]!.includes('unused')) attrs[id]! |= ATTR.UNUSED;
  }
  const eog = new Set<number>();
  for (const id of [ids.fimPad, ids.fimRep, ids.fimSep]) if (id !== null) eog.add(id);
  for (const [text, id] of tokenToId) {
    if (EOG_TEXTS.has(text)) { eog.add(id); attrs[id]! |= ATTR.CONTROL; }
  }
  for (const [text, id] of tokenToId) if (ALWAYS_RENDERED.has(text)) attrs[id] = ATTR.USER_DEFINED;
  for (const id of [ids.eos, ids.eot, ids.eom]) if (id !== null) eog.add(id);
  // o200k_harmony / solar-open: "<|end|>" is not end-of-generation when "<|return|>"+"<|call|>" or "<|calls|>"+"<|flush|>" exist.
  const eogText = (t: string) => [...eog].some((id) => tokens[id] === t);
  const end = [...eog].find((id) => tokens[id] === '<|end|>');
  const hasCall = eogText('<|call|>') || eogText('<|calls|>');
  if (end !== undefined && hasCall && (eogText('<|return|>') || eogText('<|flush|>'))) {
    eog.delete(end);
    attrs[end] = ATTR.USER_DEFINED;
  }
  // gemma4 / paddleocr: "</s>" is not end-of-generation when "<|tool_response>" is.
  const s = [...eog].find((id) => tokens[id] === '</s>');
  if (s !== undefined && eogText('<|tool_response>')) {
    eog.delete(s);
    attrs[s] = ATTR.NORMAL;
  }
  return eog;
}

/** The per-model attribute overrides of load()'s last block (Phi-3's RSTRIP; the BERT-family mask LSTRIPs are not ported). */
export function applyModelAttributes(modelName: string, tokenToId: ReadonlyMap<string, number>, attrs: Uint16Array, specialTokens: Int32Array): void {
  const name = modelName.toLowerCase();
  if (!name.includes('phi-3') && !name.includes('phi3')) return;
  for (const id of specialTokens) attrs[id]! |= ATTR.RSTRIP;
  const set = (text: string, on: boolean) => {
    const id = tokenToId.get(text);
    if (id === undefined) return;
    attrs[id] = on ? attrs[id]! | ATTR.RSTRIP : attrs[id]! & ~ATTR.RSTRIP;
  };
  set('</s>', true);
  for (const t of ['<unk>', '<s>', '<|endoftext|>']) set(t, false);
}
