import { createHash } from 'node:crypto';

/**
 * llama.cpp's converter names a BPE tokenizer's pre-tokenizer by hashing how the model's own
 * tokenizer encodes a fixed text (`get_vocab_base_pre` in convert_hf_to_gguf.py): sha256 of the
 * Python repr of `tokenizer.encode(CHKTXT)` (special tokens included), e.g. "[128000, 198, 4815]".
 */
export const CHKTXT =
  '\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\u{1F680} (normal) \u{1F636}\u200d\u{1F32B}\ufe0f (multiple emojis concatenated) ' +
  '\u2705 \u{1F999}\u{1F999} 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 ' +
  '\u1780\u17b6\u1793\u17cb\u178f\u17c2\u1796\u17b7\u179f\u17c1\u179f\u17a2\u17b6\u1785\u{1F601} ?\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e ' +
  '------======= \u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438 ' +
  "''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL";

export function chkHash(ids: readonly number[]): string {
  return createHash('sha256').update(`[${ids.join(', ')}]`, 'utf8').digest('hex');
}

/** Hash → `tokenizer.ggml.pre`, for the tokenizers of the architectures we convert (from llama.cpp). */
export const KNOWN_PRE_HASHES: Readonly<Record<string, string>> = {
  '0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5': 'llama-bpe', // Meta-Llama-3-8B
  'c136ed14d01c2745d4f60a9596ae66800e2b61fa45643e72436041855ad4089d': 'smaug-bpe', // Smaug-Llama-3-70B
  'e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea': 'qwen2', // Qwen1.5 / Qwen2 / Qwen2.5
  'd4540891389ea895b53b399da6ac824becc30f2fba0e9ddbb98f92e55ca0e97c': 'qwen2', // Qwen3-Embedding
  'b3f499bb4255f8ca19fccd664443283318f2fd2414d5e0b040fbdd0cc195d6c5': 'deepseek-r1-qwen', // DeepSeek-R1-Distill-Qwen
  '3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454': 'gpt-2', // openai-community/gpt2
  '63b97e4253352e6f357cc59ea5b583e3a680eaeaf2632188c2b952de2588485e': 'tekken', // Mistral-Nemo
  '855059429035d75a914d1eda9f10a876752e281a054a7a3d421ef0533e5b6249': 'smollm', // SmolLM
};
