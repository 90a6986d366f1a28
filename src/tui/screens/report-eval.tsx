/**
 * The report screen's eval: on a key, evaluate the written output against its source (the same
 * `eval` pipeline as the CLI, its progress events shown live) and show PPL and KL beside the
 * per-layer weight error. A summary that already carries figures (convert --eval) shows them.
 */
import React, { useEffect, useRef, useState } from 'react';
import { Text } from 'ink';
import { tone } from '../theme.ts';
import type { JobSummary } from '../../pipeline/events.ts';
import { evalFiguresLine, type EvalFigures } from '../../pipeline/eval-figures.ts';
import type { AfterEvalOptions } from '../../pipeline/eval-after.ts';

type EvalState = { state: 'idle' } | { state: 'running'; progress: string } | { state: 'done'; figures: EvalFigures } | { state: 'failed'; message: string };

/**
 * The source the output was made from: the summary names it for GGUF jobs; an AWQ/GPTQ summary
 * does not, so the caller passes the source the job was started with (a folder, or `hf:` whose
 * snapshot the conversion left in the HF cache).
 */
export function evalReference(summary: JobSummary, source?: string): string | undefined {
  if (summary.kind === 'convert') return summary.dir;
  if (summary.kind === 'quantize') return summary.input;
  return source;
}

/** An `hf:` reference becomes its cached snapshot folder (offline: the conversion just pulled it). */
async function referenceFolder(ref: string, signal: AbortSignal): Promise<string> {
  if (!ref.startsWith('hf:')) return ref;
  const { resolveSource } = await import('../../hub/resolve-source.ts');
  const gen = resolveSource(ref, { offline: true, signal });
  let step = await gen.next();
  while (!step.done) step = await gen.next();
  return step.value.dir;
}

export function useReportEval(summary: JobSummary, opts: Omit<AfterEvalOptions, 'signal'> = {}, source?: string): { start: () => void; line: React.ReactNode; text: string | null } {
  const [st, setSt] = useState<EvalState>(summary.eval ? { state: 'done', figures: summary.eval as EvalFigures } : { state: 'idle' });
  const abort = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => abort.current?.abort(), []);
  const ref = evalReference(summary, source);
  const start = () => {
    if (!ref || st.state === 'running' || ('dryRun' in summary && summary.dryRun)) return;
    abort.current = new AbortController();
    setSt({ state: 'running', progress: 'opening models' });
    void (async () => {
      try {
        const { withEval } = await import('../../pipeline/eval-after.ts');
        async function* done(): AsyncGenerator<never, JobSummary> { return summary; }
        const signal = abort.current!.signal;
        const folder = await referenceFolder(ref, signal);
        const gen = withEval(done(), () => folder, { ...opts, signal });
        let step = await gen.next();
        while (!step.done) {
          const ev = step.value;
          if (ev.type === 'eval') setSt({ state: 'running', progress: `chunk ${ev.chunksDone}/${ev.chunksTotal}${ev.tokensPerSecond ? `, ${ev.tokensPerSecond.toFixed(0)} tokens/s` : ''}` });
          step = await gen.next();
        }
        setSt({ state: 'done', figures: step.value.eval as EvalFigures });
      } catch (err) {
        setSt({ state: 'failed', message: (err as Error).message });
      }
    })();
  };
  const [text, color] =
    st.state === 'done' ? [evalFiguresLine(st.figures), tone('accent')]
      : st.state === 'running' ? [`eval against ${ref}: ${st.progress}`, tone('dim')]
        : st.state === 'failed' ? [`eval failed: ${st.message}`, tone('warn')]
          : ref ? [`e: evaluate PPL and KL divergence against ${ref}`, tone('dim')] : [null, undefined];
  const line = text === null ? null : <Text color={color}>{text}</Text>;
  return { start, line, text };
}
