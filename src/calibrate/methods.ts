/**
 * The calibrated methods `--method` can name, built from the run's options: GPTQ and AWQ (each the
 * default method of its `--type`).
 */
import type { LayerMethod } from './layer-method.ts';
import { gptqMethod } from './gptq-method.ts';
import { awqMethod } from './awq-method.ts';

export interface MethodParams {
  dampPercent?: number;
  trueSequential?: boolean;
  staticGroups?: boolean;
}

const METHODS: Partial<Record<'gptq' | 'awq', (p: MethodParams) => LayerMethod>> = {
  gptq: (p) => gptqMethod({ dampPercent: p.dampPercent, trueSequential: p.trueSequential, staticGroups: p.staticGroups }),
  awq: () => awqMethod(),
};

export function calibratedMethodNames(): string[] {
  return Object.keys(METHODS);
}

export function layerMethodFor(name: 'gptq' | 'awq', p: MethodParams): LayerMethod | undefined {
  return METHODS[name]?.(p);
}
