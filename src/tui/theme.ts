/**
 * Colours, or none: with NO_COLOR set (any value, per no-color.org) every helper returns
 * undefined, so Ink prints plain text and selection is shown by the `›` marker alone.
 */
export function colorEnabled(env = process.env): boolean {
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}

export type Tone = 'accent' | 'good' | 'warn' | 'bad' | 'dim';
const TONES: Record<Tone, string> = { accent: 'cyan', good: 'green', warn: 'yellow', bad: 'red', dim: 'gray' };

export function tone(t: Tone): string | undefined {
  return colorEnabled() ? TONES[t] : undefined;
}

/** The layout never goes below 80 columns; wider terminals give the name columns more room. */
export const MIN_COLUMNS = 80;
/** Every screen fits 80×24: lists size themselves from the rows left over. */
export const MIN_ROWS = 24;
export function layoutWidth(columns: number | undefined): number {
  return Math.max(MIN_COLUMNS, columns ?? MIN_COLUMNS);
}
