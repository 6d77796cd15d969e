/**
 * Routes wasm matmuls to XNNPACK where tfjs 4.22.0 does not.
 *
 * The wasm `BatchMatMul` / `_FusedMatMul` kernels call XNNPACK only when both operands have batch 1
 * and neither `transposeA` nor `transposeB` is set; every other case runs a scalar loop at 1-2
 * GFLOP/s. tfjs's matMul gradient uses exactly those flags, so training spends most of its time there.
 * The wrapped kernels below
 *  - materialise a transposed operand (one wasm Transpose) and call the kernel without the flag;
 *  - fold a batched left operand against an unbatched right one ([B,M,K] x [K,N]) into one
 *    [B*M,K] x [K,N] product;
 *  - turn an unbatched left operand against a batched right one ([M,K] x [B,K,N]) into
 *    [M,K] x [K,B*N] with two transposes;
 * and leave genuinely batched products (both operands batched, e.g. attention) to the original
 * kernel, which is as fast as anything built from other kernels there. Results are the same products
 * (XNNPACK may sum in a different order: differences are float rounding only).
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];
interface DataBackend {
  disposeData(dataId: object, force?: boolean): boolean;
}

const installed = new Set<string>();

/** True when the fast matmul kernels are registered for `backendName`. */
export function fastMatMulInstalled(backendName = 'wasm'): boolean {
  return installed.has(backendName);
}

/**
 * Re-registers `BatchMatMul` and `_FusedMatMul` for `backendName` (default wasm) with the wrappers
 * described above. Idempotent. Returns false when the backend has no such kernels.
 */
export function installFastMatMul(backendName = 'wasm'): boolean {
  if (installed.has(backendName)) return true;
  const batch = tf.getKernel('BatchMatMul', backendName);
  const fused = tf.getKernel('_FusedMatMul', backendName);
  const transposeK = tf.getKernel('Transpose', backendName);
  const reshapeK = tf.getKernel('Reshape', backendName);
  if (!batch || !fused || !transposeK || !reshapeK) return false;
  const ops = new KernelOps(transposeK.kernelFunc as unknown as KernelFn, reshapeK.kernelFunc as unknown as KernelFn);
  const origBatch = batch.kernelFunc as unknown as KernelFn;
  const origFused = fused.kernelFunc as unknown as KernelFn;

  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName,
    setupFunc: batch.setupFunc,
    disposeFunc: batch.disposeFunc,
    kernelFunc: ((args: KernelArgs) => fastBatchMatMul(args, origBatch, ops)) as unknown as tf.KernelFunc,
  });
  tf.unregisterKernel('_FusedMatMul', backendName);
  tf.registerKernel({
    kernelName: '_FusedMatMul',
    backendName,
    setupFunc: fused.setupFunc,
    disposeFunc: fused.disposeFunc,
    kernelFunc: ((args: KernelArgs) => fastFusedMatMul(args, origFused, ops)) as unknown as tf.KernelFunc,
  });
  installed.add(backendName);
  return true;
}

/** Transpose / reshape through the backend's own kernels, with the temporaries released after. */
class KernelOps {
  constructor(
    private readonly transposeFn: KernelFn,
    private readonly reshapeFn: KernelFn,
  ) {}

  transpose(x: TensorInfo, perm: number[], backend: unknown, temps: TensorInfo[]): TensorInfo {
    const out = this.transposeFn({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
    temps.push(out);
    return out;
  }

  /** Swaps the last two axes. */
  transposeLast2(x: TensorInfo, backend: unknown, temps: TensorInfo[]): TensorInfo {
    const r = x.shape.length;
    const perm = x.shape.map((_, i) => i);
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    return this.transpose(x, perm, backend, temps);
  }

  reshape(x: TensorInfo, shape: number[], backend: unknown, temps: TensorInfo[]): TensorInfo {
    const out = this.reshapeFn({ inputs: { x }, backend, attrs: { shape } }) as TensorInfo;
    temps.push(out);
    return out;
  }
}

function release(backend: unknown, temps: TensorInfo[]): void {
  for (const t of temps) (backend as DataBackend).disposeData(t.dataId);
}

function product(dims: number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/** Broadcast of two batch shapes (numpy rules), or null when they do not broadcast. */
function broadcastShape(a: number[], b: number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = new Array(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    // A size-1 axis takes the other's size, 0 included.
    out[i] = da === 1 ? db : da;
  }
  return out;
}

function fastBatchMatMul(args: KernelArgs, orig: KernelFn, ops: KernelOps): TensorInfo {
  const { backend } = args;
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  const transposeA = Boolean(args.attrs?.transposeA);
  const transposeB = Boolean(args.attrs?.transposeB);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
    return orig(args) as TensorInfo;
  }
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  const batchA = product(aOuter);
  const batchB = product(bOuter);
  const outBatch = broadcastShape(aOuter, bOuter);
  // Both batched: the original kernel's loop is what there is; flags cost it little.
  if (outBatch === null || (batchA > 1 && batchB > 1)) return orig(args) as TensorInfo;
  if (batchA === 1 && batchB === 1 && !transposeA && !transposeB) return orig(args) as TensorInfo;

  const temps: TensorInfo[] = [];
  try {
    const a2 = transposeA ? ops.transposeLast2(a, backend, temps) : a;
    const b2 = transposeB ? ops.transposeLast2(b, backend, temps) : b;
    const M = a2.shape[a2.shape.length - 2];
    const K = a2.shape[a2.shape.length - 1];
    const N = b2.shape[b2.shape.length - 1];
    if (b2.shape[b2.shape.length - 2] !== K) {
      throw new Error(
        `matMul: inner dimensions differ: a ${JSON.stringify(a.shape)} (transposeA=${transposeA}) and ` +
          `b ${JSON.stringify(b.shape)} (transposeB=${transposeB})`,
      );
    }
    const outShape = [...outBatch, M, N];
    if (batchB === 1) {
      // [batchA*M, K] x [K, N]: one XNNPACK product.
      const aFlat = ops.reshape(a2, [1, batchA * M, K], backend, temps);
      const bFlat = ops.reshape(b2, [1, K, N], backend, temps);
      const out = orig({ inputs: { a: aFlat, b: bFlat }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
      out.shape = outShape;
      return out;
    }
    // batchA === 1, batchB > 1: A [M,K] x (B as [K, batchB*N]) then move the batch axis to the front.
    const b3 = ops.reshape(b2, [batchB, K, N], backend, temps);
    const bKBN = ops.transpose(b3, [1, 0, 2], backend, temps);
    const bWide = ops.reshape(bKBN, [1, K, batchB * N], backend, temps);
    const aFlat = ops.reshape(a2, [1, M, K], backend, temps);
    const wide = orig({ inputs: { a: aFlat, b: bWide }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
    temps.push(wide);
    const wide3 = ops.reshape(wide, [M, batchB, N], backend, temps);
    const out = ops.transpose(wide3, [1, 0, 2], backend, []);
    out.shape = outShape;
    return out;
  } finally {
    release(backend, temps);
  }
}

function fastFusedMatMul(args: KernelArgs, orig: KernelFn, ops: KernelOps): TensorInfo {
  const { backend } = args;
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  const bias = args.inputs.bias;
  const prelu = args.inputs.preluActivationWeights;
  const attrs = args.attrs ?? {};
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  // tfjs-core hands this kernel rank-3 operands.
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3) {
    return orig(args) as TensorInfo;
  }
  const batchA = a.shape[0];
  const batchB = b.shape[0];
  if (batchB > 1) return orig(args) as TensorInfo;
  if (!transposeA && !transposeB && batchA === 1) return orig(args) as TensorInfo;
  const temps: TensorInfo[] = [];
  try {
    const a2 = transposeA ? ops.transposeLast2(a, backend, temps) : a;
    const b2 = transposeB ? ops.transposeLast2(b, backend, temps) : b;
    const M = a2.shape[1];
    const K = a2.shape[2];
    const N = b2.shape[2];
    // Folding the batch keeps a per-column bias and a scalar / per-column PReLU weight meaning the same.
    const biasOk = bias == null || product(bias.shape) === N;
    const preluOk = prelu == null || product(prelu.shape) === 1 || product(prelu.shape) === N;
    const fold = batchA > 1 && biasOk && preluOk;
    const aIn = fold ? ops.reshape(a2, [1, batchA * M, K], backend, temps) : a2;
    const out = orig({
      inputs: { ...args.inputs, a: aIn, b: b2 },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    }) as TensorInfo;
    if (fold) out.shape = [batchA, M, N];
    return out;
  } finally {
    release(backend, temps);
  }
}
