// F16 and BF16 rows (ggml.c `ggml_fp32_to_fp16_row`, `ggml_fp32_to_bf16_row_ref`) and their inverses.
import { fp32ToFp16, fp16ToFp32, fp32ToBf16 } from './numeric';

export function quantizeF16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(y + (<usize>i << 1), <u16>fp32ToFp16(load<f32>(x + (<usize>i << 2))));
}

export function quantizeBF16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(y + (<usize>i << 1), <u16>fp32ToBf16(load<f32>(x + (<usize>i << 2))));
}

export function dequantizeF16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), fp16ToFp32(<u32>load<u16>(x + (<usize>i << 1))));
}

export function dequantizeBF16(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u32>(y + (<usize>i << 2), <u32>load<u16>(x + (<usize>i << 1)) << 16);
}
