/**
 * The worker threads a command line will quantize with, decided from argv alone, before the rest
 * of the CLI loads (bin.ts), so that their pool boots while modules load and the plan is made
 * (kernels/fast/prestart.ts). `quantize` and `convert` quantize unless they only plan (--dry-run),
 * print help, or target f32. A wrong guess costs an idle pool that nothing takes and that keeps
 * no process alive; commander still parses and validates every flag afterwards.
 */
import { availableParallelism } from 'node:os';

const QUANTIZING = new Set(['quantize', 'convert']);
const NO_WORK = new Set(['--dry-run', '--help', '-h']);

function optionValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i]!.startsWith(`${name}=`)) return args[i]!.slice(name.length + 1);
  }
  return undefined;
}

/** Pool size for this command line, or undefined when it will not quantize. */
export function earlyPoolThreads(argv: readonly string[]): number | undefined {
  const [command, ...rest] = argv;
  if (command === undefined || !QUANTIZING.has(command)) return undefined;
  const args = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (args.some((a) => NO_WORK.has(a)) || optionValue(args, '--type')?.toLowerCase() === 'f32') return undefined;
  const threads = optionValue(args, '--threads');
  if (threads === undefined) return availableParallelism();
  const n = Number(threads);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}
