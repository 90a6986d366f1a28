/** `npm run bench`: runs every benchmark in test/bench/*.bench.ts in sequence. */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
/** Names that select more than their own file: `npm run bench eval` also times the forward kernels. */
const ALIASES: Record<string, string[]> = { eval: ['forward-kernels'] };
const only = process.argv.slice(2).flatMap((o) => [o, ...(ALIASES[o] ?? [])]);
for (const f of readdirSync(here).filter((n) => n.endsWith('.bench.ts')).sort()) {
  if (only.length && !only.some((o) => f.includes(o))) continue;
  console.log(`\n=== ${f} ===`);
  const mod = await import(join(here, f));
  if (typeof mod.default === 'function') await mod.default();
}
