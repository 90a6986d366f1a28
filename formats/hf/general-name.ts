/**
 * gguf-py's `Metadata.id_to_title`, which convert applies to the model folder's name when nothing
 * better names the model: words split on '-' and spaces; an all-lowercase word is title-cased unless
 * it is a version ("v1.5") or starts with a digit ("7b"); other words are kept as they are.
 * "tiny-qwen2-f32" → "Tiny Qwen2 F32", "stories260K" → "stories260K".
 */
export function idToTitle(id: string): string {
  return id.trim().replace(/-/g, ' ').split(/\s+/).filter(Boolean).map((w) => {
    const isLower = /[a-z]/.test(w) && w === w.toLowerCase() && w !== w.toUpperCase();
    if (!isLower || /^(v\d+(?:\.\d+)*|\d.*)$/.test(w)) return w;
    return pythonTitle(w);
  }).join(' ');
}

/** Python str.title(): upper-case a letter that follows a non-letter, lower-case the rest. */
function pythonTitle(w: string): string {
  let out = '';
  let prevLetter = false;
  for (const ch of w) {
    const letter = ch.toLowerCase() !== ch.toUpperCase();
    out += letter ? (prevLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevLetter = letter;
  }
  return out;
}
