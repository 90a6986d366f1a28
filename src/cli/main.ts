/**
 * The CLI: builds the commander program from the command modules and maps typed errors to exit
 * codes. Results go to stdout, diagnostics to stderr, every diagnostic with one prefix
 * (`gguf-forge:`); under --json / --jsonl a usage error is also a JSON error document on stdout.
 * Declaring the commands loads no pipeline: each command imports its modules when it runs, so
 * `--help` and `--version` start in about the time node itself takes; and a command line that names
 * a command declares that one alone (commands/index.ts commandsFor). The executable is bin.ts.
 */
import { Command, CommanderError } from 'commander';
import { ForgeError, UsageError } from '../../formats/errors.ts';
import { EXIT_CODES, exitCodeFor } from './exit-codes.ts';
import { commandsFor, type RegisterCommand } from './commands/index.ts';
import { jsonErrorPrinted, writeJsonError } from './headless.ts';

export const VERSION = '0.1.0';
const PREFIX = 'gguf-forge: ';

/** The program with the given commands (commandsFor(argv) picks the ones a command line needs). */
export function buildProgram(commands: readonly RegisterCommand[]): Command {
  const program = new Command('gguf-forge')
    .description('Convert Hugging Face models to GGUF (bit-identical to llama.cpp), AWQ and GPTQ, and validate the result')
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^error: /, PREFIX)),
    })
    .helpCommand('help [command]', 'show help for a command');
  for (const register of commands) register(program);
  // No command: the TUI on a terminal; headless (help) with --no-tui, CI=true or no TTY.
  program.option('--no-tui', 'never open the interactive screen')
    .option('--eval-text <file>', "interactive screen: the text the report's e (eval) scores (default: the bundled Moby-Dick chapters)")
    .allowExcessArguments().action(async (opts: { tui: boolean; evalText?: string }, cmd: Command) => {
    if (cmd.args.length) throw new UsageError('UNKNOWN_COMMAND', `unknown command '${cmd.args[0]}' (see gguf-forge --help)`);
    const { shouldStartTui } = await import('../tui/should-start.ts');
    if (!shouldStartTui({ noTui: !opts.tui })) return program.help();
    const { runTui } = await import('../tui/run-tui.tsx');
    await runTui(undefined, { evalText: opts.evalText });
  });
  // Every subcommand reports its own usage errors the same way.
  for (const cmd of program.commands) cmd.exitOverride().showSuggestionAfterError().configureOutput(program.configureOutput());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = buildProgram(await commandsFor(argv));
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.success;
  } catch (err) {
    return reportError(err, jsonMode(argv));
  }
}

/** --json / --jsonl as given on the command line (a usage error may come before commander has parsed them). */
function jsonMode(argv: string[]): { json?: boolean; jsonl?: boolean } {
  const before = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  return { json: before.includes('--json'), jsonl: before.includes('--jsonl') };
}

export function reportError(err: unknown, mode: { json?: boolean; jsonl?: boolean } = {}): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_CODES.success;
    // Commander printed the message already (with our prefix); JSON readers get a document too.
    if (mode.json || mode.jsonl) {
      const message = err.message.replace(/^error: /, '');
      const code = err.code.replace(/^commander\./, '').replace(/[A-Z]/g, (c) => '_' + c).toUpperCase(); // unknownOption → UNKNOWN_OPTION
      writeJsonError(new UsageError(code, message), { json: mode.json });
    }
    return EXIT_CODES.usage;
  }
  if (err instanceof ForgeError) {
    // Commands print their JSON error in the headless consumer; errors raised outside one get it here.
    if ((mode.json || mode.jsonl) && !jsonErrorPrinted(err)) writeJsonError(err, { json: mode.json });
    process.stderr.write(`${PREFIX}${err.message}\n`);
    return exitCodeFor(err.kind);
  }
  const e = err as Error;
  process.stderr.write(`${PREFIX}internal error: ${e?.stack ?? String(err)}\n`);
  return EXIT_CODES.internal;
}
