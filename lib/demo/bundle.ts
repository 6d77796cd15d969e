/**
 * Bundles lib/demo/browser.ts, with the lib/generate and lib/quantize code it imports, into one
 * browser script (an IIFE, no imports, no remote code). Two imports are redirected: lib/backend/index
 * (Node's backend choice) to lib/demo/browserBackend.ts, and '@tensorflow/tfjs' to
 * lib/demo/browserTf.ts (tfjs-core and the cpu backend). Everything else is the lib code as it is.
 */
import * as path from 'node:path';
import { projectRoot } from '../util/fs';

export interface DemoBundle {
  code: string;
  /** Project files in the bundle, relative to the project root. */
  inputs: string[];
}

export async function bundleDemoRuntime(root = projectRoot()): Promise<DemoBundle> {
  const esbuild = await import('esbuild');
  const demoDir = path.join(root, 'lib', 'demo');
  const backendIndex = path.join(root, 'lib', 'backend', 'index');
  const redirect = {
    name: 'sid-browser',
    setup(build: { onResolve(o: { filter: RegExp }, cb: (a: { path: string; resolveDir: string }) => { path: string } | undefined): void }) {
      build.onResolve({ filter: /^@tensorflow\/tfjs$/ }, () => ({ path: path.join(demoDir, 'browserTf.ts') }));
      build.onResolve({ filter: /backend\/index$/ }, (a) =>
        path.resolve(a.resolveDir, a.path) === backendIndex ? { path: path.join(demoDir, 'browserBackend.ts') } : undefined);
    },
  };
  const res = await esbuild.build({
    entryPoints: [path.join(demoDir, 'browser.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    absWorkingDir: root,
    plugins: [redirect],
  });
  const inputs = Object.keys(res.metafile!.inputs).filter((f) => !f.startsWith('node_modules/'));
  const forbidden = inputs.filter((f) => /^lib\/(backend\/(?!embedding|webgpuEmbedding)|pipeline|eval|cli|report|embed|data)\b/.test(f) || f.includes('node:'));
  if (forbidden.length) throw new Error(`bundleDemoRuntime: the browser bundle pulled in Node-side modules: ${forbidden.join(', ')}`);
  return { code: res.outputFiles[0].text, inputs };
}
