/**
 * The warning a run gives when it removed temporary outputs left by killed processes for the same
 * output (formats/io/atomic-file.ts finds them by the owner's pid in the name).
 */
import type { WarningEvent } from './events.ts';

export function staleTempWarnings(removed: readonly string[]): WarningEvent[] {
  return removed.map((file) => ({
    type: 'warning',
    code: 'STALE_TEMP_REMOVED',
    file,
    message: `removed ${file}, a temporary output left by a process that no longer runs (killed before it finished)`,
  }));
}
