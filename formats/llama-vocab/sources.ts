/**
 * Vocabularies from files: a GGUF's own `tokenizer.ggml.*` keys, or an HF folder's tokenizer files
 * turned into the very keys `convert` would write (formats/hf/gguf-metadata.ts), so both entry points
 * go through the one loader and give the same ids for the same model.
 */
import { readGguf } from '../gguf/reader.ts';
import { archFor } from '../hf/architectures.ts';
import { readHfConfig } from '../hf/config.ts';
import { buildGgufMetadata } from '../hf/gguf-metadata.ts';
import { loadVocab, type Vocab } from './vocab.ts';

export async function vocabFromGguf(path: string): Promise<Vocab> {
  const file = await readGguf(path);
  return loadVocab(file.kvs);
}

/** `pre` forces `tokenizer.ggml.pre` as convert's --pre does. */
export async function vocabFromHfFolder(dir: string, opts: { pre?: string } = {}): Promise<Vocab> {
  const config = await readHfConfig(dir);
  const { kvs } = await buildGgufMetadata(dir, config, archFor(config), { fileTypeId: 0, pre: opts.pre });
  return loadVocab(kvs);
}
