/**
 * When `gguf-forge` with no command opens the interactive screen: only on a real terminal (stdin
 * and stdout both TTYs), never under CI (`CI` set to anything but "false"/"0") and never with
 * `--no-tui`. Everything else is headless: help text, never an Ink screen.
 */
export interface TuiContext {
  noTui?: boolean;
  env?: NodeJS.ProcessEnv;
  stdinIsTTY?: boolean;
  stdoutIsTTY?: boolean;
}

export function shouldStartTui(ctx: TuiContext = {}): boolean {
  const env = ctx.env ?? process.env;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  const stdinTTY = ctx.stdinIsTTY ?? Boolean(process.stdin.isTTY);
  const stdoutTTY = ctx.stdoutIsTTY ?? Boolean(process.stdout.isTTY);
  return !ctx.noTui && !ci && stdinTTY && stdoutTTY;
}
