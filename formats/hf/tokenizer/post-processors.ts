import { FormatError, UnsupportedError } from '../../errors.ts';

/** Adds special tokens around one encoded sequence (HF `post_process` for a single input). */
export type PostProcessor = (ids: number[]) => number[];

type Json = Record<string, any>;

export function buildPostProcessor(cfg: Json | null | undefined, file: string, tokenId: (t: string) => number | undefined): PostProcessor {
  if (!cfg) return (ids) => ids;
  switch (cfg.type) {
    case 'Sequence': {
      const steps = (cfg.processors as Json[]).map((p) => buildPostProcessor(p, file, tokenId));
      return (ids) => steps.reduce((acc, f) => f(acc), ids);
    }
    case 'ByteLevel':
      return (ids) => ids; // only trims offsets
    case 'TemplateProcessing': {
      const specials = (cfg.special_tokens ?? {}) as Record<string, { ids: number[] }>;
      const single = (cfg.single ?? []) as Json[];
      return (ids) => single.flatMap((piece) => {
        if (piece.Sequence) return ids;
        const name = piece.SpecialToken?.id;
        const special = specials[name];
        if (!special) throw new FormatError('TOKENIZER_TEMPLATE', `TemplateProcessing names special token '${name}' that special_tokens does not define`, { file });
        return special.ids;
      });
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = cfg.cls?.[1] ?? tokenId(cfg.cls?.[0]);
      const sep = cfg.sep?.[1] ?? tokenId(cfg.sep?.[0]);
      return (ids) => [cls, ...ids, sep];
    }
    default:
      throw new UnsupportedError('TOKENIZER_POST_PROCESSOR', `post-processor type '${cfg.type}' is not supported`, { file });
  }
}
