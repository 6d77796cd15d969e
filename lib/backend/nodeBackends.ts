/**
 * Optional native backends: @tensorflow/tfjs-node-gpu and @tensorflow/tfjs-node. They are not
 * dependencies (their install downloads libtensorflow); when installed (see environment/GPU.md) they
 * are loaded here with a plain require, and their absence is normal.
 *
 * danfojs-node pulls in '@tensorflow/tfjs-node', which package.json overrides with plain
 * @tensorflow/tfjs: such an alias is detected by its package name and treated as absent, and a
 * package that loads but does not register the 'tensorflow' backend with our tfjs-core is too.
 */
import * as tf from '@tensorflow/tfjs';
import { projectRequire } from './resolve';

export type NodeBackendName = 'tfjs-node-gpu' | 'tfjs-node';
export interface NodeBackendLoad {
  ok: boolean;
  /** Why the package is unusable, when ok is false. */
  reason?: string;
}

export function loadNodeBackend(name: NodeBackendName): NodeBackendLoad {
  const pkg = `@tensorflow/${name}`;
  const req = projectRequire();
  let manifest: { name?: string; version?: string };
  try {
    manifest = req(`${pkg}/package.json`) as { name?: string; version?: string };
  } catch {
    return { ok: false, reason: `${pkg} is not installed` };
  }
  if (manifest.name !== pkg) {
    return { ok: false, reason: `${pkg} resolves to ${manifest.name}@${manifest.version} (an alias, not the native backend)` };
  }
  try {
    req(pkg);
  } catch (err) {
    return { ok: false, reason: `${pkg}@${manifest.version} failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    return {
      ok: false,
      reason: `${pkg}@${manifest.version} loaded but registered no 'tensorflow' backend with this tfjs-core ` +
        `(${tf.version_core}); install the version matching @tensorflow/tfjs`,
    };
  }
  return { ok: true };
}
