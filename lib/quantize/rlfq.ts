/**
 * Residual lookup-free quantisation (LFQ of MAGVIT-v2, applied residually). Per level l:
 *   z_l = r_l W_l + b_l            (linear projection to log2(K) dims)
 *   q_l = sign(z_l) in {-1, +1}    (straight-through: gradient of q_l taken as that of z_l)
 *   code_l = bits of q_l as an integer (bit j = 1 when q_lj = +1; bit 0 is the most significant)
 *   xhat_l = q_l U_l               (learned back-projection to the input space)
 *   r_{l+1} = r_l - xhat_l
 * Choice: the residual is passed on back-projected, in the input space, so every level quantises
 * what the previous levels left of the embedding itself (as RQ-KMeans does) and the reconstruction
 * is mu + sum_l xhat_l.
 * The input is centred first (r_1 = x - mu, mu the column mean, kept in the model). Sign codes
 * that use the codebook have bits near zero mean, so sum_l q_l U_l cannot carry a shared offset:
 * trained on raw embeddings whose rows share a large common direction (unit-norm contrastive
 * embeddings do), the only way to reconstruct that direction is to give every item the same bits,
 * and the codebook collapses to one code.
 * Loss: ||x - mu - sum_l xhat_l||^2 / mean ||x - mu||^2 (a relative error, so the weights below
 * do not depend on the embedding's scale: with unit-norm 128-d embeddings a plain MSE is ~0.008
 * and the entropy terms took over, making level 2 a function of level 1), plus per level an
 * entropy term lambda (mean per-sample entropy - entropy of the batch-averaged code distribution) and a
 * commitment term gamma ||z_l - sg(q_l)||^2. The code distribution of a sample is the softmax of
 * -||z - c||^2 / tau over the 2^b corners c, which factorises over bits: p(bit j = +1) =
 * sigmoid(4 z_j / tau); the batch distribution over all K codes is built from the per-bit log
 * probabilities with one matmul against the K x b bit table.
 */
import { DeferredReads, DeviceYield, tf } from '../backend/index';
import { Rng } from '../util/random';
import { Matrix, checkMatrix, meanSquare, subtract } from './matrix';
import { Dense, DenseWeights, applyDense, denseLayer, disposeDense, epochBatches, exportDense, matMul, rowsTensor, stopGradient } from './nn';
import { levelSizes } from './rqKmeans';

export interface RlfqOptions {
  levels?: number;
  /** Codes per level, powers of two (default 256 = 8 bits). */
  k?: number | number[];
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate (default 3e-3). */
  learningRate?: number;
  /** Entropy regularisation weight (default 0.1). */
  entropyWeight?: number;
  /** Commitment weight (default 0.25). */
  commitmentWeight?: number;
  /** Temperature of the code distribution (default 1). */
  temperature?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: { recon: number; entropy: number }) => void;
}

export interface RlfqModel {
  k: number[];
  bits: number[];
  /** Column mean of the training input, removed before level 1 and added back in reconstructions. */
  mean: Float32Array;
  /** Per level: projection d -> bits. */
  project: DenseWeights[];
  /** Per level: back-projection bits -> d (no bias). */
  back: DenseWeights[];
}

export interface RlfqFit {
  model: RlfqModel;
  codes: Int32Array;
  reconstruction: Float32Array;
  /** Per epoch: mean relative reconstruction loss and regularisation. */
  history: { recon: number; entropy: number }[];
}

function bitsOf(k: number, where: string): number {
  const b = Math.round(Math.log2(k));
  if (2 ** b !== k || b < 1) throw new Error(`${where} (option k): ResidualLFQ needs powers of two >= 2, got ${k}`);
  return b;
}

/** K x b table of code bits as {0,1} (bit 0 most significant). */
function bitTable(b: number): Float32Array {
  const K = 2 ** b;
  const t = new Float32Array(K * b);
  for (let c = 0; c < K; c++) for (let j = 0; j < b; j++) t[c * b + j] = (c >> (b - 1 - j)) & 1;
  return t;
}

/** sign with sign(0) = +1, straight-through. */
function signST(z: tf.Tensor2D): tf.Tensor2D {
  const q = tf.sub(tf.mul(2, tf.cast(tf.greaterEqual(z, 0), 'float32')), 1);
  return tf.add(z, stopGradient(tf.sub(q, z))) as tf.Tensor2D;
}

export async function fitRlfq(x: Matrix, opts: RlfqOptions = {}): Promise<RlfqFit> {
  const where = 'lib/quantize/rlfq.ts fitRlfq';
  checkMatrix(x, where);
  const ks = levelSizes(opts.levels ?? 2, opts.k ?? 256, where);
  const bits = ks.map((k) => bitsOf(k, where));
  for (const [name, v] of [['epochs', opts.epochs], ['batchSize', opts.batchSize]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`${where} (option ${name}): expected a positive integer, got ${v}`);
  }
  const L = ks.length;
  const n = x.rows;
  const d = x.cols;
  const epochs = opts.epochs ?? 30;
  const bs = Math.min(opts.batchSize ?? 256, n);
  const lam = opts.entropyWeight ?? 0.1;
  const gamma = opts.commitmentWeight ?? 0.25;
  const tau = opts.temperature ?? 1;
  const rng = new Rng(opts.seed ?? 0);
  const initRng = rng.fork('init');
  const batchRng = rng.fork('batches');
  const mean = columnMean(x);
  const xc = subtract(x, tileRows(mean, n));
  // Relative to the centred input's energy: the part of x the codes have to explain.
  const invScale = 1 / Math.max(1e-12, meanSquare(xc));
  // Projections start with latents of unit RMS on the centred input, the scale of the +-1 codes:
  // Glorot weights give latents of RMS ~0.1 on unit-norm embeddings, and the commitment term then
  // pulls every latent towards +-1 through the shared bias, which gives all items the same bits.
  const project: Dense[] = bits.map((b, l) => denseLayer(initRng, d, b, `rlfq_p${l}`, true, unitLatentScale(d, b, meanSquare(xc))));
  // Back-projections start at zero: the first reconstruction is 0 (relative error 1), and U learns
  // the least-squares map from the sign bits before the projections move.
  const back: Dense[] = bits.map((b, l) => denseLayer(initRng, b, d, `rlfq_u${l}`, false, 0));
  const tables = bits.map((b) => tf.tensor2d(bitTable(b), [2 ** b, b]));
  const tablesT = tables.map((t) => tf.transpose(t) as tf.Tensor2D);
  const optimizer = tf.train.adam(opts.learningRate ?? 3e-3);
  const history: RlfqFit['history'] = [];
  const reads = new DeferredReads();
  const yielder = new DeviceYield();
  try {
    for (let ep = 0; ep < epochs; ep++) {
      let reconSum = 0;
      let entSum = 0;
      for (const b of epochBatches(n, bs, batchRng)) {
        const xb = rowsTensor(xc.data, d, b);
        const cost = optimizer.minimize(() => {
          let r: tf.Tensor2D = xb;
          let xhat: tf.Tensor2D | null = null;
          let reg: tf.Scalar = tf.scalar(0);
          for (let l = 0; l < L; l++) {
            const z = applyDense(r, project[l], false);
            const q = signST(z);
            const part = matMul(q, back[l].w as unknown as tf.Tensor2D);
            xhat = xhat ? (tf.add(xhat, part) as tf.Tensor2D) : part;
            r = tf.sub(r, part) as tf.Tensor2D;
            // Entropy terms from per-bit probabilities.
            const logits = tf.mul(4 / tau, z);
            // log p(bit = 1) = -softplus(-a), log p(bit = 0) = -softplus(a) (tf.logSigmoid's
            // gradient fails on disposed tensors inside optimizer.minimize here).
            const logP = tf.neg(tf.softplus(tf.neg(logits))) as tf.Tensor2D;
            const logQ = tf.neg(tf.softplus(logits)) as tf.Tensor2D;
            const p = tf.exp(logP);
            const perSample = tf.mean(tf.sum(tf.neg(tf.add(tf.mul(p, logP), tf.mul(tf.sub(1, p), logQ))), 1));
            // log q(c) = sum_j bit_cj logP_j + (1 - bit_cj) logQ_j = logQ.sum + (logP - logQ) . bits_c
            const logCode = tf.add(tf.sum(logQ, 1, true), matMul(tf.sub(logP, logQ) as tf.Tensor2D, tablesT[l]));
            const avg = tf.mean(tf.exp(logCode), 0);
            const batchEnt = tf.neg(tf.sum(tf.mul(avg, tf.log(tf.add(avg, 1e-12)))));
            const commit = tf.mean(tf.square(tf.sub(z, stopGradient(q))));
            reg = tf.add(reg, tf.add(tf.mul(lam, tf.sub(perSample, batchEnt)), tf.mul(gamma, commit)));
          }
          const recon = tf.mul(invScale, tf.mean(tf.square(tf.sub(xb, xhat!)))) as tf.Scalar;
          // Read once per epoch, in batch order: the same sums as a read per batch.
          reads.add(tf.keep(recon), (v) => { reconSum += (v[0] * b.length) / n; });
          reads.add(tf.keep(reg), (v) => { entSum += (v[0] * b.length) / n; });
          return tf.add(recon, reg) as tf.Scalar;
        }, true);
        cost?.dispose();
        xb.dispose();
        await yielder.tick();
      }
      reads.flush();
      const rec = { recon: reconSum, entropy: entSum };
      history.push(rec);
      opts.onEpoch?.(ep, rec);
    }
    const model: RlfqModel = { k: ks, bits, mean, project: project.map(exportDense), back: back.map(exportDense) };
    const { codes, reconstruction } = encodeRlfq(model, x);
    return { model, codes, reconstruction, history };
  } finally {
    reads.dispose();
    optimizer.dispose();
    disposeDense(project);
    disposeDense(back);
    tables.forEach((t) => t.dispose());
    tablesT.forEach((t) => t.dispose());
  }
}

/** denseLayer's scale that gives x W entries of unit RMS (Glorot-uniform weights have variance 2 / (d + b)). */
function unitLatentScale(d: number, b: number, meanSquareX: number): number {
  return 1 / Math.sqrt(Math.max(1e-12, (d * meanSquareX * 2) / (d + b)));
}

function columnMean(x: Matrix): Float32Array {
  const m = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) m[j] += x.data[i * x.cols + j];
  return Float32Array.from(m, (v) => v / Math.max(1, x.rows));
}

function tileRows(row: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * row.length);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

/** Codes (N x L) and reconstructions mu + sum_l q_l U_l, computed in typed arrays. */
export function encodeRlfq(model: RlfqModel, x: Matrix): { codes: Int32Array; reconstruction: Float32Array } {
  const n = x.rows;
  const d = x.cols;
  const L = model.k.length;
  if (model.project[0].inDim !== d) throw new Error(`lib/quantize/rlfq.ts encodeRlfq: x has ${d} columns, the model expects ${model.project[0].inDim}`);
  const codes = new Int32Array(n * L);
  const reconstruction = new Float32Array(n * d);
  const r = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      r[j] = x.data[i * d + j] - model.mean[j];
      reconstruction[i * d + j] = model.mean[j];
    }
    for (let l = 0; l < L; l++) {
      const P = model.project[l];
      const U = model.back[l];
      const b = model.bits[l];
      let code = 0;
      const q = new Int8Array(b);
      for (let t = 0; t < b; t++) {
        let z = P.b ? P.b[t] : 0;
        for (let j = 0; j < d; j++) z += r[j] * P.w[j * b + t];
        q[t] = z >= 0 ? 1 : -1;
        code = code * 2 + (q[t] > 0 ? 1 : 0);
      }
      // All bits of a level come from the same residual; then the back-projection is removed.
      for (let t = 0; t < b; t++) {
        for (let j = 0; j < d; j++) {
          const v = q[t] * U.w[t * d + j];
          r[j] -= v;
          reconstruction[i * d + j] += v;
        }
      }
      codes[i * L + l] = code;
    }
  }
  return { codes, reconstruction };
}
