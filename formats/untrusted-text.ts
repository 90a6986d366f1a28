/**
 * The one place where text that came from an input file (tensor names, metadata keys, JSON values,
 * tokens) is made safe to print: control characters become visible escapes, so a file cannot
 * send terminal escape sequences (ESC, CSI, OSC) or rewrite lines with CR; and length is capped, so
 * a corrupted 1 MB key cannot become a 1 MB error message. Every ForgeError message passes through
 * `safeMessage`; `inspect` and the pipeline quote untrusted names with `untrusted`.
 */

/** C0 controls, DEL, C1 controls, line/paragraph separators and bidi overrides (which reorder a terminal line). */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
/** The same minus \n and \t, which our own multi-line messages use. */
const UNSAFE_IN_MESSAGE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** Longest untrusted string shown whole (characters). */
export const UNTRUSTED_MAX = 200;
/** Longest message a ForgeError carries; anything longer is cut in the middle. */
export const MESSAGE_MAX = 2000;

function escapeChar(c: string): string {
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Cut `s` to `max` characters, keeping its head and tail and saying how much was left out. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const keep = Math.max(8, max - 40);
  const head = Math.ceil(keep * 0.75);
  const tail = keep - head;
  return `${s.slice(0, head)}…[${s.length - keep} chars cut]…${tail ? s.slice(s.length - tail) : ''}`;
}

/**
 * An untrusted string as printable text: cut to `max` characters (before escaping, so the cost
 * is bounded even for huge inputs), every control character shown as \xNN / \uNNNN.
 */
export function untrusted(s: unknown, max = UNTRUSTED_MAX): string {
  const text = typeof s === 'string' ? s : String(s);
  return cut(text, max).replace(UNSAFE, escapeChar);
}

/** A whole message: controls escaped (newlines and tabs kept), length capped at MESSAGE_MAX. */
export function safeMessage(message: string): string {
  const escaped = cut(message, MESSAGE_MAX).replace(UNSAFE_IN_MESSAGE, escapeChar);
  return escaped.length > MESSAGE_MAX ? cut(escaped, MESSAGE_MAX) : escaped;
}
