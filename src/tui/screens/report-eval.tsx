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

/** The source the output was made from, when the summary names one. */
export function evalReference(summary: JobSummary): string | undefined {
  if (summary.kind === 'convert') return summary.dir;
  if (summary.kind === 'quantize') return summary.input;
  return undefined;
}

export function useReportEval(summary: JobSummary, opts: Omit<AfterEvalOptions, 'signal'> = {}): { start: () => void; line: React.ReactNode } {
  const [st, setSt] = useState<EvalState>(summary.eval ? { state: 'done', figures: summary.eval as EvalFigures } : { state: 'idle' });
  const abort = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => abort.current?.abort(), []);
  const ref = evalReference(summary);
  const start = () => {
    if (!ref || st.state === 'running' || ('dryRun' in summary && summary.dryRun)) return;
    abort.current = new AbortController();
    setSt({ state: 'running', progress: 'opening models' });
    void (async () => {
      try {
        const { withEval } = await import('../../pipeline/eval-after.ts');
        async function* done(): AsyncGenerator<never, JobSummary> { return summary; }
        const gen = withEval(done(), () => ref, { ...opts, signal: abort.current!.signal });
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
  const line =
    st.state === 'done' ? <Text color={tone('accent')}>{evalFiguresLine(st.figures)}</Text>
      : st.state === 'running' ? <Text color={tone('dim')}>eval against {ref}: {st.progress}</Text>
        : st.state === 'failed' ? <Text color={tone('warn')}>eval failed: {st.message}</Text>
          : ref ? <Text color={tone('dim')}>e: evaluate PPL and KL divergence against {ref}</Text> : null;
  return { start, line };
}
