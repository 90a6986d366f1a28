/**
 * A seeded, deterministic mutator for the fuzz test (test/fuzz.test.ts) and the long run
 * (`npm run fuzz`): bytes of binary files (GGUF, safetensors) and the values of JSON files
 * (config.json, tokenizer.json, tokenizer_config.json). The same seed gives the same case, so a
 * failure is replayed by its seed alone.
 */

/** mulberry32: small, fast and good enough to pick mutations. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/** Integers that break size arithmetic: zero, one, sign edges, 32-bit and 53-bit edges. */
const INTERESTING_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const INTERESTING_U64 = [0n, 1n, 0x7fffffffn, 0xffffffffn, 0x100000000n, (1n << 53n) - 1n, 1n << 53n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];

/**
 * One to `maxEdits` byte-level edits. `hot` is the length of the prefix most edits go to (the
 * header, where the structure is), so mutations rarely waste themselves on tensor data.
 */
export function mutateBytes(input: Uint8Array, r: Rand, hot = input.length, maxEdits = 4): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  const edits = 1 + int(r, maxEdits);
  for (let e = 0; e < edits; e++) {
    const span = r() < 0.9 ? Math.max(1, Math.min(hot, b.length)) : Math.max(1, b.length);
    const at = int(r, span);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (int(r, 9)) {
      case 0: if (at < b.length) b[at]! ^= 1 << int(r, 8); break;
      case 1: if (at < b.length) b[at] = int(r, 256); break;
      case 2: if (at + 4 <= b.length) dv.setUint32(at, pick(r, INTERESTING_U32), true); break;
      case 3: if (at + 8 <= b.length) dv.setBigUint64(at, pick(r, INTERESTING_U64), true); break;
      case 4: if (at + 4 <= b.length) dv.setUint32(at, (dv.getUint32(at, true) + pick(r, [-1, 1, -8, 8, 0x10000])) >>> 0, true); break;
      case 5: b = b.slice(0, at); break; // truncate
      case 6: { // delete a run
        const n = 1 + int(r, 16);
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + n)));
        break;
      }
      case 7: { // insert random bytes
        const ins = Uint8Array.from({ length: 1 + int(r, 16) }, () => int(r, 256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 8: { // an ESC sequence or a control byte in the middle of a string
        const esc = pick(r, [[0x1b, 0x5b, 0x33, 0x31, 0x6d], [0x0d], [0x07], [0x1b, 0x5d, 0x30, 0x3b]]);
        for (let i = 0; i < esc.length && at + i < b.length; i++) b[at + i] = esc[i]!;
        break;
      }
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Values that have broken config and tokenizer readers: wrong types, edges, huge and tiny numbers, escapes. */
const INTERESTING_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1, 1.5, 1e-300, 1e300, 2 ** 31, 2 ** 32, 2 ** 53, 2147483648, -2147483649, 513,
  '', 'x', '\u001b[31mred\u001b[0m', 'a'.repeat(5000), {}, [], [null], ['x'], [[1, 2]], { '5': null }, { content: 3 },
];

type Path = (string | number)[];

/** Every path in a JSON value (objects and arrays), capped so a 1 MB tokenizer.json stays cheap. */
function paths(v: unknown, r: Rand, out: Path[] = [], at: Path = [], budget = { n: 4000 }): Path[] {
  if (budget.n-- <= 0) return out;
  out.push(at);
  if (Array.isArray(v)) {
    // Long arrays (merges, added tokens): a few random elements, not all.
    const idx = v.length <= 8 ? v.map((_, i) => i) : [0, v.length - 1, ...Array.from({ length: 6 }, () => int(r, v.length))];
    for (const i of idx) paths(v[i], r, out, [...at, i], budget);
  } else if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    const chosen = keys.length <= 64 ? keys : Array.from({ length: 32 }, () => pick(r, keys));
    for (const k of chosen) paths((v as Record<string, unknown>)[k], r, out, [...at, k], budget);
  }
  return out;
}

function get(root: unknown, p: Path): unknown {
  return p.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], root);
}

/**
 * One to `maxEdits` edits of a JSON document: replace a value (with an interesting one, a
 * neighbour's, or the same number nudged), delete a key or element, add a key, duplicate an
 * element. With a small probability the text itself is cut or corrupted instead.
 */
export function mutateJson(text: string, r: Rand, maxEdits = 3): string {
  if (r() < 0.05) return mutateText(text, r);
  const doc = JSON.parse(text) as unknown;
  const root = { doc } as Record<string, unknown>;
  const edits = 1 + int(r, maxEdits);
  for (let e = 0; e < edits; e++) {
    const all = paths(root.doc, r).map((p) => ['doc', ...p] as Path);
    const p = pick(r, all);
    const parentPath = p.slice(0, -1);
    const key = p[p.length - 1]!;
    const parent = get(root, parentPath) as Record<string | number, unknown> | unknown[];
    if (!parent || typeof parent !== 'object') continue;
    const current = (parent as Record<string | number, unknown>)[key];
    switch (int(r, 6)) {
      case 0:
      case 1: (parent as Record<string | number, unknown>)[key] = structuredClone(pick(r, INTERESTING_VALUES)); break;
      case 2:
        if (typeof current === 'number') (parent as Record<string | number, unknown>)[key] = pick(r, [current + 1, current - 1, current * 2, -current, current + 0.5, current * 2 ** 20]);
        else (parent as Record<string | number, unknown>)[key] = structuredClone(get(root, pick(r, all)) ?? null);
        break;
      case 3:
        if (key === 'doc') break;
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete (parent as Record<string, unknown>)[key as string];
        break;
      case 4:
        if (current && typeof current === 'object' && !Array.isArray(current)) {
          (current as Record<string, unknown>)[pick(r, ['vocab_size', 'num_hidden_layers', 'type', 'content', 'id', 'vocab', '99999', 'added_tokens'])] = structuredClone(pick(r, INTERESTING_VALUES));
        }
        break;
      case 5:
        if (Array.isArray(current) && current.length) current.push(structuredClone(pick(r, current)));
        break;
    }
  }
  return JSON.stringify(root.doc, null, r() < 0.5 ? 2 : undefined) ?? 'null';
}

function mutateText(text: string, r: Rand): string {
  const at = int(r, text.length + 1);
  switch (int(r, 3)) {
    case 0: return text.slice(0, at);
    case 1: return text.slice(0, at) + pick(r, ['{', '}', '"', ',', '\u0000', '\\u', 'NaN', '1e999']) + text.slice(at);
    default: return text.slice(0, at) + text.slice(at + 1 + int(r, 32));
  }
}
