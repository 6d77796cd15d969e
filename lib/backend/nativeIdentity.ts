/**
 * `Identity` and same-dtype `Cast` for the wasm backend without a copy: the output shares the
 * input's buffer (tensors are immutable; Reshape does the same, and so does tfjs's cpu backend).
 * tfjs's wasm kernels copy the whole tensor, and tfjs's gradients call them often (the mul gradient
 * casts float32 to float32). Installed with the native kernels.
 */
import { nativeEnabled, type KernelArgs, type KernelFn, type TensorInfo, type WasmBackendLike } from './nativeRegistry';

function share(args: KernelArgs, x: TensorInfo): TensorInfo {
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function sharedIdentity(fallback: KernelFn): KernelFn {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    return nativeEnabled() && x.dtype !== 'string' ? share(args, x) : fallback(args);
  };
}

export function sharedCast(fallback: KernelFn): KernelFn {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    return nativeEnabled() && x.dtype !== 'string' && args.attrs?.dtype === x.dtype ? share(args, x) : fallback(args);
  };
}
