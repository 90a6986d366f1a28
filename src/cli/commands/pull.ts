/**
 * `gguf-forge pull hf:ORG/NAME[@REV] [--include GLOB]…`: download what a conversion needs into
 * the standard Hugging Face cache, without converting. Prints the snapshot folder. The token
 * (--token or HF_TOKEN) goes only into request headers, never into output.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import type { PullResult } from '../../hub/pull.ts';
import type { PipelineEvent } from '../../pipeline/events.ts';
import { parseHubSource } from '../../hub/source.ts';
import { addOutputModes, collect, offlineOption, parser, tokenOption, type OutputModeFlags } from '../options.ts';
import { runCommand } from '../run-command.ts';

interface PullFlags extends OutputModeFlags {
  include: string[];
  token?: string;
  cacheDir?: string;
  endpoint?: string;
  offline?: boolean;
  concurrency: number;
}

const concurrency = (v: string): number => {
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 8)) throw new UsageError('BAD_CONCURRENCY', `expected an integer from 1 to 8, got '${v}'`);
  return n;
};

export function register(program: Command): void {
  const cmd = program
    .command('pull')
    .description('download a Hugging Face model (config, tokenizer, safetensors) into the HF cache without converting')
    .argument('<source>', 'hf:ORG/NAME[@REVISION] (branch, tag or commit); hf:ORG/NAME/FILE also fetches that file')
    .option('--include <glob>', 'also download repo files matching this pattern, e.g. "*.gguf"; repeatable', collect, [])
    .addOption(tokenOption())
    .option('--cache-dir <dir>', 'cache folder (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)')
    .option('--endpoint <url>', 'Hub URL (default: $HF_ENDPOINT or https://huggingface.co)')
    .addOption(offlineOption())
    .addOption(new Option('--concurrency <n>', 'files downloaded at once, 1-8').default(3).argParser(parser(concurrency)));
  addOutputModes(cmd).action(async (source: string, flags: PullFlags) => {
    await runCommand(flags, (signal) => pullJob(source, flags, signal), { formatResult });
  });
}

async function* pullJob(source: string, flags: PullFlags, signal: AbortSignal): AsyncGenerator<PipelineEvent, PullResult> {
  const ref = parseHubSource(source);
  if (!ref) throw new UsageError('BAD_HUB_SOURCE', `pull needs a Hugging Face source like hf:ORG/NAME[@REVISION], got '${source}'`);
  const include = ref.path ? [...flags.include, ref.path] : flags.include;
  const { pullModel } = await import('../../hub/pull.ts');
  return yield* pullModel({
    repo: ref.repo, revision: ref.revision, include, token: flags.token, endpoint: flags.endpoint,
    cacheDir: flags.cacheDir, offline: flags.offline ? true : undefined, concurrency: flags.concurrency, signal,
  });
}

function formatResult(result: unknown): string {
  const r = result as PullResult;
  return [`snapshot: ${r.snapshotDir}`, `commit: ${r.commit}`, `files: ${r.files.length} (${r.files.join(', ')})`].join('\n');
}
