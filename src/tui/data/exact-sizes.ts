/**
 * The target list's size column: the planner's exact output size per type. Planning a local folder
 * reads only headers (config, tokenizer, safetensors headers), so each type is cheap; an `hf:`
 * source would need the network per plan, so the list keeps the bits-per-weight estimate there.
 */
import { planConvert } from '../../pipeline/plan-convert.ts';
import { planQuantize } from '../../pipeline/plan-quantize.ts';
import { drain } from '../../pipeline/drain.ts';
import { PLANNABLE_FILE_TYPES } from '../../policy/type-policy.ts';

export const isRemoteSource = (source: string) => /^(hf:|https?:)/.test(source);

/** Whether the list can show an exact size for this source and type (else it shows the estimate). */
export const hasExactSize = (source: string | undefined, fileType: string) =>
  !!source && !isRemoteSource(source) && PLANNABLE_FILE_TYPES.includes(fileType);

/**
 * The whole output file in bytes, as the plan screen reports it (null when planning fails).
 * `imatrix`: plan as with an importance matrix; the type policy depends only on having one, so
 * `auto` (which plans without reading anything) stands for any file.
 */
export async function exactOutputBytes(source: string, fileType: string, signal?: AbortSignal, imatrix = false): Promise<number | null> {
  try {
    // A GGUF source is quantize's input; its imatrix-only types need a real file to plan: unknown here.
    if (source.toLowerCase().endsWith('.gguf')) {
      if (imatrix) return null;
      return (await drain(planQuantize({ input: source, output: 'size-probe.gguf', fileType, dryRun: true }), () => {})).outputBytes;
    }
    const plan = await drain(planConvert({ source, fileType, output: 'size-probe.gguf', signal, ...(imatrix ? { imatrix: 'auto' } : {}) }), () => {});
    return plan.outputBytes;
  } catch {
    return null;
  }
}
