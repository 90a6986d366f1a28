/**
 * llama-quantize's per-tensor type policy (`llama_tensor_get_type` in src/llama-quant.cpp; reference
 * doc §7.2–§7.3): which tensors are quantized, to which type, and every shape fallback, in the
 * order llama-quantize writes them. Pure data in, plan out: no I/O.
 *
 * Precedence, as upstream: tensors that may not be quantized keep their type; then
 * `tokenEmbeddingType` / `outputTensorType`; then the file type's default; for quantized defaults,
 * the first matching `--tensor-type` override, else (unless `--pure`) the mixture rules; and last,
 * always, the shape fallback.
 */
import { ggmlType } from '../../kernels/ggml-types.ts';
import type { FileType } from '../../kernels/file-types.ts';
import { UnsupportedError } from '../../formats/errors.ts';
import { sortTensorsForQuantize, trimTrailingOnes } from './tensor-order.ts';
import type { ModelFacts } from './model-facts.ts';
import { tensorCategory, isAttnVLike } from './tensor-category.ts';
import { whyNotQuantizable } from './quantizable.ts';
import { shapeFallback } from './fallback.ts';
import { MIXTURE_FILE_TYPES, type MixtureFileType, type MixtureState, applyMixtureRules } from './mixture-rules.ts';

export type { ModelFacts } from './model-facts.ts';

export interface TensorPlanInput { name: string; ne: number[]; type: number; }

export interface TensorPlan {
  name: string;
  /** GGUF dims as written: trailing 1s dropped (`ggml_n_dims`). */
  ne: number[];
  sourceType: number;
  targetType: number;
  /** True when the data changes type (quantize or convert); false means a raw byte copy. */
  quantize: boolean;
  /** Which rule chose the target type, e.g. `attn-v:use-more-bits`, `keep:1-D tensor`, `override:/attn_q/`. */
  rule: string;
  /** Present whenever the tensor's shape forced a different type than the rules chose. */
  fallback?: { from: number; to: number; reason: string };
}

export interface PlanOptions {
  pure?: boolean;
  /** `--tensor-type PATTERN=TYPE`, first match (regex search on the name) wins. */
  overrides?: { pattern: RegExp; type: number }[];
  outputTensorType?: number;
  tokenEmbeddingType?: number;
  /** Without it, a plan that would convert an already-quantized tensor is refused. */
  allowRequantize?: boolean;
  /** llama-quantize `--leave-output-tensor`. */
  leaveOutputTensor?: boolean;
  /** An importance matrix will be used: llama-quantize's imatrix-dependent rules apply (`qs.has_imatrix`). */
  hasImatrix?: boolean;
}

/** File types whose policy is implemented: the mixtures plus the plain float ones. */
export const PLANNABLE_FILE_TYPES: readonly string[] = ['f32', 'f16', 'bf16', ...MIXTURE_FILE_TYPES];

const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

export function planTensorTypes(tensors: TensorPlanInput[], facts: ModelFacts, ftype: FileType, opts: PlanOptions = {}): TensorPlan[] {
  if (!PLANNABLE_FILE_TYPES.includes(ftype.name)) {
    throw new UnsupportedError('FILE_TYPE', `file type ${ftype.name} is not supported (supported: ${PLANNABLE_FILE_TYPES.join(', ')})`);
  }
  const defaultType = ftype.defaultType;
  const defaultIsQuantized = ggmlType(defaultType)!.quantized;
  const sorted = sortTensorsForQuantize(tensors);
  const cats = sorted.map((t) => tensorCategory(t.name));
  const state: MixtureState = {
    facts,
    nAttentionWv: cats.filter(isAttnVLike).length,
    iAttentionWv: 0, iFfnDown: 0, iFfnGate: 0, iFfnUp: 0,
    tiedEmbeddings: !cats.includes('output'),
    outputTensorType: opts.outputTensorType,
    hasImatrix: opts.hasImatrix,
  };

  return sorted.map((t, k) => {
    const ne = trimTrailingOnes(t.ne);
    const cat = cats[k]!;
    const base = { name: t.name, ne, sourceType: t.type };
    const keep = whyNotQuantizable(t.name, ne, { leaveOutputTensor: opts.leaveOutputTensor });
    if (keep !== null) return { ...base, targetType: t.type, quantize: false, rule: `keep:${keep}` };

    let plan: TensorPlan;
    // per_layer_token_embd follows --token-embedding-type unless a --tensor-type pattern names it.
    const namedByOverride = t.name === 'per_layer_token_embd.weight' && !!opts.overrides?.some((o) => t.name.search(o.pattern) >= 0);
    if (opts.tokenEmbeddingType !== undefined && cat === 'token_embd' && !namedByOverride) {
      plan = { ...base, targetType: explicitType(t.name, ne, opts.tokenEmbeddingType, '--token-embedding-type'), quantize: false, rule: 'token-embd:--token-embedding-type' };
    } else if (opts.outputTensorType !== undefined && cat === 'output') {
      plan = { ...base, targetType: explicitType(t.name, ne, opts.outputTensorType, '--output-tensor-type'), quantize: false, rule: 'output:--output-tensor-type' };
    } else if (!defaultIsQuantized) {
      plan = { ...base, targetType: defaultType, quantize: false, rule: `default:${ftype.name}` };
    } else {
      plan = planQuantized(t.name, ne, cat, ftype.name as MixtureFileType, defaultType, state, opts, base);
    }
    plan.quantize = plan.targetType !== plan.sourceType;
    if (plan.quantize && ggmlType(t.type)?.quantized && !opts.allowRequantize) {
      throw new UnsupportedError('REQUANTIZE',
        `tensor '${t.name}' is already quantized (${typeName(t.type)}); requantizing to ${typeName(plan.targetType)} loses quality and is disabled: pass --allow-requantize to dequantize it first`,
        { tensor: t.name });
    }
    return plan;
  });
}

/** llama.cpp returns these explicit types as is, with no shape fallback, so a misfit is an error. */
function explicitType(name: string, ne: number[], type: number, flag: string): number {
  const block = ggmlType(type)!.blockSize;
  if (ne[0]! % block !== 0) {
    throw new UnsupportedError('NO_FALLBACK', `tensor '${name}': ne[0]=${ne[0]} is not divisible by ${block} (required for ${typeName(type)}), and ${flag} gets no fallback`, { tensor: name });
  }
  return type;
}

function planQuantized(
  name: string, ne: number[], cat: ReturnType<typeof tensorCategory>, ftype: MixtureFileType, defaultType: number,
  state: MixtureState, opts: PlanOptions, base: Pick<TensorPlan, 'name' | 'ne' | 'sourceType'>,
): TensorPlan {
  let type = defaultType;
  let rule: string;
  let shape: { wanted: number; note: string } | undefined;
  // search(), not test(): a /g pattern would carry lastIndex from one tensor to the next.
  const hit = opts.overrides?.find((o) => name.search(o.pattern) >= 0);
  if (hit) {
    type = hit.type;
    rule = `override:${hit.pattern.source}`;
  } else if (opts.pure) {
    rule = 'pure';
  } else {
    const r = applyMixtureRules(name, ne, cat, ftype, defaultType, state);
    type = r.type;
    rule = r.rule;
    // Rule A's own shape check (output → Q8_0) is a fallback too, so it is reported like one.
    shape = r.shape;
  }
  const fb = shapeFallback(ne[0]!, type);
  if (fb.kind === 'none') throw new UnsupportedError('NO_FALLBACK', `tensor '${name}': ${fb.reason}`, { tensor: name });
  const plan: TensorPlan = { ...base, targetType: fb.type, quantize: false, rule };
  if (shape || fb.kind === 'fallback') {
    const reasons = [shape?.note, fb.kind === 'fallback' ? fb.reason : undefined].filter(Boolean).join('; ');
    plan.fallback = { from: shape ? shape.wanted : type, to: fb.type, reason: reasons };
  }
  return plan;
}
