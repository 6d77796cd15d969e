/**
 * A stated subset of `sid reproduce --profile tiny` on webgpu: the Semantic ID stage with RQ-VAE
 * (`sid ids --embedding content --quantizer rq-vae --profile tiny`, the content embedding included),
 * as a CLI process with its own cache folder. The RQ-VAE fit is where the whole reproduction used to
 * crash on llvmpipe: tens of thousands of dispatches without a turn of the event loop exhaust the
 * process's memory mappings. The child's mappings are sampled while it runs and must stay well
 * below `vm.max_map_count`. (The whole tiny reproduction trains 22 seq2seq models, hours on
 * llvmpipe: environment/GPU.md.) Skips, saying why, where Dawn finds no WebGPU adapter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeWebGpu } from '../lib/backend/webgpu';

const probe = await probeWebGpu();
const skip = probe.ok ? false : `no WebGPU adapter: ${probe.reason}`;

/** Where llvmpipe crashed without yields: 65,530 mappings (Linux's default vm.max_map_count). */
const MAP_LIMIT = 40_000;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  peakMaps: number;
}

function mapsOf(pid: number): number {
  try {
    return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

function sid(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/sid.mjs', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakMaps = 0;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const sample = setInterval(() => { if (child.pid) peakMaps = Math.max(peakMaps, mapsOf(child.pid)); }, 250);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(sample);
      resolve({ code, signal, stdout, stderr, peakMaps });
    });
  });
}

test('sid ids with RQ-VAE on the tiny profile completes on webgpu with bounded memory mappings', { skip }, async () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-webgpu-ids-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SID_BACKEND: 'webgpu', SID_CACHE_DIR: cache, SID_QUIET: '1' };
  delete env.NODE_TEST_CONTEXT;
  delete env.SID_BACKEND_OVERRIDE;
  try {
    for (const quantizer of ['rq-vae']) {
      const r = await sid(['ids', '--embedding', 'content', '--quantizer', quantizer, '--profile', 'tiny', '--json'], env);
      assert.equal(r.code, 0, `sid ids ${quantizer} on webgpu: exit ${r.code}, signal ${r.signal}; ${r.stderr.slice(-2000)}`);
      assert.ok(r.peakMaps > 0, 'the child process was sampled');
      assert.ok(r.peakMaps < MAP_LIMIT, `${quantizer}: ${r.peakMaps} memory mappings at the peak`);
      const out = JSON.parse(r.stdout) as { quantizer: string; cached: boolean; length: number; cardinalities: number[]; diagnostics: { collisionRate: number; relativeError: number | null } };
      assert.equal(out.quantizer, quantizer);
      assert.equal(out.cached, false);
      assert.ok(out.length >= 2 && out.cardinalities.slice(0, 2).every((k) => k === 32), JSON.stringify(out.cardinalities));
      // Trained codes, not a collapsed codebook (collision rate near 1) or an untrained decoder
      // (relative error near 1); wasm gives 0.685 and 0.40 here.
      assert.ok(out.diagnostics.collisionRate < 0.9, `${quantizer}: collision rate ${out.diagnostics.collisionRate}`);
      assert.ok(out.diagnostics.relativeError !== null && out.diagnostics.relativeError < 0.8, `${quantizer}: relative error ${out.diagnostics.relativeError}`);
    }
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
