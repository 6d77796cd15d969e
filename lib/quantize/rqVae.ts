/**
 * RQ-VAE (Zeghidour et al. 2021; TIGER's tokenizer): MLP encoder -> latent z; L residual codebooks
 * quantise z greedily (level l quantises what levels < l left); straight-through estimator from the
 * quantised latent to z; codebook loss ||sg(r) - q||^2 plus commitment loss beta ||r - sg(q)||^2 per
 * level; MLP decoder reconstructs x from the summed quantised latent (MSE divided by the mean
 * square of x, i.e. the relative error, so beta keeps its meaning whatever the embedding's scale;
 * unit-norm embeddings otherwise give a reconstruction term ~1/d). Codebooks start from
 * k-means on the latents of the first batch; codes unused during an epoch are reset to random
 * residuals of the last batch (dead-code reset). Trained with Adam in tfjs.
 *
 * Codebook updates: 'ema' (default; exponential moving averages of the assigned residuals, as in
 * VQ-VAE-2 and SoundStream's residual VQ, no codebook loss) or 'gradient' (the original codebook
 * loss ||sg(r) - q||^2 optimised by Adam). With Adam's per-parameter step size, gradient-trained
 * codebooks trail the encoder's drifting latents, so the VQ loss grows every epoch (lib/quantize/README.md),
 * which is why EMA is the default.
 */
import { DeviceYield, tf } from '../backend/index';
import { Rng } from '../util/random';
import { kmeans } from './kmeans';
import { Matrix, checkMatrix, meanSquare } from './matrix';
import { Dense, DenseWeights, applyDense, applyWeights, denseLayer, disposeDense, epochBatches, exportDense, matMul, rowsTensor, stopGradient } from './nn';
import { levelSizes } from './rqKmeans';

export interface RqVaeOptions {
  levels?: number;
  k?: number | number[];
  /** Latent dimension (default 32). */
  latentDim?: number;
  /** Hidden layer sizes of the encoder (mirrored in the decoder; default [256, 128]). */
  hidden?: number[];
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Commitment weight (default 0.25). */
  beta?: number;
  /** How codebooks learn (default 'ema'). */
  codebookUpdate?: 'ema' | 'gradient';
  /** EMA decay (default 0.99). */
  emaDecay?: number;
  /** Reset unused codes after each epoch (default true). */
  deadCodeReset?: boolean;
  seed?: number;
  /** Called after each epoch with the mean losses. */
  onEpoch?: (epoch: number, loss: { recon: number; vq: number; deadCodes: number }) => void;
}

export interface RqVaeModel {
  k: number[];
  latentDim: number;
  encoder: DenseWeights[];
  decoder: DenseWeights[];
  /** codebooks[l]: k[l] x latentDim. */
  codebooks: Float32Array[];
}

export interface RqVaeFit {
  model: RqVaeModel;
  codes: Int32Array;
  reconstruction: Float32Array;
  /** Mean losses per epoch. */
  history: { recon: number; vq: number; deadCodes: number }[];
}

function checkOptions(o: RqVaeOptions): void {
  const pos = (v: number | undefined, name: string) => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`lib/quantize/rqVae.ts (option ${name}): expected a positive integer, got ${v}`);
  };
  pos(o.latentDim, 'latentDim');
  pos(o.epochs, 'epochs');
  pos(o.batchSize, 'batchSize');
  if (o.learningRate !== undefined && !(o.learningRate > 0)) throw new Error(`lib/quantize/rqVae.ts (option learningRate): expected > 0, got ${o.learningRate}`);
  if (o.beta !== undefined && !(o.beta >= 0)) throw new Error(`lib/quantize/rqVae.ts (option beta): expected >= 0, got ${o.beta}`);
  for (const h of o.hidden ?? []) pos(h, 'hidden');
  if (o.codebookUpdate !== undefined && o.codebookUpdate !== 'ema' && o.codebookUpdate !== 'gradient') {
    throw new Error(`lib/quantize/rqVae.ts (option codebookUpdate): expected 'ema' or 'gradient', got ${String(o.codebookUpdate)}`);
  }
  if (o.emaDecay !== undefined && !(o.emaDecay > 0 && o.emaDecay < 1)) throw new Error(`lib/quantize/rqVae.ts (option emaDecay): expected in (0, 1), got ${o.emaDecay}`);
}

/** Nearest codeword of each row of r (no gradient). */
function nearestCode(r: tf.Tensor2D, cb: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const cbT = tf.transpose(cb) as tf.Tensor2D;
    const d = tf.sub(tf.sum(tf.square(cb), 1), tf.mul(2, tf.matMul(r, cbT)));
    return tf.argMin(d, 1) as tf.Tensor1D;
  });
}

export async function fitRqVae(x: Matrix, opts: RqVaeOptions = {}): Promise<RqVaeFit> {
  const where = 'lib/quantize/rqVae.ts fitRqVae';
  checkMatrix(x, where);
  checkOptions(opts);
  const ks = levelSizes(opts.levels, opts.k, where);
  const L = ks.length;
  const n = x.rows;
  const d = x.cols;
  const e = opts.latentDim ?? 32;
  const hidden = opts.hidden ?? [256, 128];
  const epochs = opts.epochs ?? 30;
  const bs = Math.min(opts.batchSize ?? 256, n);
  const beta = opts.beta ?? 0.25;
  const ema = (opts.codebookUpdate ?? 'ema') === 'ema';
  const invScale = 1 / Math.max(1e-12, meanSquare(x));
  const decay = opts.emaDecay ?? 0.99;
  const rng = new Rng(opts.seed ?? 0);
  const initRng = rng.fork('init');
  const dims = [d, ...hidden, e];
  const encoder: Dense[] = [];
  const decoder: Dense[] = [];
  for (let i = 0; i + 1 < dims.length; i++) encoder.push(denseLayer(initRng, dims[i], dims[i + 1], `rqvae_enc${i}`));
  for (let i = dims.length - 1; i > 0; i--) decoder.push(denseLayer(initRng, dims[i], dims[i - 1], `rqvae_dec${i}`));
  const encode = (xb: tf.Tensor2D) => encoder.reduce((h, l, i) => applyDense(h, l, i < encoder.length - 1), xb);
  const decode = (zb: tf.Tensor2D) => decoder.reduce((h, l, i) => applyDense(h, l, i < decoder.length - 1), zb);
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  const batchRng = rng.fork('batches');
  const resetRng = rng.fork('reset');
  const codebooks: tf.Variable[] = [];
  const history: RqVaeFit['history'] = [];
  const yielder = new DeviceYield();
  try {
    // Codebooks: k-means on the residual latents of the first batch (at least k rows when possible).
    const first = epochBatches(n, Math.min(n, Math.max(bs, 2 * Math.max(...ks))), batchRng.fork('first'))[0];
    let resid = tf.tidy(() => encode(rowsTensor(x.data, d, first)).dataSync() as Float32Array);
    for (let l = 0; l < L; l++) {
      const rows = first.length;
      const kk = Math.min(ks[l], rows);
      const km = kmeans({ data: resid, rows, cols: e }, { k: kk, seed: initRng.nextU32(), maxIter: 20 });
      const cb = new Float32Array(ks[l] * e);
      cb.set(km.centroids);
      // Fewer rows than codes: the rest start as jittered copies of rows.
      for (let c = kk; c < ks[l]; c++) for (let j = 0; j < e; j++) cb[c * e + j] = resid[initRng.int(rows) * e + j] + 1e-3 * initRng.normal();
      const cbName = `rqvae_cb${l}_${initRng.nextU32()}`;
      codebooks.push(tf.tidy(() => tf.variable(tf.tensor2d(cb, [ks[l], e]), true, cbName)));
      const next = new Float32Array(resid.length);
      for (let i = 0; i < rows; i++) for (let j = 0; j < e; j++) next[i * e + j] = resid[i * e + j] - km.centroids[km.labels[i] * e + j];
      resid = next;
    }
    // EMA state: smoothed counts and sums of the residuals assigned to each code.
    const emaCount = ks.map((k) => new Float64Array(k).fill(1));
    const emaSum = codebooks.map((c) => Float64Array.from(c.dataSync() as Float32Array));
    const trainable: tf.Variable[] = [...encoder, ...decoder].flatMap((l) => (l.b ? [l.w, l.b] : [l.w]));
    if (!ema) trainable.push(...codebooks);
    for (let ep = 0; ep < epochs; ep++) {
      const usage = ks.map((k) => new Int32Array(k));
      let reconSum = 0;
      let vqSum = 0;
      let lastResiduals: Float32Array[] = [];
      const batches = epochBatches(n, bs, batchRng);
      for (const b of batches) {
        const xb = rowsTensor(x.data, d, b);
        const codesOut: tf.Tensor1D[] = [];
        const resOut: tf.Tensor2D[] = [];
        const cost = optimizer.minimize(() => {
          const z = encode(xb);
          let r = z;
          let qsum: tf.Tensor2D | null = null;
          let vq: tf.Scalar = tf.scalar(0);
          for (let l = 0; l < L; l++) {
            const cb = codebooks[l] as unknown as tf.Tensor2D;
            const idx = nearestCode(stopGradient(r) as tf.Tensor2D, stopGradient(cb) as tf.Tensor2D);
            codesOut.push(tf.keep(idx));
            resOut.push(tf.keep(stopGradient(r) as tf.Tensor2D));
            const q = matMul(tf.oneHot(idx, ks[l]).toFloat() as tf.Tensor2D, cb);
            const commit = tf.mean(tf.square(tf.sub(r, stopGradient(q))));
            if (ema) vq = tf.add(vq, tf.mul(beta, commit));
            else vq = tf.add(vq, tf.add(tf.mean(tf.square(tf.sub(stopGradient(r), q))), tf.mul(beta, commit)));
            const qst = tf.add(r, stopGradient(tf.sub(q, r))) as tf.Tensor2D;
            qsum = qsum ? (tf.add(qsum, qst) as tf.Tensor2D) : qst;
            r = tf.sub(r, stopGradient(q)) as tf.Tensor2D;
          }
          const recon = tf.mul(invScale, tf.mean(tf.square(tf.sub(decode(qsum!), xb)))) as tf.Scalar;
          reconSum += (recon.dataSync()[0] * b.length) / n;
          vqSum += (vq.dataSync()[0] * b.length) / n;
          return tf.add(recon, vq) as tf.Scalar;
        }, true, trainable);
        cost?.dispose();
        xb.dispose();
        for (let l = 0; l < L; l++) {
          const c = codesOut[l].dataSync();
          for (let i = 0; i < c.length; i++) usage[l][c[i]]++;
        }
        lastResiduals = resOut.map((t) => t.dataSync() as Float32Array);
        if (ema) {
          for (let l = 0; l < L; l++) {
            const c = codesOut[l].dataSync();
            const rr = lastResiduals[l];
            const cnt = new Float64Array(ks[l]);
            const sum = new Float64Array(ks[l] * e);
            for (let i = 0; i < c.length; i++) {
              cnt[c[i]]++;
              for (let j = 0; j < e; j++) sum[c[i] * e + j] += rr[i * e + j];
            }
            const cbNew = new Float32Array(ks[l] * e);
            for (let k = 0; k < ks[l]; k++) {
              emaCount[l][k] = decay * emaCount[l][k] + (1 - decay) * cnt[k];
              for (let j = 0; j < e; j++) {
                emaSum[l][k * e + j] = decay * emaSum[l][k * e + j] + (1 - decay) * sum[k * e + j];
                cbNew[k * e + j] = emaSum[l][k * e + j] / Math.max(emaCount[l][k], 1e-5);
              }
            }
            tf.tidy(() => codebooks[l].assign(tf.tensor2d(cbNew, [ks[l], e])));
          }
        }
        codesOut.forEach((t) => t.dispose());
        resOut.forEach((t) => t.dispose());
        await yielder.tick();
      }
      let dead = 0;
      for (let l = 0; l < L; l++) for (let c = 0; c < ks[l]; c++) if (usage[l][c] === 0) dead++;
      if ((opts.deadCodeReset ?? true) && dead > 0) {
        for (let l = 0; l < L; l++) {
          const cb = codebooks[l].dataSync() as Float32Array;
          const next = Float32Array.from(cb);
          const rows = lastResiduals[l].length / e;
          for (let c = 0; c < ks[l]; c++) {
            if (usage[l][c] > 0) continue;
            const src = resetRng.int(rows);
            for (let j = 0; j < e; j++) next[c * e + j] = lastResiduals[l][src * e + j] + 1e-3 * resetRng.normal();
            emaCount[l][c] = 1;
            for (let j = 0; j < e; j++) emaSum[l][c * e + j] = next[c * e + j];
          }
          tf.tidy(() => codebooks[l].assign(tf.tensor2d(next, [ks[l], e])));
        }
      }
      const rec = { recon: reconSum, vq: vqSum, deadCodes: dead };
      history.push(rec);
      opts.onEpoch?.(ep, rec);
    }
    const model: RqVaeModel = {
      k: ks,
      latentDim: e,
      encoder: encoder.map(exportDense),
      decoder: decoder.map(exportDense),
      codebooks: codebooks.map((c) => Float32Array.from(c.dataSync() as Float32Array)),
    };
    const { codes, reconstruction } = encodeRqVae(model, x);
    return { model, codes, reconstruction, history };
  } finally {
    optimizer.dispose();
    disposeDense(encoder);
    disposeDense(decoder);
    codebooks.forEach((c) => c.dispose());
  }
}

/** Codes (N x L, greedy residual quantisation of the latents) and decoder reconstructions. */
function encodeRqVae(model: RqVaeModel, x: Matrix, batchSize = 1024): { codes: Int32Array; reconstruction: Float32Array } {
  const n = x.rows;
  const d = x.cols;
  const L = model.k.length;
  const e = model.latentDim;
  if (model.encoder[0].inDim !== d) throw new Error(`lib/quantize/rqVae.ts encodeRqVae: x has ${d} columns, the model expects ${model.encoder[0].inDim}`);
  const codes = new Int32Array(n * L);
  const reconstruction = new Float32Array(n * d);
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    tf.tidy(() => {
      const xb = tf.tensor2d(x.data.subarray(s * d, (s + m) * d), [m, d]);
      let r = model.encoder.reduce((h, l, i) => applyWeights(h, l, i < model.encoder.length - 1), xb);
      let qsum: tf.Tensor2D = tf.zeros([m, e]);
      for (let l = 0; l < L; l++) {
        const cb = tf.tensor2d(model.codebooks[l], [model.k[l], e]);
        const idx = nearestCode(r, cb);
        const iv = idx.dataSync();
        for (let i = 0; i < m; i++) codes[(s + i) * L + l] = iv[i];
        const q = tf.gather(cb, idx) as tf.Tensor2D;
        qsum = tf.add(qsum, q);
        r = tf.sub(r, q);
      }
      const xh = model.decoder.reduce((h, l, i) => applyWeights(h, l, i < model.decoder.length - 1), qsum);
      reconstruction.set(xh.dataSync() as Float32Array, s * d);
    });
  }
  return { codes, reconstruction };
}
