/**
 * Every CLI command, in help order, by name. Each module exports `register(program)`; adding a
 * command is one line here. The modules load on demand: `gguf-forge inspect FILE` loads the
 * inspect command alone, `--version` none, while help, the TUI and unknown names load them all
 * (main.ts).
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly (readonly [name: string, load: () => Promise<{ register: RegisterCommand }>])[] = [
  ['convert', () => import('./convert.ts')],
  ['quantize', () => import('./quantize.ts')],
  ['pull', () => import('./pull.ts')],
  ['inspect', () => import('./inspect.ts')],
  ['batch', () => import('./batch.ts')],
  ['eval', () => import('./eval.ts')],
  ['imatrix', () => import('./imatrix.ts')],
];

/**
 * The register functions a command line needs: the named command's alone when the first word
 * names one (what follows is that command's flags and arguments), otherwise all of them, in help
 * order (`--help`, `help X`, no command, a misspelt command that gets a suggestion).
 */
export async function commandsFor(argv: readonly string[]): Promise<RegisterCommand[]> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return []; // prints the version alone
  const named = COMMANDS.find(([name]) => name === argv[0]);
  const chosen = named ? [named] : COMMANDS;
  return (await Promise.all(chosen.map(([, load]) => load()))).map((m) => m.register);
}
