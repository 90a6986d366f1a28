/**
 * CLI entry: builds the commander program from the command modules and maps typed errors to
 * exit codes. Results go to stdout, diagnostics to stderr.
 */
import { Command, CommanderError } from 'commander';
import { ForgeError, UsageError } from '../../formats/errors.ts';
import { EXIT_CODES, exitCodeFor } from './exit-codes.ts';
import { COMMANDS } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('gguf-forge')
    .description('Convert Hugging Face models to GGUF (bit-identical to llama.cpp), AWQ and GPTQ, and validate the result')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of COMMANDS) register(program);
  // No command: the TUI on a terminal; headless (help) with --no-tui, CI=true or no TTY.
  program.option('--no-tui', 'never open the interactive screen').allowExcessArguments().action(async (opts: { tui: boolean }, cmd: Command) => {
    if (cmd.args.length) throw new UsageError('UNKNOWN_COMMAND', `unknown command '${cmd.args[0]}' (see gguf-forge --help)`);
    const { shouldStartTui } = await import('../tui/should-start.ts');
    if (!shouldStartTui({ noTui: !opts.tui })) return program.help();
    const { runTui } = await import('../tui/run-tui.tsx');
    await runTui();
  });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.success;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_CODES.success;
    return EXIT_CODES.usage;
  }
  if (err instanceof ForgeError) {
    process.stderr.write(`gguf-forge: ${err.message}\n`);
    return exitCodeFor(err.kind);
  }
  const e = err as Error;
  process.stderr.write(`gguf-forge: internal error: ${e?.stack ?? String(err)}\n`);
  return EXIT_CODES.internal;
}

const isEntry = process.argv[1] && /(?:main\.ts|bin\.js|gguf-forge)$/.test(process.argv[1]);
if (isEntry) {
  process.exitCode = await main(process.argv.slice(2));
}
