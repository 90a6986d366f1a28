/**
 * `gguf-forge pull hf:ORG/NAME[@REV] [--include GLOB]…`: download what a conversion needs into
 * the standard Hugging Face cache, without converting. Prints the snapshot folder. The token
 * (--token or HF_TOKEN) goes only into request headers, never into output.
 */
import type { Command } from 'commander';
import { UsageError } from '../../../formats/errors.ts';
import { pullModel, type PullResult } from '../../hub/pull.ts';
import { parseHubSource } from '../../hub/source.ts';
import { runHeadless } from '../headless.ts';
import { withSigintAbort } from '../sigint.ts';

interface PullFlags {
  include: string[];
  token?: string;
  cacheDir?: string;
  endpoint?: string;
  offline?: boolean;
  concurrency?: string;
  json?: boolean;
  jsonl?: boolean;
}

export function register(program: Command): void {
  program
    .command('pull')
    .description('download a Hugging Face model (config, tokenizer, safetensors) into the HF cache without converting')
    .argument('<source>', 'hf:ORG/NAME[@REVISION] (branch, tag or commit); hf:ORG/NAME/FILE also fetches that file')
    .option('--include <glob>', 'also download repo files matching this pattern, e.g. "*.gguf"; repeatable', collect, [])
    .option('--token <token>', 'Hugging Face access token for gated or private repos (default: $HF_TOKEN)')
    .option('--cache-dir <dir>', 'cache folder (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)')
    .option('--endpoint <url>', 'Hub URL (default: $HF_ENDPOINT or https://huggingface.co)')
    .option('--offline', 'use only the cache, like HF_HUB_OFFLINE=1')
    .option('--concurrency <n>', 'files downloaded at once, 1-8', '3')
    .option('--json', 'print one JSON document at the end on stdout')
    .option('--jsonl', 'print every event as a JSON line on stdout')
    .action(async (source: string, flags: PullFlags) => {
      const ref = parseHubSource(source);
      if (!ref) throw new UsageError('BAD_HUB_SOURCE', `pull needs a Hugging Face source like hf:ORG/NAME[@REVISION], got '${source}'`);
      if (flags.json && flags.jsonl) throw new UsageError('BAD_FLAGS', '--json and --jsonl are mutually exclusive');
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 8) throw new UsageError('BAD_CONCURRENCY', `--concurrency must be an integer from 1 to 8, got '${flags.concurrency}'`);
      const include = ref.path ? [...flags.include, ref.path] : flags.include;
      await withSigintAbort((signal) => runHeadless(
        pullModel({
          repo: ref.repo, revision: ref.revision, include, token: flags.token, endpoint: flags.endpoint,
          cacheDir: flags.cacheDir, offline: flags.offline ? true : undefined, concurrency, signal,
        }),
        { json: flags.json, jsonl: flags.jsonl, formatResult },
      ));
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function formatResult(result: unknown): string {
  const r = result as PullResult;
  return [`snapshot: ${r.snapshotDir}`, `commit: ${r.commit}`, `files: ${r.files.length} (${r.files.join(', ')})`].join('\n');
}
