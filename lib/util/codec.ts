/**
 * Serialises plain objects that hold typed arrays: the JSON part goes to `value.json`, every typed
 * array to one `arrays.bin` (8-byte aligned), referenced from the JSON by offset and length.
 */

const TYPED = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
} as const;
type TypedName = keyof typeof TYPED;
type AnyTyped = InstanceType<(typeof TYPED)[TypedName]>;

interface TypedRef {
  __typed: TypedName;
  offset: number;
  length: number;
}

function typedName(v: unknown): TypedName | null {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return null;
  const name = v.constructor.name as TypedName;
  return name in TYPED ? name : null;
}

/** Encodes `value` into the two files of an artifact. */
export function encodeValue(value: unknown): { 'value.json': string; 'arrays.bin': Uint8Array } {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const json = JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    const name = typedName(v);
    if (!name) return v;
    const arr = v as AnyTyped;
    const pad = (8 - (size % 8)) % 8;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      size += pad;
    }
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice();
    const ref: TypedRef = { __typed: name, offset: size, length: arr.length };
    chunks.push(bytes);
    size += bytes.byteLength;
    return ref;
  });
  const bin = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bin.set(c, at);
    at += c.byteLength;
  }
  return { 'value.json': json, 'arrays.bin': bin };
}

/** Inverse of `encodeValue`. */
export function decodeValue<T>(json: string, bin: Uint8Array): T {
  // Copy into an aligned buffer so typed views can be made at any 8-byte offset.
  const aligned = new Uint8Array(bin.byteLength);
  aligned.set(bin);
  return JSON.parse(json, (_key, v) => {
    if (v && typeof v === 'object' && typeof v.__typed === 'string' && v.__typed in TYPED) {
      const ref = v as TypedRef;
      const Ctor = TYPED[ref.__typed];
      const end = ref.offset + ref.length * Ctor.BYTES_PER_ELEMENT;
      if (end > aligned.byteLength) throw new Error(`decodeValue: array ref past end of arrays.bin (${end} > ${aligned.byteLength})`);
      return new Ctor(aligned.buffer, ref.offset, ref.length);
    }
    return v;
  }) as T;
}
