import type { GgufKv, GgufValue } from '../gguf/value-types.ts';
import { GgufValueType } from '../gguf/value-types.ts';

/**
 * An ordered KV list with gguf-py `GGUFWriter` semantics, so our key order equals convert's:
 * keys keep their first insertion position, re-adding a key replaces its value in place, and
 * empty strings and empty arrays are silently not added.
 */
export class KvList {
  private readonly entries = new Map<string, GgufValue>();

  set(key: string, value: GgufValue): void {
    if (value.type === GgufValueType.STRING && value.value === '') return;
    if (value.type === GgufValueType.ARRAY && value.value.length === 0) return;
    this.entries.set(key, value);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  toArray(): GgufKv[] {
    return [...this.entries].map(([key, v]) => ({ key, ...v }) as GgufKv);
  }
}
