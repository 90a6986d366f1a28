/** Human units for sizes and counts, shared by every text and TUI view. */

/** 1536 → `1.50 KiB`; below 1 KiB the exact byte count. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(2)} ${units[i]}`;
}

/** 260032 → `260.0K`, 1.1e9 → `1.1B`. */
export function formatCount(n: number): string {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [f, u] of units) if (n >= f) return `${(n / f).toFixed(n / f >= 100 ? 0 : 1)}${u}`;
  return String(n);
}
