/**
 * `planQuantize`: GGUF → GGUF requantization planned as llama-quantize does it (reference doc §7):
 * every tensor's type from llama.cpp's policy, the metadata copied with `general.file_type` and
 * `general.quantization_version` moved to the end and the split keys removed, the tensors in
 * llama-quantize's sorted order. Reads the input's header only.
 */
import { resolve } from 'node:path';
import { readGguf, getKv, GGUF_DEFAULT_ALIGNMENT } from '../../formats/gguf/reader.ts';
import { UnsupportedError, UsageError } from '../../formats/errors.ts';
import { fileTypeByName } from '../../kernels/file-types.ts';
import { ggmlType } from '../../kernels/ggml-types.ts';
import { canQuantize, canDequantize, hasImatrixQuantizer, requiresImatrix as ggmlRequiresImatrix } from '../../kernels/quant-support.ts';
import { planTensorTypes, PLANNABLE_FILE_TYPES, type TensorPlan } from '../policy/type-policy.ts';
import { modelFactsFromMetadata } from '../policy/model-facts.ts';
import { parseTensorTypeOverride, parseTypeFlag } from '../policy/overrides.ts';
import { quantizedFileKvs } from './quantized-kvs.ts';
import { fallbackWarnings, plannedSize, type QuantizePlan } from './plan.ts';
import type { PipelineEvent } from './events.ts';
import { requiresImatrix } from '../policy/mixture-rules.ts';
import { applyImatrix, checkNoImatrixNeeded, withImatrixKvs, type PlanImatrix } from './imatrix-apply.ts';
import { rememberHeader, statForHeader } from './planned-header.ts';

export interface QuantizePlanOptions {
  input: string;
  output: string;
  /** File type name as llama-quantize takes it: `q5_K_M`, `Q4_0`, `q5_K` (= q5_K_M), `f16`… */
  fileType: string;
  pure?: boolean;
  /** `--output-tensor-type`: type name for output.weight (and a tied token_embd). */
  outputTensorType?: string;
  /** `--token-embedding-type`: type name for token_embd.weight. */
  tokenEmbeddingType?: string;
  /** `PATTERN=TYPE` strings, e.g. `attn_v=q8_0`; PATTERN is a regex searched in the tensor name. */
  overrides?: string[];
  allowRequantize?: boolean;
  /** `--imatrix FILE`: an importance matrix (GGUF or legacy .dat) for the quantizers and the policy. */
  imatrix?: string;
  /** A dry run only warns when the file type needs an imatrix and none is given. */
  dryRun?: boolean;
}

const typeName = (t: number) => ggmlType(t)?.name ?? `type ${t}`;

export async function* planQuantize(opts: QuantizePlanOptions): AsyncGenerator<PipelineEvent, QuantizePlan> {
  const ft = fileTypeByName(opts.fileType);
  if (!ft || !PLANNABLE_FILE_TYPES.includes(ft.name)) {
    throw new UsageError('BAD_FILE_TYPE', `unknown or unsupported file type '${opts.fileType}' (supported: ${PLANNABLE_FILE_TYPES.join(', ')})`);
  }
  if (resolve(opts.input) === resolve(opts.output)) throw new UsageError('SAME_FILE', `output ${opts.output} is the input file; choose another name`);
  const overrides = (opts.overrides ?? []).map(parseTensorTypeOverride);
  const outputTensorType = parseTypeFlag('--output-tensor-type', opts.outputTensorType);
  const tokenEmbeddingType = parseTypeFlag('--token-embedding-type', opts.tokenEmbeddingType);

  yield { type: 'phase', phase: 'plan', message: `reading ${opts.input}` };
  const before = await statForHeader(opts.input);
  const file = await readGguf(opts.input);
  const facts = modelFactsFromMetadata((key) => getKv(file, key)?.value);
  const imatrix = opts.imatrix !== undefined ? await (await import('../../formats/imatrix/read-imatrix.ts')).readImatrix(opts.imatrix) : undefined;
  const tensors = planTensorTypes(file.tensors, facts, ft, { pure: opts.pure, overrides, allowRequantize: opts.allowRequantize, outputTensorType, tokenEmbeddingType, hasImatrix: !!imatrix });
  let planImatrix: PlanImatrix | undefined;
  if (imatrix) planImatrix = yield* applyImatrix(tensors, imatrix, opts.imatrix!, ft.name);
  else yield* checkNoImatrixNeeded(tensors, ft.name, !!opts.dryRun);
  // A dry run without the imatrix an IQ mix needs has warned already; its kernels are checked when one is given.
  checkKernels(imatrix ? tensors : tensors.filter((t) => !requiresImatrix(t.name, t.targetType, ft.name)), opts.input, planImatrix);
  if (overrides.length && !ggmlType(ft.defaultType)!.quantized) {
    yield { type: 'warning', code: 'OVERRIDES_IGNORED', message: `--tensor-type is ignored for the ${ft.name} file type (llama-quantize applies overrides only to quantized file types)` };
  }
  yield* fallbackWarnings(tensors, opts.input);
  const alignment = getKv(file, 'general.alignment');
  if (alignment && alignment.value !== GGUF_DEFAULT_ALIGNMENT) {
    yield { type: 'warning', code: 'ALIGNMENT', file: opts.input, message: `dropping general.alignment=${String(alignment.value)}: the output is aligned to 32 bytes, as llama-quantize writes it` };
  }
  const kvs = withImatrixKvs(quantizedFileKvs(file.kvs.filter((kv) => kv !== alignment || kv.value === GGUF_DEFAULT_ALIGNMENT), ft.id), planImatrix);
  const plan: QuantizePlan = {
    kind: 'quantize', input: opts.input, inputBytes: file.fileSize, output: opts.output, fileType: ft.name, tensors, kvs, ...plannedSize(kvs, tensors),
    ...(planImatrix ? { imatrix: planImatrix } : {}),
  };
  rememberHeader(plan, file, before);
  return plan;
}

/**
 * Refuses, before writing anything, a plan that needs a kernel we do not have (e.g. an IQ override).
 * Types quantized only with an importance matrix (IQ1/IQ2/IQ3) count when the tensor has weights.
 */
export function checkKernels(plans: TensorPlan[], input: string, imatrix?: PlanImatrix): void {
  for (const p of plans) {
    if (!p.quantize) continue;
    if (!canDequantize(p.sourceType)) {
      throw new UnsupportedError('NO_KERNEL', `tensor '${p.name}' is ${typeName(p.sourceType)}, which gguf-forge cannot read as F32`, { file: input, tensor: p.name });
    }
    if (!canQuantize(p.targetType) && !(imatrix?.weights.has(p.name) && hasImatrixQuantizer(p.targetType))) {
      throw new UnsupportedError('NO_KERNEL', `tensor '${p.name}': gguf-forge has no ${typeName(p.targetType)} quantizer`, { file: input, tensor: p.name });
    }
    // ggml asserts an importance matrix for these types (an override such as `attn_q=iq2_xxs`
    // without --imatrix gets here): refuse with llama-quantize's message before writing.
    if (ggmlRequiresImatrix(p.targetType) && !imatrix?.weights.has(p.name)) {
      throw new UnsupportedError('IMATRIX_REQUIRED', `tensor '${p.name}': this quantization requires an imatrix! (target type ${typeName(p.targetType)})`, { file: input, tensor: p.name });
    }
  }
}
