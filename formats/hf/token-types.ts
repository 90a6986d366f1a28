/** llama.cpp token types (`tokenizer.ggml.token_type`, stored as i32). */
export enum TokenType { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6 }

/** convert's `does_token_look_special`: added tokens some models forget to mark special. */
export function looksSpecial(t: string): boolean {
  return ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t)
    || (t.startsWith('<|') && t.endsWith('|>'))
    || (t.startsWith('<\uff5c') && t.endsWith('\uff5c>'))
    || (t.startsWith('<unused') && t.endsWith('>'));
}

export interface VocabArrays {
  tokens: string[];
  scores?: Float32Array;
  types: Int32Array;
}
