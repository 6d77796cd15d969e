/**
 * Embedding-table lookups with a scatter-add gradient.
 *
 * tfjs's gather gradient is unusable here: the wasm backend lacks UnsortedSegmentSum, and on cpu it
 * costs O(vocabulary) per step. `embeddingLookup` copies rows in JS on the forward pass and returns,
 * as the table's gradient, a dense [V, D] tensor filled by a JS loop that adds each upstream row into
 * the row of its id.
 */
import * as tf from '@tensorflow/tfjs';
import { deviceEmbeddingLookup } from './webgpuEmbedding';

interface WasmTensorData {
  memoryOffset: number;
}
interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBuffer } };
}

/**
 * The float32 values of `t`, without a copy on the wasm backend (a view of the wasm heap). The view
 * is only valid until the next tensor allocation: read what you need, then allocate.
 */
export function float32Values(t: tf.Tensor): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`float32Values: expected a float32 tensor, got ${t.dtype}`);
  if (tf.getBackend() === 'wasm') {
    const backend = tf.backend() as unknown as WasmBackendInternals;
    const data = backend.dataIdMap?.get(t.dataId);
    if (data && backend.wasm) {
      const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
      return new Float32Array(buffer, data.memoryOffset, t.size);
    }
  }
  return t.dataSync() as Float32Array;
}

/** Output shape of a lookup of `n` ids from a table of width `dim`. */
function lookupShape(n: number, dim: number, outShape: number[] | undefined, where: string): number[] {
  if (outShape === undefined) return [n, dim];
  const size = outShape.reduce((p, d) => p * d, 1);
  if (outShape.length === 0 || outShape[outShape.length - 1] !== dim || size !== n * dim) {
    throw new Error(
      `${where}: outShape ${JSON.stringify(outShape)} must end with the table width ${dim} and hold ` +
        `${n} ids x ${dim} values`,
    );
  }
  return outShape;
}

function checkIds(ids: Int32Array, numRows: number, where: string): void {
  if (!(ids instanceof Int32Array)) throw new Error(`${where}: ids must be an Int32Array`);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= numRows) throw new Error(`${where}: ids[${i}] = ${id} is outside the table's rows 0..${numRows - 1}`);
  }
}

/** Copies rows `ids` of a row-major [V, D] array into a new [ids.length * D] array. */
export function gatherRows(values: Float32Array, dim: number, ids: Int32Array): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) {
    const src = ids[i] * dim;
    out.set(values.subarray(src, src + dim), i * dim);
  }
  return out;
}

/** Adds row i of `rows` ([n, D]) into row ids[i] of a zero [numRows, D] array. */
export function scatterAddRows(rows: Float32Array, dim: number, ids: Int32Array, numRows: number): Float32Array {
  const out = new Float32Array(numRows * dim);
  for (let i = 0; i < ids.length; i++) {
    const dst = ids[i] * dim;
    const src = i * dim;
    for (let j = 0; j < dim; j++) out[dst + j] += rows[src + j];
  }
  return out;
}

/**
 * Rows `ids` of `table` ([V, D]), shaped [ids.length, D] or `outShape` (which must end with D). The
 * gradient with respect to the table is a scatter-add of the upstream gradient rows.
 */
export function embeddingLookup(table: tf.Variable | tf.Tensor2D, ids: Int32Array, outShape?: number[]): tf.Tensor {
  if (table.rank !== 2) throw new Error(`embeddingLookup: table must be rank 2 [V, D], got shape ${JSON.stringify(table.shape)}`);
  const [numRows, dim] = table.shape as [number, number];
  checkIds(ids, numRows, 'embeddingLookup');
  const shape = lookupShape(ids.length, dim, outShape, 'embeddingLookup');
  // On a GPU the table stays on the device (a gather and a segment-sum gradient).
  if (tf.getBackend() === 'webgpu') return deviceEmbeddingLookup(table as tf.Tensor, ids, shape);
  const lookup = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const t = inputs[0] as tf.Tensor;
    const rows = gatherRows(float32Values(t), dim, ids);
    return {
      value: tf.tensor(rows, shape, 'float32'),
      gradFunc: (dy: tf.Tensor) => tf.tensor2d(scatterAddRows(float32Values(dy), dim, ids, numRows), [numRows, dim]),
    };
  });
  return lookup(table as tf.Tensor);
}
