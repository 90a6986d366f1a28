/**
 * The model summary screen's data: what a local Hugging Face folder holds (architecture,
 * parameters, dtype, files and sizes, tokenizer kind) and whether we can convert it, and if not,
 * why. Read from the formats modules; an unreadable folder becomes an `error` string, not a throw.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readHfConfig } from '../../../formats/hf/config.ts';
import { archFor } from '../../../formats/hf/architectures.ts';
import { readJsonFile } from '../../../formats/hf/read-json.ts';
import { countParameters } from '../../../formats/hf/size-label.ts';
import { openModelTensors } from '../../pipeline/model-tensors.ts';

export interface ModelSummaryData {
  dir: string;
  name: string;
  architecture?: string;
  parameters?: number;
  dtype?: string;
  files: { name: string; bytes: number }[];
  totalBytes: number;
  tokenizer?: string;
  supported: boolean;
  /** Why not, when unsupported or unreadable. */
  reason?: string;
}

export async function loadModelSummary(dir: string): Promise<ModelSummaryData> {
  const files = await listFiles(dir);
  const out: ModelSummaryData = { dir, name: path.basename(dir), files, totalBytes: files.reduce((s, f) => s + f.bytes, 0), supported: false };
  try {
    const config = await readHfConfig(dir);
    out.architecture = config.architecture;
    out.dtype = typeof config.raw.torch_dtype === 'string' ? config.raw.torch_dtype : typeof config.raw.dtype === 'string' ? config.raw.dtype : undefined;
    out.tokenizer = await tokenizerKind(dir);
    archFor(config);
    const model = await openModelTensors(dir);
    try {
      out.parameters = countParameters(model.tensors.map((t) => t.shape));
      const dtypes = [...new Set(model.tensors.map((t) => t.dtype))];
      out.dtype = dtypes.join('+') + (out.dtype ? ` (config: ${out.dtype})` : '');
      if (model.quantizedSource) out.dtype = `${model.quantizedSource} checkpoint`;
    } finally {
      await model.close();
    }
    out.supported = true;
  } catch (err) {
    out.reason = (err as Error).message;
  }
  return out;
}

async function listFiles(dir: string): Promise<{ name: string; bytes: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const rows = await Promise.all(names.sort().map(async (name) => {
    const st = await stat(path.join(dir, name)).catch(() => null);
    return st?.isFile() ? { name, bytes: st.size } : null;
  }));
  return rows.filter((r): r is { name: string; bytes: number } => r !== null);
}

async function tokenizerKind(dir: string): Promise<string> {
  const tj = await readJsonFile(dir, 'tokenizer.json', true).catch(() => null);
  const model = (tj as { model?: { type?: string } } | null)?.model?.type;
  const hasSp = await stat(path.join(dir, 'tokenizer.model')).then(() => true, () => false);
  if (model && hasSp) return `${model} (tokenizer.json) + SentencePiece (tokenizer.model)`;
  if (model) return `${model} (tokenizer.json)`;
  if (hasSp) return 'SentencePiece (tokenizer.model)';
  return 'none found';
}
