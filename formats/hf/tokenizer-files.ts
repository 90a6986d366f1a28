import fs from 'node:fs/promises';
import path from 'node:path';
import { fromFsError } from '../errors.ts';
import { fileExists, readJsonFile } from './read-json.ts';
import { checkAddedTokensJson, checkChatTemplate, checkTokenizerConfig, checkTokenizerJson } from './tokenizer-shape.ts';

type Json = Record<string, any>;

/** The tokenizer-related files of a model folder, read once (absent ones are null). */
export interface TokenizerFiles {
  dir: string;
  config: Json;
  tokenizerJson: Json | null;
  tokenizerJsonPath: string;
  tokenizerConfig: Json | null;
  /** Raw bytes of tokenizer.model (SentencePiece), if present. */
  sentencePieceModel: Uint8Array | null;
  sentencePiecePath: string;
  addedTokensJson: Json | null;
  /** chat_template.jinja, else chat_template.json's chat_template (used when tokenizer_config has none). */
  chatTemplateFallback: string | Json[] | undefined;
}

export async function readTokenizerFiles(dir: string, config: Json): Promise<TokenizerFiles> {
  const spPath = path.join(dir, 'tokenizer.model');
  let sentencePieceModel: Uint8Array | null = null;
  if (await fileExists(spPath)) {
    try {
      sentencePieceModel = new Uint8Array(await fs.readFile(spPath));
    } catch (err) {
      throw fromFsError(err, spPath, 'read');
    }
  }
  let chatTemplateFallback: string | Json[] | undefined;
  const jinja = path.join(dir, 'chat_template.jinja');
  if (await fileExists(jinja)) {
    const main = await fs.readFile(jinja, 'utf8');
    const extraDir = path.join(dir, 'additional_chat_templates');
    const extras = (await fs.readdir(extraDir).catch(() => [] as string[])).filter((f) => f.endsWith('.jinja')).sort();
    chatTemplateFallback = extras.length
      ? [{ name: 'default', template: main }, ...await Promise.all(extras.map(async (f) => ({ name: f.slice(0, -6), template: await fs.readFile(path.join(extraDir, f), 'utf8') })))]
      : main;
  } else {
    chatTemplateFallback = (await readJsonFile(dir, 'chat_template.json', true))?.chat_template;
    checkChatTemplate(chatTemplateFallback, path.join(dir, 'chat_template.json'));
  }
  // Shapes are checked here, once, so the vocab builders can trust the types they read.
  const tokenizerJsonPath = path.join(dir, 'tokenizer.json');
  const tokenizerJson = await readJsonFile(dir, 'tokenizer.json', true);
  if (tokenizerJson) checkTokenizerJson(tokenizerJson, tokenizerJsonPath);
  const tokenizerConfig = await readJsonFile(dir, 'tokenizer_config.json', true);
  if (tokenizerConfig) checkTokenizerConfig(tokenizerConfig, path.join(dir, 'tokenizer_config.json'));
  const addedTokensJson = await readJsonFile(dir, 'added_tokens.json', true);
  if (addedTokensJson) checkAddedTokensJson(addedTokensJson, path.join(dir, 'added_tokens.json'));
  return {
    dir,
    config,
    tokenizerJson,
    tokenizerJsonPath,
    tokenizerConfig,
    sentencePieceModel,
    sentencePiecePath: spPath,
    addedTokensJson,
    chatTemplateFallback,
  };
}
