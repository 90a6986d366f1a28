import { idToTitle } from './general-name.ts';

/** The `general.*` naming keys gguf-py derives from a model id ("org/Name-3-mini-4k-instruct"). */
export interface ModelIdParts {
  name?: string;
  organization?: string;
  basename?: string;
  finetune?: string;
  version?: string;
  sizeLabel?: string;
}

type Tag = 'basename' | 'size_label' | 'finetune' | 'version' | 'type';

/**
 * gguf-py's `Metadata.get_model_id_components` (gguf/metadata.py): split the id on '-', tag each
 * part as version, quant type, size label (or context length, when far from the parameter count)
 * or finetune, then read the basename off the leading untagged parts. Returns the raw components;
 * `name` and `organization` still need id_to_title.
 */
export function modelIdComponents(modelId: string, totalParams: number): { full: string; org?: string; basename?: string; finetune?: string; version?: string; sizeLabel?: string } {
  if (modelId.includes(' ')) return { full: modelId };
  let org: string | undefined;
  let full = modelId;
  const slash = modelId.indexOf('/');
  if (slash >= 0) { org = modelId.slice(0, slash); full = modelId.slice(slash + 1); }
  if (org !== undefined && org.startsWith('.')) org = undefined;

  const parts = full.split('-').filter((p) => p.length > 0);
  const tags: Set<Tag>[] = parts.map(() => new Set());
  parts.forEach((part, i) => {
    if (/^(v|iter)?\d+([.]\d+)*$/i.test(part)) tags[i]!.add('version');
    else if (/^(i?q\d(_\w)*|b?fp?(16|32))$/i.test(part)) { tags[i]!.add('type'); parts[i] = part.toUpperCase(); }
    else if (i > 0 && /^((A|\d+x)?\d+([._]\d+)?[KMBT]\d?|small|mini|medium|large|x?xl)$/i.test(part)) {
      let p = part.replace(/_/g, '.');
      if (/\d$/.test(p)) p = p.slice(0, -2) + '.' + p.slice(-1) + p.slice(-2, -1); // bloom-7b1 → 7.1b
      if (p.length > 1 && /\d/.test(p[p.length - 2]!) && 'kmbt'.includes(p[p.length - 1]!)) p = p.slice(0, -1) + p[p.length - 1]!.toUpperCase();
      if (totalParams !== 0) {
        const scale = ' KMBT'.indexOf(p[p.length - 1]!);
        const value = Number(p.slice(0, -1));
        if (scale >= 0 && p.slice(0, -1).trim() !== '' && Number.isFinite(value)) {
          const label = value * 1000 ** scale;
          const farOff = (totalParams < 0 && label < Math.floor(Math.abs(totalParams) / 8))
            || (totalParams > 0 && Math.abs(label - totalParams) > Math.floor((7 * totalParams) / 8));
          if (farOff) { tags[i]!.add('finetune'); p = p.slice(0, -1) + p[p.length - 1]!.toLowerCase(); } // a context length
        }
      }
      if (tags[i]!.size === 0) tags[i]!.add('size_label');
      parts[i] = p;
    } else if (i > 0 && /^(chat|instruct|vision|lora)$/i.test(part)) {
      tags[i]!.add(totalParams < 0 && part.toLowerCase() === 'lora' ? 'type' : 'finetune');
    }
  });
  // Word size labels ("mini") give way to a numeric one ("7B") when both are present.
  if (parts.some((p, i) => tags[i]!.has('size_label') && /\d/.test(p))) {
    parts.forEach((p, i) => { if (tags[i]!.has('size_label') && /^\p{L}+$/u.test(p)) tags[i]!.delete('size_label'); });
  }
  let atStart = true;
  parts.forEach((p, i) => {
    const t = tags[i]!;
    if (atStart && ((t.size === 0 && /^\p{L}/u.test(p)) || t.has('version'))) t.add('basename');
    else {
      atStart = false;
      if (t.size === 0) t.add('finetune');
    }
  });
  for (let i = parts.length - 1; i >= 0; i--) {
    if (tags[i]!.has('basename') && tags[i]!.size > 1) tags[i]!.delete('basename');
    else break;
  }
  const join = (pred: (t: Set<Tag>) => boolean) => parts.filter((_, i) => pred(tags[i]!)).join('-') || undefined;
  let basename = join((t) => t.has('basename'));
  const sizeLabel = [...new Set(parts.filter((_, i) => tags[i]!.has('size_label')))].join('-') || undefined;
  const finetune = join((t) => t.has('finetune'));
  const version = join((t) => t.has('version') && !t.has('basename'));
  if (sizeLabel === undefined && finetune === undefined && version === undefined) basename = undefined; // too ambiguous
  return { full, org, basename, finetune, version, sizeLabel };
}

/**
 * `Metadata.apply_metadata_heuristic` for what a model folder offers without a model card:
 * config.json's `_name_or_path` (when it looks like a model id, not a path), then the folder name;
 * the first source to give a field wins.
 */
export function modelIdMetadata(nameOrPath: unknown, folderName: string, totalParams: number): ModelIdParts {
  const out: ModelIdParts = {};
  const apply = (id: string) => {
    const c = modelIdComponents(id, totalParams);
    out.name ??= idToTitle(c.full);
    if (c.org) out.organization ??= idToTitle(c.org);
    if (c.basename) out.basename ??= c.basename;
    if (c.finetune) out.finetune ??= c.finetune;
    if (c.version) out.version ??= c.version;
    if (c.sizeLabel) out.sizeLabel ??= c.sizeLabel;
  };
  if (typeof nameOrPath === 'string' && (nameOrPath.match(/\//g) ?? []).length <= 1) apply(nameOrPath);
  apply(folderName);
  return out;
}
