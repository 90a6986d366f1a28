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
import { canQuantize, canDequantize, requiresImatrix } from '../../kernels/quant-table.ts';
import { planTensorTypes, PLANNABLE_FILE_TYPES, type TensorPlan } from '../policy/type-policy.ts';
import { modelFactsFromMetadata } from '../policy/model-facts.ts';
import { parseTensorTypeOverride, parseTypeFlag } from '../policy/overrides.ts';
import { quantizedFileKvs } from './quantized-kvs.ts';
import { fallbackWarnings, plannedSize, type QuantizePlan } from './plan.ts';
import type { PipelineEvent } from './events.ts';

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
  const file = await readGguf(opts.input);
  const facts = modelFactsFromMetadata((key) => getKv(file, key)?.value);
  const tensors = planTensorTypes(file.tensors, facts, ft, { pure: opts.pure, overrides, allowRequantize: opts.allowRequantize, outputTensorType, tokenEmbeddingType });
  checkKernels(tensors, opts.input);
  if (overrides.length && !ggmlType(ft.defaultType)!.quantized) {
    yield { type: 'warning', code: 'OVERRIDES_IGNORED', message: `--tensor-type is ignored for the ${ft.name} file type (llama-quantize applies overrides only to quantized file types)` };
  }
  yield* fallbackWarnings(tensors, opts.input);
  const alignment = getKv(file, 'general.alignment');
  if (alignment && alignment.value !== GGUF_DEFAULT_ALIGNMENT) {
    yield { type: 'warning', code: 'ALIGNMENT', file: opts.input, message: `dropping general.alignment=${String(alignment.value)}: the output is aligned to 32 bytes, as llama-quantize writes it` };
  }
  const kvs = quantizedFileKvs(file.kvs.filter((kv) => kv !== alignment || kv.value === GGUF_DEFAULT_ALIGNMENT), ft.id);
  return { kind: 'quantize', input: opts.input, inputBytes: file.fileSize, output: opts.output, fileType: ft.name, tensors, kvs, ...plannedSize(kvs, tensors) };
}

/** Refuses, before writing anything, a plan that needs a kernel we do not have (e.g. an IQ override). */
function checkKernels(plans: TensorPlan[], input: string): void {
  for (const p of plans) {
    if (!p.quantize) continue;
    if (!canDequantize(p.sourceType)) {
      throw new UnsupportedError('NO_KERNEL', `tensor '${p.name}' is ${typeName(p.sourceType)}, which gguf-forge cannot read as F32`, { file: input, tensor: p.name });
    }
    if (!canQuantize(p.targetType)) {
      throw new UnsupportedError('NO_KERNEL', `tensor '${p.name}': gguf-forge has no ${typeName(p.targetType)} quantizer`, { file: input, tensor: p.name });
    }
    // Quantizing takes no importance matrix yet, and ggml asserts one for these types (an override
    // such as `attn_q=iq2_xxs` gets here): refuse with llama-quantize's message before writing.
    if (requiresImatrix(p.targetType)) {
      throw new UnsupportedError('IMATRIX_REQUIRED', `tensor '${p.name}': this quantization requires an imatrix! (target type ${typeName(p.targetType)})`, { file: input, tensor: p.name });
    }
  }
}
