/**
 * Which repo files a conversion needs. Root-level config, tokenizer and safetensors files (and
 * the shard index) by default; PyTorch/ONNX/GGUF weights only when the user names them with
 * --include, since they are often several times the model size and the converter reads
 * safetensors. Patterns use fnmatch rules like huggingface_hub's allow_patterns ("*" also
 * matches "/"; a trailing "/" means the whole folder).
 */
import { UnsupportedError } from '../../formats/errors.ts';

const NEEDED_NAMES = new Set([
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'tokenizer.model',
  'special_tokens_map.json',
  'added_tokens.json',
  'chat_template.jinja',
  'chat_template.json',
  'vocab.json',
  'merges.txt',
  'vocab.txt',
  'quantize_config.json',
  'quant_config.json',
]);

export function isNeededByDefault(p: string): boolean {
  if (p.includes('/')) return false;
  return NEEDED_NAMES.has(p) || p.endsWith('.safetensors') || p.endsWith('.safetensors.index.json');
}

export function globToRegExp(pattern: string): RegExp {
  const pat = pattern.endsWith('/') ? pattern + '*' : pattern;
  let re = '';
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pat.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = pat.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export function selectFiles<T extends { path: string }>(files: T[], include: string[] = []): T[] {
  const extra = include.map(globToRegExp);
  return files.filter((f) => isNeededByDefault(f.path) || extra.some((r) => r.test(f.path)));
}

/** The converter reads safetensors; a repo without them fails here, naming what it has instead. */
export function assertHasWeights(repo: string, all: { path: string }[], selected: { path: string }[], include: string[] = []): void {
  if (selected.some((f) => f.path.endsWith('.safetensors'))) return;
  const included = include.length > 0 && selected.some((f) => !isNeededByDefault(f.path));
  if (included) return;
  const others = all.map((f) => f.path).filter((p) => /\.(bin|pt|pth|ckpt|onnx|gguf|h5|msgpack)$/.test(p));
  const hint = others.length
    ? ` It has ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}; pass --include to download those.`
    : '';
  throw new UnsupportedError('NO_SAFETENSORS', `${repo}: the repo has no .safetensors weights at its root, which conversion needs.${hint}`, { repo });
}
