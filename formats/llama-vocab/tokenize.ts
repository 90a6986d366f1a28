/**
 * `llama_vocab::impl::tokenize`: special-token partition, then per raw fragment the SPM or BPE
 * model, with BOS/EOS added when `addSpecial` and the vocab asks for them.
 */
import { bpeTokenize } from './bpe.ts';
import { partitionSpecial } from './special-partition.ts';
import { spmTokenize } from './spm.ts';
import { wellFormed } from './unicode-flags.ts';
import type { Vocab } from './vocab.ts';

export interface TokenizeOptions {
  /** Add BOS/EOS as the vocab says (llama_tokenize's add_special). */
  addSpecial: boolean;
  /** Turn special-token texts such as "<|im_end|>" into their ids (llama_tokenize's parse_special). */
  parseSpecial: boolean;
}

export function tokenize(vocab: Vocab, text: string, opts: TokenizeOptions): Int32Array {
  const frags = partitionSpecial(vocab, wellFormed(text), opts.parseSpecial);
  const out: number[] = [];
  const { bos, eos } = vocab.special;
  if (opts.addSpecial && vocab.addBos) {
    if (bos === null) throw new RangeError('the vocab asks for BOS but has no BOS token');
    out.push(bos);
  }
  if (vocab.type === 'spm') {
    let prevSpecial = true; // a leading space goes before the first text and after each special token
    for (const f of frags) {
      if (typeof f === 'number') { out.push(f); prevSpecial = true; continue; }
      const t = (vocab.addSpacePrefix && prevSpecial ? ' ' : '') + f;
      spmTokenize(vocab, t.replaceAll(' ', '\u2581'), out);
      prevSpecial = false;
    }
  } else {
    for (const f of frags) {
      if (typeof f === 'number') out.push(f);
      else bpeTokenize(vocab, f, out);
    }
  }
  if (opts.addSpecial && vocab.addEos) {
    if (eos === null) throw new RangeError('the vocab asks for EOS but has no EOS token');
    out.push(eos);
  }
  return Int32Array.from(out);
}
