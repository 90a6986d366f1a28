/**
 * A tiny byte-level BPE (GPT-2 / Qwen2 style): the byte-to-unicode alphabet, Qwen2's pre-tokenizer
 * split, a deterministic merge trainer, and an encoder used to check the result round-trips.
 */

/**
 * GPT-2's `bytes_to_unicode`: printable bytes map to themselves, the other 68 to U+0100 upwards,
 * so every byte is one visible character. Index i of the result is the token for byte-order id i
 * the way GPT-2 and Qwen2 number them (printable ranges first, then the remapped bytes).
 */
export function byteLevelAlphabet(): { byteToChar: string[]; idOrder: number[] } {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const byteToChar: string[] = new Array(256);
  for (const b of printable) byteToChar[b] = String.fromCharCode(b);
  const idOrder = [...printable];
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (byteToChar[b] === undefined) {
      byteToChar[b] = String.fromCharCode(256 + next++);
      idOrder.push(b);
    }
  }
  return { byteToChar, idOrder };
}

/** Qwen2's pre-tokenizer pattern exactly as its tokenizer.json spells it (Rust/Oniguruma syntax). */
export const QWEN2_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The same pattern for JavaScript, which (in Node 20) has no inline `(?i:...)` group. */
const QWEN2_SPLIT_JS = new RegExp(
  "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  'gu',
);

export function qwen2PreTokenize(text: string): string[] {
  return text.match(QWEN2_SPLIT_JS) ?? [];
}

function toByteChars(piece: string, byteToChar: string[]): string[] {
  return [...new TextEncoder().encode(piece)].map((b) => byteToChar[b]);
}

export interface ByteLevelBpe {
  /** Token strings in id order: the 256 byte tokens, then one per merge. */
  vocab: string[];
  merges: [string, string][];
}

/**
 * Learn `mergeCount` merges from `text`: repeatedly join the most frequent adjacent pair (ties go
 * to the smallest pair by code units, so the result is fully deterministic). Pairs whose joined
 * string is already a token are skipped, keeping merges and new tokens one to one.
 */
export function trainByteLevelBpe(text: string, mergeCount: number): ByteLevelBpe {
  const { byteToChar, idOrder } = byteLevelAlphabet();
  const vocab = idOrder.map((b) => byteToChar[b]);
  const known = new Set(vocab);
  const wordCounts = new Map<string, number>();
  for (const piece of qwen2PreTokenize(text)) wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
  const words = [...wordCounts].map(([piece, count]) => ({ symbols: toByteChars(piece, byteToChar), count }));

  const merges: [string, string][] = [];
  while (merges.length < mergeCount) {
    const pairCounts = new Map<string, { left: string; right: string; count: number }>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const left = w.symbols[i];
        const right = w.symbols[i + 1];
        if (known.has(left + right)) continue;
        const key = `${left}\u0000${right}`;
        const entry = pairCounts.get(key);
        if (entry) entry.count += w.count;
        else pairCounts.set(key, { left, right, count: w.count });
      }
    }
    let best: { left: string; right: string; count: number } | undefined;
    for (const p of pairCounts.values()) {
      if (!best || p.count > best.count || (p.count === best.count && (p.left < best.left || (p.left === best.left && p.right < best.right)))) best = p;
    }
    if (!best) throw new Error(`corpus too small: only ${merges.length} of ${mergeCount} merges could be learned`);
    merges.push([best.left, best.right]);
    const joined = best.left + best.right;
    vocab.push(joined);
    known.add(joined);
    for (const w of words) w.symbols = applyMerge(w.symbols, best.left, best.right);
  }
  return { vocab, merges };
}

function applyMerge(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else out.push(symbols[i]);
  }
  return out;
}

/** Encode text with the learned merges (lowest-rank pair first, as HF tokenizers does) to token ids. */
export function encodeByteLevelBpe(bpe: ByteLevelBpe, text: string): number[] {
  const { byteToChar } = byteLevelAlphabet();
  const rank = new Map(bpe.merges.map(([a, b], i) => [`${a}\u0000${b}`, i]));
  const id = new Map(bpe.vocab.map((t, i) => [t, i]));
  const ids: number[] = [];
  for (const piece of qwen2PreTokenize(text)) {
    let symbols = toByteChars(piece, byteToChar);
    for (;;) {
      let bestRank = Infinity;
      let bestAt = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = rank.get(`${symbols[i]}\u0000${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) { bestRank = r; bestAt = i; }
      }
      if (bestAt < 0) break;
      symbols = applyMerge(symbols, symbols[bestAt], symbols[bestAt + 1]);
    }
    for (const s of symbols) ids.push(id.get(s)!);
  }
  return ids;
}

/** Token ids back to text through the byte-level alphabet. */
export function decodeByteLevelBpe(bpe: ByteLevelBpe, ids: number[]): string {
  const { byteToChar } = byteLevelAlphabet();
  const charToByte = new Map(byteToChar.map((c, b) => [c, b]));
  const bytes = [...ids.map((i) => bpe.vocab[i]).join('')].map((c) => charToByte.get(c)!);
  return new TextDecoder().decode(new Uint8Array(bytes));
}
