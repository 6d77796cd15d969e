import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../lib/backend';
import { gaussianMixture } from '../lib/bench/kmeans';
import { fitRqVae } from '../lib/quantize/rqVae';
import { encodeRlfq, fitRlfq } from '../lib/quantize/rlfq';
import { QUANTIZER_NAMES, finalizeIds, fitQuantizer } from '../lib/quantize/quantizer';
import { codeOfItem, itemsForCode } from '../lib/quantize/ids';
import { checkSemanticIds } from '../lib/quantize/ids';

before(async () => {
  await initBackend();
});

const x = gaussianMixture(400, 16, 24, 0.3, 2);

test('RQ-VAE: training lowers the reconstruction loss, codes in range, same seed same codes, no leaks', async () => {
  const before = tf.memory().numTensors;
  const opts = { levels: 2, k: 8, latentDim: 8, hidden: [32], epochs: 4, batchSize: 64, seed: 3, learningRate: 3e-3 };
  const a = await fitRqVae(x, opts);
  assert.equal(tf.memory().numTensors, before);
  const b = await fitRqVae(x, opts);
  assert.deepEqual(a.codes, b.codes);
  assert.ok(a.history[a.history.length - 1].recon < a.history[0].recon, JSON.stringify(a.history));
  assert.ok(a.codes.every((c) => c >= 0 && c < 8));
  assert.equal(a.reconstruction.length, x.data.length);
  await assert.rejects(fitRqVae(x, { ...opts, codebookUpdate: 'x' as never }), /option codebookUpdate/);
  const g = await fitRqVae(x, { ...opts, codebookUpdate: 'gradient', epochs: 2 });
  assert.equal(g.codes.length, 800);
});

test('ResidualLFQ: codes are the sign bits, training lowers the loss, deterministic, no leaks', async () => {
  const before = tf.memory().numTensors;
  const opts = { levels: 2, k: 16, epochs: 4, batchSize: 64, seed: 4 };
  const a = await fitRlfq(x, opts);
  assert.equal(tf.memory().numTensors, before);
  const b = await fitRlfq(x, opts);
  assert.deepEqual(a.codes, b.codes);
  assert.ok(a.history[a.history.length - 1].recon < a.history[0].recon, JSON.stringify(a.history));
  // Brute-force check of the first item's first-level code: bits of sign(x W + b), MSB first.
  const P = a.model.project[0];
  let code = 0;
  for (let t = 0; t < 4; t++) {
    let z = P.b![t];
    for (let j = 0; j < 16; j++) z += x.data[j] * P.w[j * 4 + t];
    code = code * 2 + (z >= 0 ? 1 : 0);
  }
  assert.equal(a.codes[0], code);
  assert.deepEqual(encodeRlfq(a.model, x).codes, a.codes);
  await assert.rejects(fitRlfq(x, { k: 12 }), /powers of two/);
});

test('fitQuantizer: all four quantizers give valid raw IDs, diagnostics, and round-tripping final IDs', async () => {
  for (const name of QUANTIZER_NAMES) {
    const fit = await fitQuantizer(name, x, { levels: 2, k: 8, seed: 1, rqVae: { epochs: 1, hidden: [16], latentDim: 8 }, rlfq: { epochs: 2 } });
    checkSemanticIds(fit.ids, name);
    assert.equal(fit.ids.length, 2);
    const diag = fit.diagnostics;
    assert.equal(diag.positions.length, 2);
    assert.ok(diag.relativeError !== null && diag.relativeError >= 0 && diag.relativeError < 1.5, `${name}: ${diag.relativeError}`);
    assert.deepEqual(JSON.parse(JSON.stringify(diag)), diag);
    for (const collisions of ['extra-level', 'none'] as const) {
      const ids = finalizeIds(fit, { collisions });
      for (let i = 0; i < ids.numItems; i++) {
        const items = itemsForCode(ids, codeOfItem(ids, i));
        assert.ok(collisions === 'none' ? items.includes(i) : items.length === 1 && items[0] === i);
      }
    }
  }
  await assert.rejects(fitQuantizer('nope' as never, x), /unknown quantizer/);
});

test('RQ-KMeans on well-separated data beats the hierarchical baseline in reconstruction per code budget', async () => {
  const rq = await fitQuantizer('rq-kmeans', x, { levels: 2, k: 4, seed: 1 });
  const km = await fitQuantizer('hier-kmeans', x, { levels: 1, k: 4, seed: 1 });
  // One RQ level equals one k-means level; the second RQ level must improve on it.
  assert.ok(rq.diagnostics.relativeError! < km.diagnostics.relativeError!);
});
