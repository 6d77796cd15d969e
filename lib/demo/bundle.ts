/**
 * Bundles lib/demo/browser.ts, with the lib/generate and lib/quantize code it imports, into one
 * browser script (an IIFE, no imports, no remote code). Two imports are redirected: lib/backend/index
 * (Node's backend choice) to lib/demo/browserBackend.ts, and '@tensorflow/tfjs' to
 * lib/demo/browserTf.ts (tfjs-core and the cpu backend; browserBackend adds the wasm one). Everything else is the lib code as it is.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { projectRoot } from '../util/fs';
import { bytesToBase64 } from './payload';

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
  // Node built-ins the packages mention behind checks are left out of the bundle ("(disabled):...").
  const inputs = Object.keys(res.metafile!.inputs).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('(disabled):'));
  const forbidden = inputs.filter((f) => /^lib\/(backend\/(?!embedding|webgpuEmbedding|fusedOps|nativeRegistry)|pipeline|eval|cli|report|embed|data)\b/.test(f) || f.includes('node:'));
  if (forbidden.length) throw new Error(`bundleDemoRuntime: the browser bundle pulled in Node-side modules: ${forbidden.join(', ')}`);
  return { code: res.outputFiles[0].text, inputs };
}

/** demo-wasm.js: tfjs's SIMD wasm binary as base64 (`window.SID_DEMO_WASM`), for a page on file://. */
export function demoWasmScript(root = projectRoot()): string {
  const req = createRequire(path.join(root, 'package.json'));
  let file: string;
  try {
    file = path.join(path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist', 'tfjs-backend-wasm-simd.wasm');
  } catch {
    throw new Error(`demoWasmScript: @tensorflow/tfjs-backend-wasm is not installed under ${root}/node_modules: run npm ci`);
  }
  if (!fs.existsSync(file)) throw new Error(`demoWasmScript: ${file} is missing`);
  return `window.SID_DEMO_WASM = "${bytesToBase64(fs.readFileSync(file))}";\n`;
}
