/**
 * The TUI: a stack of screens (home → source → summary → target → plan → run → report, and the
 * inspector; AWQ/GPTQ go target → confirm → run → report), a help overlay, and the dependencies it talks to, injectable for tests. It
 * consumes the same pipeline generators as the headless CLI and holds no conversion logic.
 */
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React, { useRef, useState } from 'react';
import { Box, Text, useApp } from 'ink';
import { useKeys } from './use-keys.ts';
import { actionFor, keyName, type Scope } from './keymap.ts';
import { Home, type HomeChoice } from './screens/home.tsx';
import { Source, type SourceDeps, type SourcePick } from './screens/source.tsx';
import { Summary, type SummaryTarget } from './screens/summary.tsx';
import { Target, type TargetChoice, type TargetMemory } from './screens/target.tsx';
import { Plan, type ConvertFn } from './screens/plan.tsx';
import { Run } from './screens/run.tsx';
import { Report } from './screens/report.tsx';
import { Inspector } from './screens/inspector.tsx';
import { Help, SCOPE_TITLES } from './screens/help.tsx';
import { ConfirmGroupwise } from './screens/confirm-groupwise.tsx';
import { FolderInspector } from './screens/folder-inspector.tsx';
import { tone } from './theme.ts';
import type { ConvertOptions } from '../pipeline/convert.ts';
import type { ConvertPlan } from '../pipeline/plan.ts';
import type { JobSummary, PipelineEvent } from '../pipeline/events.ts';
import type { AwqGptqOptions } from '../pipeline/awq-gptq.ts';
import { GROUPWISE_TYPES } from './data/targets.ts';
import { imatrixProblem } from './data/imatrix-choice.ts';
import { ggufModelName, isGgufFile } from './data/quantize-job.ts';
import type { InspectorSource } from './data/inspector-data.ts';
import type { ModelSummaryData } from './data/model-summary.ts';
import { TextEntryContext, useTextEntryTracker } from './text-entry.tsx';
import type { AfterEvalOptions } from '../pipeline/eval-after.ts';

export interface TuiDeps extends SourceDeps {
  convert: ConvertFn;
  /** GGUF → GGUF (quantize) for a typed .gguf path; without it a GGUF source is not offered. */
  quantize?: ConvertFn;
  openInspector: (target: string) => Promise<InspectorSource>;
  /** The AWQ/GPTQ pipeline; without it those targets are listed as unavailable. */
  convertGroupwise?: (opts: AwqGptqOptions) => AsyncGenerator<PipelineEvent, JobSummary>;
  /** Summary of a Hub repo without downloading it. */
  hubSummary?: (repo: string) => Promise<ModelSummaryData>;
  /** The bundled sample model folder. */
  samplePath: string;
  /** Where default outputs go. */
  cwd: string;
  /** What the report's `e` evaluates with (text file, context…); default the `eval` command's defaults. */
  evalOptions?: Omit<AfterEvalOptions, 'signal'>;
}

interface ModelRef {
  source: string;
  name: string;
  parameters: number;
  /** A GGUF file to requantize (deps.quantize) rather than a model to convert. */
  gguf?: boolean;
}

type ScreenState =
  | { screen: 'home' }
  | { screen: 'source'; mode: 'convert' | 'inspect' }
  | { screen: 'summary'; target: SummaryTarget }
  | { screen: 'target'; model: ModelRef }
  | { screen: 'plan'; model: ModelRef; request: ConvertOptions }
  | { screen: 'run'; model: ModelRef; request: ConvertOptions; plan: ConvertPlan }
  | { screen: 'confirm-groupwise'; model: ModelRef; options: AwqGptqOptions }
  | { screen: 'run-groupwise'; model: ModelRef; options: AwqGptqOptions }
  | { screen: 'report'; model: ModelRef; summary: JobSummary; inspectable: boolean }
  | { screen: 'inspector'; target: string };

/** The keymap scopes each screen uses, for its `?` help. */
const SCREEN_SCOPES: Record<ScreenState['screen'], Scope[]> = {
  home: ['home', 'list'], source: ['source', 'edit'], summary: ['summary'], target: ['target', 'list', 'edit'], plan: ['plan', 'list'],
  run: ['run', 'cancel'], 'confirm-groupwise': ['groupwise', 'list'], 'run-groupwise': ['run', 'cancel'], report: ['report'], inspector: ['inspector', 'list', 'edit'],
};

const isDirectory = (p: string) => !/^(hf:|https?:)/.test(p) && (statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false);

export function App({ deps, initial }: { deps: TuiDeps; initial?: ScreenState }) {
  const { exit } = useApp();
  const [stack, setStack] = useState<ScreenState[]>([initial ?? { screen: 'home' }]);
  const [help, setHelp] = useState(false);
  const textEntry = useTextEntryTracker();
  const [notice, setNotice] = useState<string | null>(null);
  const top = stack[stack.length - 1]!;
  const push = (s: ScreenState) => { setNotice(null); setStack((st) => [...st, s]); };
  const back = () => { setNotice(null); setStack((st) => (st.length > 1 ? st.slice(0, -1) : st)); };
  /** Replaces the top screen (run → report): going back skips the finished run. */
  const replace = (s: ScreenState) => setStack((st) => [...st.slice(0, -1), s]);
  const backTo = (screen: ScreenState['screen']) => setStack((st) => {
    const i = st.map((s) => s.screen).lastIndexOf(screen);
    return i >= 0 ? st.slice(0, i + 1) : st;
  });

  useKeys((input, key) => {
    const name = keyName(input, key);
    const action = actionFor('global', name);
    if (help) {
      if (action === 'help' || action === 'back') setHelp(false);
      return;
    }
    if (action === 'help' && !textEntry.active()) setHelp(true);
    // While a conversion runs, Ctrl-C belongs to the run screen (it asks, then cancels cleanly).
    else if (action === 'quit' && top.screen !== 'run') exit();
  });

  const local = (dir: string, label: string): SummaryTarget => ({ kind: 'local', dir: path.resolve(deps.cwd, dir.replace(/^~(?=$|\/)/, os.homedir())), label });
  const onHome = (c: HomeChoice) => {
    if (c === 'quit') exit();
    else if (c === 'sample') push({ screen: 'summary', target: local(deps.samplePath, 'stories260K (bundled sample)') });
    else push({ screen: 'source', mode: c });
  };
  const onSource = (p: SourcePick) => {
    if (p.kind === 'inspect') push({ screen: 'inspector', target: /^(hf:|https?:)/.test(p.target) ? p.target : path.resolve(deps.cwd, p.target) });
    else if (p.kind === 'local') {
      const file = path.resolve(deps.cwd, p.dir.replace(/^~(?=$|\/)/, os.homedir()));
      // A GGUF file goes straight to the types: quantize reads its header when it plans.
      void isGgufFile(file).then((gguf) => (gguf && deps.quantize
        ? push({ screen: 'target', model: { source: file, name: ggufModelName(file), parameters: 0, gguf: true } })
        : push({ screen: 'summary', target: local(p.dir, p.label) })));
    }
    else push({ screen: 'summary', target: p });
  };
  const onSummary = (target: SummaryTarget, data: ModelSummaryData | null) => {
    if (target.kind === 'hub') push({ screen: 'target', model: { source: `hf:${target.id}`, name: target.id.split('/').pop()!, parameters: data?.parameters ?? 0 } });
    else push({ screen: 'target', model: { source: target.dir, name: data?.name ?? path.basename(target.dir), parameters: data?.parameters ?? 0 } });
  };
  /** The target screen's choices per model, so coming back to it keeps them. */
  const targetChoices = useRef<Record<string, TargetMemory>>({});
  /** AWQ/GPTQ options chosen on the plan screen, per method, kept while the app runs. */
  const groupwiseChoices = useRef<Record<string, Partial<AwqGptqOptions>>>({});
  const onTarget = (model: ModelRef, c: TargetChoice) => {
    if (GROUPWISE_TYPES.includes(c.fileType)) {
      const method = c.fileType as 'awq' | 'gptq';
      const options: AwqGptqOptions = { ...groupwiseChoices.current[method], source: model.source, output: path.resolve(deps.cwd, c.output), method, force: c.force };
      return push({ screen: 'confirm-groupwise', model, options });
    }
    const imatrix = c.imatrix === undefined || c.imatrix === 'auto' ? c.imatrix : path.resolve(deps.cwd, c.imatrix);
    const request: ConvertOptions = { source: model.source, fileType: c.fileType, output: path.resolve(deps.cwd, c.output), viaF16: c.viaF16, pure: c.pure, force: c.force, ...(imatrix ? { imatrix } : {}), ...(c.imatrixChunks ? { calib: { chunks: c.imatrixChunks } } : {}) };
    push({ screen: 'plan', model, request });
  };

  const active = !help;
  let body: React.ReactNode;
  switch (top.screen) {
    case 'home':
      body = <Home active={active} onChoose={onHome} />;
      break;
    case 'source':
      body = <Source mode={top.mode} active={active} deps={deps} onPick={onSource} onBack={back} />;
      break;
    case 'summary':
      body = <Summary key={JSON.stringify(top.target)} target={top.target} active={active} loadHub={deps.hubSummary} onNext={(d) => onSummary(top.target, d)}
        onInspect={(target) => push({ screen: 'inspector', target })} onBack={back} />;
      break;
    case 'target':
      body = <Target key={top.model.source} name={top.model.name} source={top.model.source} parameters={top.model.parameters} groupwise={!!deps.convertGroupwise && !top.model.gguf} active={active}
        outputExists={(o) => existsSync(path.resolve(deps.cwd, o))}
        checkImatrix={(c) => imatrixProblem(c.kind === 'file' && c.path ? { ...c, path: path.resolve(deps.cwd, c.path) } : c)}
        remembered={targetChoices.current[top.model.source]} onRemember={(m) => { targetChoices.current[top.model.source] = m; }}
        defaultOutput={(t) => (GROUPWISE_TYPES.includes(t) ? `${top.model.name}-${t.toUpperCase()}` : `${top.model.name}-${t.toUpperCase()}.gguf`)} onChoose={(c) => onTarget(top.model, c)} onBack={back} />;
      break;
    case 'plan':
      body = <Plan request={top.request} convert={top.model.gguf ? deps.quantize! : deps.convert} active={active} onBack={back}
        onConfirm={(plan) => push({ screen: 'run', model: top.model, request: top.request, plan })} />;
      break;
    case 'run':
      // An `auto` imatrix is computed by the run, and the plan is made again with it (the screen's plan
      // only named it); any other plan is the one the user saw and confirmed.
      body = <Run request={{ ...top.request, plan: top.request.imatrix === 'auto' ? undefined : top.plan }} convert={top.model.gguf ? deps.quantize! : deps.convert} active={active} onBack={back}
        onDone={(summary) => replace({ screen: 'report', model: top.model, summary, inspectable: true })}
        onCancelled={() => { backTo('target'); setNotice('Cancelled: no output was written.'); }} />;
      break;
    case 'confirm-groupwise':
      body = <ConfirmGroupwise options={top.options} active={active} onBack={back}
        onChange={(o) => { groupwiseChoices.current[o.method] = { bits: o.bits, groupSize: o.groupSize, sym: o.sym, descAct: o.descAct, keepUnaligned: o.keepUnaligned, algorithm: o.algorithm, calibration: o.calibration }; }}
        onConfirm={(options) => push({ screen: 'run-groupwise', model: top.model, options })} />;
      break;
    case 'run-groupwise':
      body = <Run start={(signal) => deps.convertGroupwise!({ ...top.options, signal })} title={`converting · ${top.options.method} → ${top.options.output}`}
        active={active} onBack={back}
        onDone={(summary) => replace({ screen: 'report', model: top.model, summary, inspectable: true })}
        onCancelled={() => { backTo('target'); setNotice('Cancelled: no output was written.'); }} />;
      break;
    case 'report':
      body = <Report summary={top.summary} source={top.model.source} evalOptions={deps.evalOptions} active={active} onQuit={exit}
        onInspect={top.inspectable ? () => push({ screen: 'inspector', target: top.summary.output }) : undefined}
        onAgain={() => backTo('target')} />;
      break;
    case 'inspector':
      body = isDirectory(top.target)
        ? <FolderInspector key={top.target} dir={top.target} active={active} onBack={back} onQuit={exit} />
        : <Inspector key={top.target} target={top.target} open={deps.openInspector} active={active} onBack={back} onQuit={exit} />;
      break;
  }
  return (
    <TextEntryContext.Provider value={textEntry}>
      <Box flexDirection="column">
        {notice ? <Text color={tone('warn')}>{notice}</Text> : null}
        <Box display={help ? 'none' : 'flex'} flexDirection="column">{body}</Box>
        {help ? <Help scopes={SCREEN_SCOPES[top.screen]} screen={SCOPE_TITLES[SCREEN_SCOPES[top.screen][0]!]} /> : null}
      </Box>
    </TextEntryContext.Provider>
  );
}
